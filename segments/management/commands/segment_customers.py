from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from segments import services
from segments.models import Segmentation, SegmentRun


class Command(BaseCommand):
    help = "Start a segment run for one segmentation (default: every enabled one)."

    def add_arguments(self, parser):
        parser.add_argument("--segmentation", metavar="SLUG")
        parser.add_argument("--as-of", metavar="YYYY-MM-DD", type=_date)
        parser.add_argument(
            "--sync", action="store_true", help="Run here and now, printing the progress."
        )

    def handle(self, *args, segmentation=None, as_of=None, sync=False, **options):
        chosen = Segmentation.objects.filter(enabled=True)
        if segmentation:
            chosen = Segmentation.objects.filter(slug=segmentation)
            if not chosen.exists():
                raise CommandError(f"No segmentation with the slug {segmentation!r}.")
        failed = False
        for item in chosen:
            try:
                run = self._start(item, as_of, sync)
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from error
            failed = failed or run.state == SegmentRun.State.FAILED
        if failed:
            raise CommandError("At least one run failed.")

    def _start(self, segmentation: Segmentation, as_of: date | None, sync: bool) -> SegmentRun:
        if not sync:
            run = services.start_segment_run(segmentation=segmentation, as_of=as_of)
            self.stdout.write(f"{segmentation.slug}: run #{run.pk} queued")
            return run
        run = services.start_segment_run(segmentation=segmentation, as_of=as_of, enqueue=False)
        run = services.execute_segment_run(run_id=run.pk, on_progress=self._print_progress)
        if run.state == SegmentRun.State.FAILED:
            self.stderr.write(f"{segmentation.slug}: run #{run.pk} failed: {run.error}")
        else:
            seconds = ", ".join(f"{k} {v:.1f}s" for k, v in run.stage_seconds.items())
            self.stdout.write(
                f"{segmentation.slug}: run #{run.pk} succeeded: {run.customer_count} customers "
                f"in {len(run.explanation)} segments ({seconds})"
            )
        return run

    def _print_progress(self, stage: str, percent: int) -> None:
        self.stdout.write(f"  {percent:3d}% {stage}")


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of: {value!r} is not a date like 2025-06-30.") from None
