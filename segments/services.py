"""Segment runs, segment profiles and rule-based segments: every write of the segments app."""

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify

from helpdesk.audit import record_change
from helpdesk.db import copy_frame
from helpdesk.jobs import enqueue_on_commit, heartbeat_cutoff, stopped_responding
from helpdesk.models import User
from segments import clustering, explain, features, quality, rfm, rules
from segments.models import Membership, Segment, Segmentation, SegmentProfileRevision, SegmentRun
from segments.selectors import preview_frame
from tickets.models import Team
from tickets.services import reroute_open_tickets

logger = logging.getLogger(__name__)

WRITE_BATCH = 5_000
COPY_BATCH = 250_000
# A queued run has no worker to report progress yet; this long without one, its message was lost.
RUN_QUEUE_TIMEOUT = timedelta(hours=1)
QUEUE_HOURS = RUN_QUEUE_TIMEOUT.total_seconds() / 3600
NEVER_STARTED = f"No worker started the run within {QUEUE_HOURS:g} h — start it again."
MAX_DRIFT_FLOWS = 50
REROUTE_CAUSE = "segment changed"
PALETTE = ("#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#4d7c0f")
MEMBERSHIP_COLUMNS = (
    "run_id",
    "segment_id",
    "customer_id",
    "r_score",
    "f_score",
    "m_score",
    "recency_days",
    "frequency",
    "monetary",
)
PROFILE_FIELDS = (
    "name",
    "colour",
    "description",
    "key_traits",
    "needs",
    "support_preference",
    "value_to_business",
    "notes",
    "team",
)


class RunFailed(Exception):
    """A problem with the data or the settings, reported to the lead as the run's error."""


class RunAbandoned(Exception):
    """The sweeper failed the run while its worker was still computing: the results are dropped."""


# -- starting and executing runs ------------------------------------------------------------


@transaction.atomic
def start_segment_run(
    *,
    segmentation: Segmentation,
    as_of: date | None = None,
    requested_by: User | None = None,
    enqueue: bool = True,
) -> SegmentRun:
    """Queue a run (for a worker unless ``enqueue`` is false, when the caller executes it);
    refused while another run of the segmentation is queued or running, unless that one is
    stalled (``fail_stalled_runs``)."""
    Segmentation.objects.select_for_update().get(pk=segmentation.pk)
    fail_stalled_runs(segmentation=segmentation)
    busy = segmentation.runs.filter(state__in=(SegmentRun.State.QUEUED, SegmentRun.State.RUNNING))
    if busy.exists():
        raise ValidationError(f"A run of {segmentation.name} is already queued or running.")
    run = SegmentRun.objects.create(
        segmentation=segmentation,
        as_of=as_of or timezone.localdate(),
        requested_by=requested_by,
    )
    if enqueue:
        from segments.tasks import execute_segment_run_task

        enqueue_on_commit(execute_segment_run_task, run.pk)
    return run


def start_scheduled_runs() -> list[SegmentRun]:
    """The nightly job: a run for every enabled segmentation on the nightly schedule."""
    started = []
    due = Segmentation.objects.filter(enabled=True, schedule=Segmentation.Schedule.NIGHTLY)
    for segmentation in due:
        try:
            started.append(start_segment_run(segmentation=segmentation))
        except ValidationError:
            logger.info("segmentation %s is already running; skipped", segmentation.slug)
    return started


