"""Reads behind the segment pages, each a constant number of queries.

A run keeps its sizes (``quality["sizes"]``), explanation and drift report keyed by segment id,
and only the current and the previous run keep their memberships, so trends over runs are read
from the runs' stored sizes, never by counting memberships.
"""

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import OuterRef, Q, QuerySet, Subquery

from segments.models import Membership, Segment, Segmentation, SegmentProfileRevision, SegmentRun
from tickets.models import Team
from tickets.selectors import Page, page_of

TREND_RUNS = 12
MEMBERS_PER_PAGE = 50
REVISIONS_SHOWN = 20
EXPORT_CHUNK = 5_000
EXPORT_HEADER = (
    "customer_id",
    "customer_external_id",
    "customer_email",
    "customer_name",
    "segmentation",
    "segment",
    "r_score",
    "f_score",
    "m_score",
    "recency_days",
    "frequency",
    "monetary",
)
# The stored results a run's summary row does not need; the quality report is kept for sizes.
HEAVY_RUN_FIELDS = ("explanation", "centroids", "drift")


@dataclass(frozen=True)
class SegmentationRow:
    segmentation: Segmentation
    last_run: SegmentRun | None

    @property
    def size(self) -> int:
        run = self.segmentation.current_run
        return run.customer_count if run else 0


def segmentation_rows() -> list[SegmentationRow]:
    latest = SegmentRun.objects.filter(segmentation=OuterRef("pk")).values("pk")[:1]
    segmentations = list(
        Segmentation.objects.select_related("current_run")
        .defer(*(f"current_run__{name}" for name in (*HEAVY_RUN_FIELDS, "quality")))
        .annotate(last_run_id=Subquery(latest))
    )
    last_runs = SegmentRun.objects.defer(*HEAVY_RUN_FIELDS, "quality").in_bulk(
        [s.last_run_id for s in segmentations if s.last_run_id]
    )
    return [SegmentationRow(s, last_runs.get(s.last_run_id)) for s in segmentations]


@dataclass(frozen=True)
class TrendPoint:
    run: SegmentRun
    size: int


@dataclass
class SegmentSummary:
    segment: Segment
    size: int | None = None  # None: not in the current run
    share: float | None = None
    small: bool = False
    rules: list[dict] = field(default_factory=list)
    traits: list[str] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)

    @property
    def trend_sizes(self) -> list[int]:
        return [point.size for point in self.trend]


@dataclass(frozen=True)
class SegmentationPage:
    segmentation: Segmentation
    last_run: SegmentRun | None
    segments: list[SegmentSummary]
    trend_runs: list[SegmentRun]


def segmentation_page(*, slug: str) -> SegmentationPage:
    """Raises Segmentation.DoesNotExist."""
    segmentation = Segmentation.objects.select_related("current_run").get(slug=slug)
    segments = list(segmentation.segments.select_related("team"))
    trend_runs = _trend_runs(segmentation)
    summaries = [_summary(segment, segmentation.current_run, trend_runs) for segment in segments]
    summaries.sort(key=lambda s: (s.size is None, -(s.size or 0), s.segment.position))
    return SegmentationPage(
        segmentation=segmentation,
        last_run=segmentation.runs.defer(*HEAVY_RUN_FIELDS, "quality").first(),
        segments=summaries,
        trend_runs=trend_runs,
    )


def _trend_runs(segmentation: Segmentation) -> list[SegmentRun]:
    """The last ``TREND_RUNS`` succeeded runs, oldest first."""
    runs = segmentation.runs.filter(state=SegmentRun.State.SUCCEEDED).only(
        "pk", "segmentation_id", "as_of", "finished_at", "customer_count", "quality"
    )
    return list(reversed(runs[:TREND_RUNS]))


def _summary(
    segment: Segment, run: SegmentRun | None, trend_runs: list[SegmentRun]
) -> SegmentSummary:
    key = str(segment.pk)
    trend = [TrendPoint(r, r.quality.get("sizes", {}).get(key, 0)) for r in trend_runs]
    if run is None or key not in run.quality.get("sizes", {}):
        return SegmentSummary(segment, trend=trend)
    explained = run.explanation.get(key, {})
    return SegmentSummary(
        segment,
        size=run.quality["sizes"][key],
        share=run.quality.get("shares", {}).get(key),
        small=key in run.quality.get("small_segments", []),
        rules=explained.get("rules", []),
        traits=explained.get("traits", []) or segment.proposed_traits,
        trend=trend,
    )


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class RevisionEntry:
    revision: SegmentProfileRevision
    changes: list[Change]


@dataclass(frozen=True)
class SegmentPage:
    summary: SegmentSummary
    run: SegmentRun | None
    history: list[RevisionEntry]

    @property
    def segment(self) -> Segment:
        return self.summary.segment


