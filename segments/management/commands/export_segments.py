import csv

from django.core.management.base import BaseCommand, CommandError

from segments.models import Segmentation
from segments.selectors import export_rows

HEADER = (
    "customer_external_id",
    "customer_email",
    "segmentation",
    "segment",
    "r_score",
    "f_score",
    "m_score",
    "recency_days",
    "frequency",
    "monetary",
)


class Command(BaseCommand):
    help = "Write every customer's current segment as CSV to stdout."

    def add_arguments(self, parser):
        parser.add_argument("--segmentation", metavar="SLUG")

    def handle(self, *args, segmentation=None, **options):
        if segmentation and not Segmentation.objects.filter(slug=segmentation).exists():
            raise CommandError(f"No segmentation with the slug {segmentation!r}.")
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(export_rows(segmentation_slug=segmentation))