@transaction.atomic
def fail_stalled_runs(*, segmentation: Segmentation | None = None) -> list[int]:
    """Mark failed the runs whose worker is gone: running without progress for
    ``JOB_HEARTBEAT_TIMEOUT`` seconds, or queued for ``RUN_QUEUE_TIMEOUT``; returns their ids.
    The segmentation's current run stays current, and a new run may start at once."""
    now = timezone.now()
    stalled = (
        # A run locked by its write-back is alive, however long its last stage takes.
        SegmentRun.objects.select_for_update(skip_locked=True)
        .alias(last_progress=Coalesce("heartbeat_at", "started_at"))
        .filter(
            Q(state=SegmentRun.State.RUNNING, last_progress__lt=heartbeat_cutoff())
            | Q(state=SegmentRun.State.QUEUED, created_at__lt=now - RUN_QUEUE_TIMEOUT)
        )
        .only("pk", "state", "progress")
    )
    if segmentation is not None:
        stalled = stalled.filter(segmentation=segmentation)
    failed = []
    for run in stalled:
        running = run.state == SegmentRun.State.RUNNING
        SegmentRun.objects.filter(pk=run.pk).update(
            state=SegmentRun.State.FAILED,
            error=stopped_responding(run.progress) if running else NEVER_STARTED,
            finished_at=now,
        )
        failed.append(run.pk)
    return failed


@dataclass
class Outcome:
    """What the computing stages produce and write-back stores."""

    customer_ids: np.ndarray
    keys: np.ndarray  # per customer: a key of ``segments``
    segments: dict  # key -> SegmentPlan
    k: int | None = None
    fidelity: float | None = None
    quality: dict = field(default_factory=dict)
    centroid_columns: list[str] = field(default_factory=list)
    rfm: pd.DataFrame | None = None


@dataclass
class SegmentPlan:
    """The segment a key becomes: an existing one (``segment_id``) or a new one (``slug``)."""

    slug: str
    segment_id: int | None = None
    proposed_name: str = ""
    proposed_description: str = ""
    proposed_traits: list[str] = field(default_factory=list)
    rules: list[dict] = field(default_factory=list)
    centroid: list[float] | None = None


def execute_segment_run(
    *, run_id: int, on_progress: Callable[[str, int], None] | None = None
) -> SegmentRun:
    """Compute and store a run, then make it current; a finished run is returned unchanged.

    ``on_progress(stage, percent)`` is told what the run shows in the browser.
    """
    run = _claim(run_id)
    if run.is_finished:
        return run
    timer = _StageTimer(run, on_progress or (lambda stage, percent: None))
    try:
        with timer.stage("features", 5, 40):
            frame = features.load_feature_frame(as_of=run.as_of)
        previous = _previous_labels(run.segmentation)
        outcome = _compute(run, frame, timer)
        with timer.stage("write-back", 80, 100):
            movers = _write_and_switch(run, outcome, previous)
    except RunAbandoned:
        logger.warning("segment run %s was failed as stalled while it ran; dropped", run_id)
        return SegmentRun.objects.get(pk=run.pk)
    except Exception as error:
        logger.exception("segment run %s failed", run_id)
        return _fail(run, error)
    reroute_open_tickets(customer_ids=movers, cause=REROUTE_CAUSE)
    return SegmentRun.objects.get(pk=run.pk)


@transaction.atomic
def _claim(run_id: int) -> SegmentRun:
    run = SegmentRun.objects.select_for_update().select_related("segmentation").get(pk=run_id)
    if run.is_finished:
        return run
    run.state, run.progress, run.stage, run.error = SegmentRun.State.RUNNING, 0, "starting", ""
    run.started_at = run.heartbeat_at = timezone.now()
    run.save(update_fields=["state", "progress", "stage", "error", "started_at", "heartbeat_at"])
    return run


def _fail(run: SegmentRun, error: Exception) -> SegmentRun:
    message = str(error) if isinstance(error, RunFailed) else f"{type(error).__name__}: {error}"
    SegmentRun.objects.filter(pk=run.pk, state=SegmentRun.State.RUNNING).update(
        state=SegmentRun.State.FAILED, error=message, finished_at=timezone.now()
    )
    return SegmentRun.objects.get(pk=run.pk)


