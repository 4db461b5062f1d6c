from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tickets import services
from tickets.models import Mailbox


class Command(BaseCommand):
    help = (
        "Ingest raw RFC 822 message files into a mailbox, printing one line per file: "
        "the file, the ticket number and the outcome."
    )

    def add_arguments(self, parser):
        parser.add_argument("--mailbox", required=True, help="slug of the receiving mailbox")
        parser.add_argument("files", nargs="+", type=Path)

    def handle(self, *args, mailbox: str, files: list[Path], **options):
        target = Mailbox.objects.filter(slug=mailbox).first()
        if target is None:
            raise CommandError(f"No mailbox with slug {mailbox!r}.")
        unreadable = 0
        for path in files:
            try:
                raw = path.read_bytes()
            except OSError as error:
                unreadable += 1
                self.stderr.write(f"{path}\t-\tunreadable: {error.strerror}")
                continue
            result = services.ingest_email(mailbox=target, raw=raw)
            number = f"#{result.ticket.number}" if result.ticket else "-"
            self.stdout.write(f"{path}\t{number}\t{result.outcome.value}")
        if unreadable:
            raise CommandError(f"{unreadable} file(s) could not be read.")
