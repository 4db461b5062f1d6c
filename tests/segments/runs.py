"""Shared steps of the segmentation tests: import the planted customers through the CSV import,
and run a segmentation now with its on-commit job executed in the test."""

import io
from datetime import date

from segments import services
from segments.models import Segmentation, SegmentRun
from tests.segments.planted import PlantedData, planted_customers
from tickets.services.imports import import_csv

AS_OF = date(2025, 6, 30)


def import_planted(*, per_group: int) -> PlantedData:
    data = planted_customers(per_group=per_group, as_of=AS_OF)
    for kind, payload in (
        ("customers", data.customers_csv),
        ("purchases", data.purchases_csv),
        ("tickets", data.tickets_csv),
    ):
        result = import_csv(kind=kind, source=io.BytesIO(payload))
        assert result.written, result.errors
    return data


def run_now(slug: str, capture, as_of: date = AS_OF) -> SegmentRun:
    """``capture`` is the django_capture_on_commit_callbacks fixture."""
    segmentation = Segmentation.objects.get(slug=slug)
    with capture(execute=True):
        run = services.start_segment_run(segmentation=segmentation, as_of=as_of)
    run.refresh_from_db()
    return run


def succeeded_run(slug: str, capture, as_of: date = AS_OF) -> SegmentRun:
    run = run_now(slug, capture, as_of)
    assert run.state == SegmentRun.State.SUCCEEDED, run.error
    return run