class _StageTimer:
    """Records seconds per stage and shows the stage and its percent on the run."""

    def __init__(self, run: SegmentRun, on_progress: Callable[[str, int], None]):
        self.run = run
        self.on_progress = on_progress
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, start: int, end: int) -> Iterator[None]:
        self._report(stage=name, progress=start)
        self.on_progress(name, start)
        began = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - began, 3)
        self._report(progress=end, stage_seconds=self.seconds)
        self.on_progress(name, end)

    def _report(self, **fields) -> None:
        """Store the progress and the heartbeat; a run the sweeper failed meanwhile stops."""
        reported = (
            SegmentRun.objects.filter(pk=self.run.pk)
            .exclude(state=SegmentRun.State.FAILED)
            .update(heartbeat_at=timezone.now(), **fields)
        )
        if not reported:
            raise RunAbandoned(self.run.pk)


def _previous_labels(segmentation: Segmentation) -> pd.Series:
    """customer id -> segment id in the current run (empty before the first run)."""
    if segmentation.current_run_id is None:
        return pd.Series(dtype="int64")
    rows = features.read_frame(
        f"SELECT customer_id, segment_id FROM {Membership._meta.db_table} WHERE run_id = %s",
        [segmentation.current_run_id],
        ["customer_id", "segment_id"],
    )
    return rows.set_index("customer_id")["segment_id"].astype("int64")


def _compute(run: SegmentRun, frame: pd.DataFrame, timer: "_StageTimer") -> Outcome:
    if frame.empty:
        raise RunFailed("There are no customers to segment.")
    compute = {
        Segmentation.Kind.CLUSTERED: _compute_clusters,
        Segmentation.Kind.RFM: _compute_rfm,
        Segmentation.Kind.RULE: _compute_rules,
    }[run.segmentation.kind]
    outcome = compute(run, frame, timer)
    labels = pd.Series(outcome.keys, index=outcome.customer_ids)
    outcome.quality = {
        **outcome.quality,
        **quality.size_report(labels, min_share=run.segmentation.min_segment_share),
    }
    return outcome


def _compute_clusters(run: SegmentRun, frame: pd.DataFrame, timer: "_StageTimer") -> Outcome:
    segmentation = run.segmentation
    columns = features.resolve_columns(frame, segmentation.features)
    if not columns:
        raise RunFailed("None of the segmentation's features exist in the data.")
    matrix = features.model_matrix(frame, columns)
    with timer.stage("clustering", 40, 65):
        try:
            fitted = clustering.fit_clusters(
                matrix, k_min=segmentation.k_min, k_max=segmentation.k_max
            )
        except clustering.TooFewCustomers as error:
            raise RunFailed(str(error)) from error
        matched = clustering.match_previous(fitted, *_previous_centroids(segmentation))
        scaled = fitted.scaler.transform(clustering.transform(matrix).to_numpy())
        separation = quality.separation(
            scaled, fitted.labels, fitted.scaler.transform(fitted.centroids)
        )
    with timer.stage("explanation", 65, 80):
        explained = explain.explain(matrix, fitted.labels)
    plans = {}
    for label in range(fitted.k):
        plans[label] = SegmentPlan(
            slug="",
            segment_id=matched.get(label),
            proposed_name=explained.names[label],
            proposed_description=explained.descriptions[label],
            proposed_traits=[t.text for t in explained.traits[label]],
            rules=explained.rules.get(label, []),
            centroid=[round(float(v), 6) for v in fitted.centroids[label]],
        )
    return Outcome(
        customer_ids=frame.index.to_numpy(),
        keys=fitted.labels,
        segments=plans,
        k=fitted.k,
        fidelity=explained.fidelity,
        centroid_columns=fitted.columns,
        quality={
            "silhouette": round(fitted.silhouette, 4),
            "silhouette_by_k": {str(k): round(s, 4) for k, s in fitted.silhouette_by_k.items()},
            "separation": round(separation, 4),
        },
    )


def _previous_centroids(segmentation: Segmentation) -> tuple[dict[int, list[float]], list[str]]:
    run = segmentation.current_run
    stored = run.centroids if run else {}
    centroids = {int(pk): vector for pk, vector in stored.get("centroids", {}).items()}
    existing = set(segmentation.segments.filter(pk__in=centroids).values_list("pk", flat=True))
    return {pk: v for pk, v in centroids.items() if pk in existing}, stored.get("columns", [])


