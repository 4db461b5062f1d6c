"""Segment runs on the real worker, started as the lead's Run now button starts them."""

from segments import services
from segments.models import Segmentation, SegmentRun


def run_on_worker(segmentation: Segmentation, wait_until, *, timeout: int) -> SegmentRun:
    """The finished run, asserted to have succeeded; ``wait_until`` is the fixture."""
    run = services.start_segment_run(segmentation=segmentation)
    finished = wait_until(
        lambda: SegmentRun.objects.filter(pk=run.pk, state__in=SegmentRun.FINISHED_STATES).first(),
        timeout=timeout,
        what="the worker to finish the segment run",
    )
    assert finished.state == SegmentRun.State.SUCCEEDED, finished.error
    return finished
