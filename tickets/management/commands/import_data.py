from django.core.management.base import BaseCommand, CommandError

from tickets.services import import_csv
from tickets.services.imports import IMPORT_KINDS


class Command(BaseCommand):
    help = (
        "Import a CSV file of customers, purchases or tickets (see README, 'CSV imports'). "
        "A file with errors imports nothing unless --skip-invalid is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(IMPORT_KINDS))
        parser.add_argument("file")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the valid rows and report the invalid ones.",
        )

    def handle(self, *args, kind: str, file: str, skip_invalid: bool, **options):
        try:
            source = open(file, "rb")  # noqa: SIM115 - closed below, after both passes
        except OSError as error:
            raise CommandError(f"cannot open {file}: {error.strerror}") from error
        with source:
            result = import_csv(
                kind=kind, source=source, skip_invalid=skip_invalid, progress=self._progress
            )
        self.stdout.write(
            f"{kind}: {result.total_rows} rows, created={result.created} "
            f"updated={result.updated} invalid={result.invalid_rows}"
        )
        for line in result.error_lines():
            self.stderr.write(line)
        if not result.written:
            raise CommandError("the file has errors; nothing was imported", returncode=1)

    def _progress(self, phase: str, done: int, total: int) -> None:
        self.stdout.write(f"{phase}: {done}/{total} rows" if total else f"{phase}: {done} rows")