def _compute_rfm(run: SegmentRun, frame: pd.DataFrame, timer: "_StageTimer") -> Outcome:
    with timer.stage("scoring", 40, 80):
        table = rfm.rfm_table(frame)
    keys = table["cell"].to_numpy()
    numeric = table[["recency_days", "frequency", "monetary"]].astype("float64")
    traits = explain.top_traits(numeric, pd.Categorical(keys, categories=rfm.CELL_NAMES).codes)
    plans = {}
    for position, cell in enumerate(rfm.CELL_NAMES):
        plans[cell] = SegmentPlan(
            slug=_slug(cell),
            proposed_name=cell,
            proposed_description=rfm.CELL_DESCRIPTIONS[cell],
            proposed_traits=[t.text for t in traits.get(position, [])],
        )
    return Outcome(customer_ids=frame.index.to_numpy(), keys=keys, segments=plans, rfm=table)


def _compute_rules(run: SegmentRun, frame: pd.DataFrame, timer: "_StageTimer") -> Outcome:
    segments = list(run.segmentation.segments.exclude(criteria=[]).order_by("position", "pk"))
    if not segments:
        raise RunFailed("Define at least one rule-based segment before running.")
    with timer.stage("scoring", 40, 80):
        try:
            assigned = rules.assign_first_match(frame, [(s.criteria, s.match) for s in segments])
        except ValidationError as error:
            raise RunFailed("; ".join(error.messages)) from error
    numeric = frame.select_dtypes("number")
    traits = explain.top_traits(numeric, assigned)
    plans = {
        position: SegmentPlan(
            slug=segment.slug,
            segment_id=segment.pk,
            proposed_name=segment.proposed_name,
            proposed_description=segment.proposed_description,
            proposed_traits=[t.text for t in traits.get(position, [])],
        )
        for position, segment in enumerate(segments)
    }
    matched = assigned >= 0
    return Outcome(
        customer_ids=frame.index.to_numpy()[matched], keys=assigned[matched], segments=plans
    )


def _slug(name: str) -> str:
    return slugify(name.replace("'", ""))


# -- write-back and switch -------------------------------------------------------------------


@transaction.atomic
def _write_and_switch(run: SegmentRun, outcome: Outcome, previous: pd.Series) -> list[int]:
    """Store every membership, make the run current; returns the customers who moved."""
    segmentation = Segmentation.objects.select_for_update().get(pk=run.segmentation_id)
    running = SegmentRun.objects.select_for_update().filter(pk=run.pk, state=run.State.RUNNING)
    if not running.exists():
        raise RunAbandoned(run.pk)
    segment_ids = _resolve_segments(segmentation, outcome.segments)
    assigned = pd.Series(
        pd.Series(outcome.keys).map(segment_ids).to_numpy(), index=outcome.customer_ids
    ).astype("int64")
    write_memberships(run_id=run.pk, rows=_membership_rows(run.pk, assigned, outcome.rfm))
    drift = drift_report(previous, assigned)
    run.quality = {
        **outcome.quality,
        **_keyed_by_segment(outcome.quality, segment_ids),
        "stability": quality.stability(previous, assigned),
    }
    run.explanation = {
        str(segment_ids[key]): {
            "rules": plan.rules,
            "traits": plan.proposed_traits,
            "name": plan.proposed_name,
        }
        for key, plan in outcome.segments.items()
        if key in segment_ids
    }
    run.centroids = {
        "columns": outcome.centroid_columns,
        "centroids": {
            str(segment_ids[key]): plan.centroid
            for key, plan in outcome.segments.items()
            if plan.centroid is not None
        },
    }
    run.k, run.fidelity, run.drift = outcome.k, outcome.fidelity, drift
    run.customer_count = len(assigned)
    run.state, run.progress, run.stage = SegmentRun.State.SUCCEEDED, 100, "done"
    run.finished_at = timezone.now()
    run.save(
        update_fields=[
            *("quality", "explanation", "centroids", "k", "fidelity", "drift"),
            *("customer_count", "state", "progress", "stage", "finished_at"),
        ]
    )
    replaced = segmentation.current_run_id
    segmentation.current_run = run
    segmentation.save(update_fields=["current_run"])
    _prune_old_memberships(segmentation, keep=[run.pk, replaced])
    return movers(previous, assigned)