def segment_page(*, segment_id: int) -> SegmentPage:
    """Raises Segment.DoesNotExist."""
    segment = Segment.objects.select_related("segmentation__current_run", "team").get(pk=segment_id)
    run = segment.segmentation.current_run
    trend_runs = _trend_runs(segment.segmentation)
    revisions = list(segment.revisions.select_related("editor")[:REVISIONS_SHOWN])
    return SegmentPage(_summary(segment, run, trend_runs), run, _history(revisions))


def _history(revisions: list[SegmentProfileRevision]) -> list[RevisionEntry]:
    """Revisions with their changes in words; team ids become team names (one query)."""
    team_ids = {
        value
        for revision in revisions
        for value in revision.changes.get("team", [])
        if isinstance(value, int)
    }
    teams = Team.objects.in_bulk(team_ids) if team_ids else {}
    entries = []
    for revision in revisions:
        changes = [
            Change(
                field.replace("_", " "),
                _change_text(field, old, teams),
                _change_text(field, new, teams),
            )
            for field, (old, new) in revision.changes.items()
        ]
        entries.append(RevisionEntry(revision, changes))
    return entries


def _change_text(field: str, value, teams: dict) -> str:
    if value in (None, "", []):
        return "—"
    if field == "team":
        team = teams.get(value)
        return team.name if team else f"team #{value}"
    if isinstance(value, list):
        return "; ".join(
            " ".join(str(v) for v in item.values()) if isinstance(item, dict) else str(item)
            for item in value
        )
    return str(value)


def segment_members(*, segment: Segment, query: str = "") -> QuerySet:
    """The segment's members in its segmentation's current run, matching ``query``."""
    members = Membership.objects.filter(run_id=segment.segmentation.current_run_id, segment=segment)
    if query:
        members = members.filter(
            Q(customer__name__icontains=query) | Q(customer__email__icontains=query)
        )
    return members.order_by("customer__name", "customer_id")


def segment_members_page(*, segment: Segment, query: str = "", number: int = 1) -> Page:
    """A page of members, never counted: one row beyond the page says whether a next page
    exists (a segment may hold a million); the segment's size is the run's stored figure."""
    members = segment_members(segment=segment, query=query).select_related("customer__organisation")
    rows, has_next = page_of(members, number=number, size=MEMBERS_PER_PAGE)
    return Page(rows=rows, number=number, has_next=has_next)


def segment_members_csv(*, segment: Segment, query: str = "") -> Iterator[str]:
    """The members as CSV lines, header first, read from the database in chunks."""
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_HEADER)
    rows = segment_members(segment=segment, query=query).values_list(
        "customer_id",
        "customer__external_id",
        "customer__email",
        "customer__name",
        *("r_score", "f_score", "m_score", "recency_days", "frequency", "monetary"),
    )
    names = (segment.segmentation.slug, segment.label)
    for row in rows.iterator(chunk_size=EXPORT_CHUNK):
        values = (*row[:4], *names, *row[4:])
        yield writer.writerow(["" if value is None else value for value in values])


class _Echo:
    """A file whose write returns the line, so csv.writer.writerow hands back each row."""

    def write(self, line: str) -> str:
        return line


@dataclass(frozen=True)
class Flow:
    source: Segment | None  # None: a segment deleted since
    target: Segment | None
    count: int


@dataclass(frozen=True)
class RunReport:
    run: SegmentRun
    sizes: list[SegmentSummary]
    flows: list[Flow]


def run_report(*, run_id: int) -> RunReport:
    """Raises SegmentRun.DoesNotExist."""
    run = SegmentRun.objects.select_related("segmentation", "requested_by").get(pk=run_id)
    flows = run.drift.get("flows", [])
    sizes = run.quality.get("sizes", {})
    ids = {int(pk) for pk in sizes} | {int(f[end]) for f in flows for end in ("from", "to")}
    segments = Segment.objects.in_bulk(ids)
    summaries = [
        SegmentSummary(
            segments[int(pk)],
            size=size,
            share=run.quality.get("shares", {}).get(pk),
            small=pk in run.quality.get("small_segments", []),
        )
        for pk, size in sizes.items()
        if int(pk) in segments
    ]
    summaries.sort(key=lambda s: -(s.size or 0))
    return RunReport(
        run=run,
        sizes=summaries,
        flows=[Flow(segments.get(f["from"]), segments.get(f["to"]), f["count"]) for f in flows],
    )


def recent_runs(*, segmentation: Segmentation, limit: int = 10) -> list[SegmentRun]:
    return list(
        segmentation.runs.select_related("requested_by").defer(*HEAVY_RUN_FIELDS, "quality")[:limit]
    )
