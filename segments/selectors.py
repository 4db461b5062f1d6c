"""Reads shared by pages, the API and the providers registered with ``tickets.extensions``."""

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pandas as pd
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from helpdesk.snapshots import Snapshot
from segments import rules
from segments.features import load_feature_frame
from segments.models import Membership, Segment, Segmentation
from tickets.extensions import Badge, CustomerFilter, Panel, customer_badges

PREVIEW_FRAME_SECONDS = 600
SEGMENT_FILTER_PARAM = "segment"
EXPORT_CHUNK = 5_000

_preview = threading.local()


def current_memberships() -> QuerySet:
    """Memberships of every segmentation's current run: the badges customers carry now."""
    current_runs = Segmentation.objects.filter(current_run__isnull=False).values("current_run")
    return Membership.objects.filter(run_id__in=current_runs)


@dataclass(frozen=True)
class CurrentSegments:
    """What every agent page needs of the current runs, kept per process (helpdesk.snapshots)."""

    run_ids: tuple[int, ...]
    filter_choices: tuple[tuple[str, str], ...]  # ("segmentation/segment", label)


def _build_current_segments() -> CurrentSegments:
    runs = Segmentation.objects.filter(current_run__isnull=False)
    return CurrentSegments(
        run_ids=tuple(runs.values_list("current_run_id", flat=True)),
        filter_choices=tuple(
            (
                f"{segment.segmentation.slug}/{segment.slug}",
                f"{segment.segmentation.name}: {segment.label}",
            )
            for segment in current_segments()
        ),
    )


CURRENT_SEGMENTS = Snapshot("segments-current", _build_current_segments)


def watch_changes() -> None:
    """Called once from SegmentsConfig.ready(): a run made current, a segment renamed."""
    CURRENT_SEGMENTS.watch(Segmentation, Segment)


def badges_by_customer(customer_ids: Sequence[int]) -> dict[int, list[Badge]]:
    run_ids = CURRENT_SEGMENTS.get().run_ids
    if not run_ids:
        return {}
    memberships = (
        Membership.objects.filter(run_id__in=run_ids, customer_id__in=list(customer_ids))
        .select_related("segment__segmentation")
        .order_by("customer_id", "segment__segmentation__name")
    )
    badges: dict[int, list[Badge]] = {}
    by_segment: dict[int, Badge] = {}
    for membership in memberships:
        if membership.segment_id not in by_segment:  # one URL to reverse per segment, not per row
            by_segment[membership.segment_id] = badge_for(membership.segment)
        badges.setdefault(membership.customer_id, []).append(by_segment[membership.segment_id])
    return badges


def badge_for(segment: Segment) -> Badge:
    return Badge(
        group=segment.segmentation.name,
        group_slug=segment.segmentation.slug,
        label=segment.label,
        slug=segment.slug,
        colour=segment.colour,
        traits=tuple(segment.traits),
        notes=segment.notes,
        team_id=segment.team_id,
        url=reverse("segments:segment", args=[segment.pk]),
    )


def customer_segments_panel(customer, user) -> Panel | None:
    """Shown on the customer's page and, as a customer panel, beside each of their tickets,
    with the badges the page read for the customer card (segments is their only provider)."""
    badges = customer_badges(customer)
    if not badges:
        return None
    return Panel(
        title="Segments",
        template="segments/partials/segment_panel.html",
        context={"badges": badges},
        order=20,
    )


def segment_filter_choices() -> list[tuple[str, str]]:
    """``segmentation/segment`` values of the segments in current runs."""
    return list(CURRENT_SEGMENTS.get().filter_choices)


def current_segments() -> QuerySet:
    """The segments that have members in their segmentation's current run."""
    runs = Segmentation.objects.filter(current_run__isnull=False).values_list(
        "current_run__explanation", flat=True
    )
    ids = [int(pk) for explanation in runs for pk in explanation]
    return (
        Segment.objects.filter(pk__in=ids)
        .select_related("segmentation")
        .order_by("segmentation__name", "position", "pk")
    )


def customers_in_segment(value: str) -> QuerySet:
    """Customer ids in ``segmentation/segment`` now; an unknown value matches nobody."""
    segmentation_slug, _, segment_slug = value.partition("/")
    return (
        current_memberships()
        .filter(segment__segmentation__slug=segmentation_slug, segment__slug=segment_slug)
        .values_list("customer_id", flat=True)
    )


SEGMENT_FILTER = CustomerFilter(
    param=SEGMENT_FILTER_PARAM,
    label="Segment",
    choices=segment_filter_choices,
    customer_ids=customers_in_segment,
)


def preview_frame() -> pd.DataFrame:
    """Today's feature frame, rebuilt at most every ``PREVIEW_FRAME_SECONDS`` per thread.

    A live preview asks on every keystroke; building the frame costs seconds at scale.
    """
    today = timezone.localdate()
    cached = getattr(_preview, "entry", None)
    if cached is None or cached[0] != today or time.monotonic() - cached[1] > PREVIEW_FRAME_SECONDS:
        _preview.entry = (today, time.monotonic(), load_feature_frame(as_of=today))
    return _preview.entry[2]


def preview_rule_segment(*, criteria: list[dict], match: str) -> int:
    """How many customers the criteria match now (ValidationError on bad criteria)."""
    return int(rules.matches(preview_frame(), criteria, match).sum())


def export_rows(*, segmentation_slug: str | None = None) -> Iterator[tuple]:
    """Current memberships as export rows; RFM columns are empty for other kinds."""
    memberships = current_memberships().order_by("run__segmentation__slug", "customer_id")
    if segmentation_slug:
        memberships = memberships.filter(run__segmentation__slug=segmentation_slug)
    columns = (
        "customer__external_id",
        "customer__email",
        "run__segmentation__slug",
        "segment_id",
        *("r_score", "f_score", "m_score", "recency_days", "frequency", "monetary"),
    )
    labels = {segment.pk: segment.label for segment in current_segments()}
    for row in memberships.values_list(*columns).iterator(chunk_size=EXPORT_CHUNK):
        yield tuple(
            "" if value is None else value for value in (*row[:3], labels[row[3]], *row[4:])
        )