def _prune_old_memberships(segmentation: Segmentation, *, keep: list[int]) -> None:
    """Keep the memberships of the current and the previous run (drift, stability)."""
    Membership.objects.filter(run__segmentation=segmentation).exclude(run_id__in=keep).delete()


def _resolve_segments(segmentation: Segmentation, plans: dict) -> dict:
    """key -> segment id; creates the segments that do not exist yet, updates proposals."""
    existing = {s.pk: s for s in segmentation.segments.all()}
    by_slug = {s.slug: s for s in existing.values()}
    used_slugs = set(by_slug)
    resolved = {}
    for key, plan in plans.items():
        segment = existing.get(plan.segment_id) or by_slug.get(plan.slug)
        if segment is None:
            slug = plan.slug or _next_cluster_slug(used_slugs)
            used_slugs.add(slug)
            segment = Segment.objects.create(
                segmentation=segmentation,
                slug=slug,
                position=len(used_slugs),
                colour=PALETTE[(len(used_slugs) - 1) % len(PALETTE)],
            )
        segment.proposed_name = plan.proposed_name
        segment.proposed_description = plan.proposed_description
        segment.proposed_traits = plan.proposed_traits
        segment.save(update_fields=["proposed_name", "proposed_description", "proposed_traits"])
        resolved[key] = segment.pk
    return resolved


def _next_cluster_slug(used: set[str]) -> str:
    number = 1
    while f"segment-{number}" in used:
        number += 1
    return f"segment-{number}"


def _keyed_by_segment(report: dict, segment_ids: dict) -> dict:
    """The size report's per-key dicts re-keyed by segment id."""
    by_id = {str(key): str(pk) for key, pk in segment_ids.items()}
    rekeyed = {}
    for name in ("sizes", "shares"):
        rekeyed[name] = {by_id.get(key, key): value for key, value in report[name].items()}
    rekeyed["small_segments"] = [by_id.get(key, key) for key in report["small_segments"]]
    return rekeyed


def _membership_rows(run_id: int, assigned: pd.Series, table: pd.DataFrame | None) -> pd.DataFrame:
    rows = pd.DataFrame(
        {"run_id": run_id, "segment_id": assigned.to_numpy(), "customer_id": assigned.index}
    )
    if table is None:
        for column in MEMBERSHIP_COLUMNS[3:]:
            rows[column] = pd.NA
        return rows
    scores = table.loc[assigned.index]
    for column in ("r_score", "f_score", "m_score", "frequency"):
        rows[column] = scores[column].to_numpy()
    rows["recency_days"] = scores["recency_days"].round().astype("int64").to_numpy()
    rows["monetary"] = scores["monetary"].round(2).to_numpy()
    return rows


def write_memberships(*, run_id: int, rows: pd.DataFrame) -> None:
    """Bulk-write a run's memberships in batches: COPY on PostgreSQL, inserts elsewhere."""
    rows = rows[list(MEMBERSHIP_COLUMNS)]
    size = COPY_BATCH if connection.vendor == "postgresql" else WRITE_BATCH
    for start in range(0, len(rows), size):
        write_batch(rows.iloc[start : start + size])


def write_batch(rows: pd.DataFrame) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            copy_frame(cursor.cursor, Membership._meta.db_table, rows)
        return
    records = rows.astype(object).where(rows.notna(), None).to_dict("records")
    Membership.objects.bulk_create(Membership(**record) for record in records)


def drift_report(previous: pd.Series, current: pd.Series) -> dict:
    """How many customers moved from which segment to which since the previous run."""
    common = previous.index.intersection(current.index)
    pairs = pd.DataFrame({"from": previous.loc[common].to_numpy(), "to": current.loc[common]})
    moved = pairs[pairs["from"] != pairs["to"]]
    flows = moved.groupby(["from", "to"]).size().sort_values(ascending=False, kind="stable")
    return {
        "compared": len(common),
        "moved": len(moved),
        "entered": len(current.index.difference(previous.index)),
        "left": len(previous.index.difference(current.index)),
        "flows": [
            {"from": int(source), "to": int(target), "count": int(count)}
            for (source, target), count in flows.head(MAX_DRIFT_FLOWS).items()
        ],
    }


def movers(previous: pd.Series, current: pd.Series) -> list[int]:
    common = previous.index.intersection(current.index)
    changed = previous.loc[common].to_numpy() != current.loc[common].to_numpy()
    return [int(pk) for pk in common[changed]]


# -- segment profiles and rule-based segments ------------------------------------------------


@transaction.atomic
def update_segment_profile(*, segment: Segment, editor: User | None, data: dict) -> Segment:
    """Apply the changed profile fields, validated, with a revision and an audit entry."""
    changes = {}
    for name, value in data.items():
        if name not in PROFILE_FIELDS:
            raise ValidationError({name: "This field cannot be edited."})
        if name == "key_traits":
            value = _clean_traits(value)
        old = getattr(segment, name)
        if old != value:
            setattr(segment, name, value)
            changes[name] = [_plain(old), _plain(value)]
    if not changes:
        return segment
    segment.full_clean(exclude=["segmentation"], validate_unique=False)
    _validate_colour(segment.colour)
    segment.save(update_fields=[*changes, "updated_at"])
    SegmentProfileRevision.objects.create(segment=segment, editor=editor, changes=changes)
    record_change(target=segment, action="segment_profile_updated", actor=editor, changes=changes)
    return segment


def _clean_traits(value) -> list[str]:
    if isinstance(value, str):
        value = value.splitlines()
    return [str(trait).strip() for trait in value if str(trait).strip()]


def _validate_colour(colour: str) -> None:
    digits = colour[1:]
    if not (
        colour.startswith("#")
        and len(digits) == 6
        and all(c in "0123456789abcdefABCDEF" for c in digits)
    ):
        raise ValidationError({"colour": "Use a colour like #2563eb."})


def _plain(value):
    if isinstance(value, Team):
        return value.pk
    return value


@transaction.atomic
def save_rule_segment(
    *,
    segmentation: Segmentation,
    name: str,
    criteria: list[dict],
    match: str,
    editor: User | None,
    segment: Segment | None = None,
) -> Segment:
    """Create or change a rule-based segment; its members are set by the next run."""
    if segmentation.kind != Segmentation.Kind.RULE:
        raise ValidationError("Only rule-based segmentations take criteria.")
    if match not in Segment.Match.values:
        raise ValidationError({"match": "Choose all or any."})
    if not name.strip():
        raise ValidationError({"name": "A segment needs a name."})
    criteria = rules.validate_criteria(criteria, feature_columns())
    if segment is None:
        slug = _unique_slug(segmentation, _slug(name) or "segment")
        position = segmentation.segments.count() + 1
        segment = Segment.objects.create(
            segmentation=segmentation,
            slug=slug,
            position=position,
            colour=PALETTE[(position - 1) % len(PALETTE)],
            name=name.strip(),
            proposed_name=name.strip(),
            criteria=criteria,
            match=match,
        )
        record_change(target=segment, action="rule_segment_created", actor=editor)
        return segment
    changes = {"criteria": [segment.criteria, criteria], "match": [segment.match, match]}
    segment.criteria, segment.match = criteria, match
    segment.save(update_fields=["criteria", "match", "updated_at"])
    update_segment_profile(segment=segment, editor=editor, data={"name": name.strip()})
    SegmentProfileRevision.objects.create(segment=segment, editor=editor, changes=changes)
    return segment


def _unique_slug(segmentation: Segmentation, base: str) -> str:
    taken = set(segmentation.segments.values_list("slug", flat=True))
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def feature_columns() -> list[str]:
    """The columns criteria can use: those of the frame the next run will build."""
    return list(preview_frame().columns)
