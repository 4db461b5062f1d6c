"""The queries behind the per-segment reports: every figure is aggregated in the database, the
number of queries does not grow with the number of segments, teams or channels, and a report is
cached for ``REPORT_CACHE_SECONDS`` under its parameters and the segmentation's current run (a
new run is a new key).

Which date puts a row in the period: a ticket's ``created_at``, a survey's ``answered_at``, a
purchase's ``ordered_at``. A customer's segment is the one in the segmentation's current run.
"""

from datetime import datetime

from django.core.cache import cache
from django.db.models import (
    Aggregate,
    Count,
    DateField,
    Exists,
    F,
    FilteredRelation,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from segments import reports
from segments.models import Membership, Segment, Segmentation
from surveys.models import SurveyInvitation, SurveyResponse
from surveys.scales import ZERO_TO_TEN
from surveys.selectors import csat_aggregates
from tickets.models import Customer, Purchase, Team, Ticket

REPORT_CACHE_SECONDS = 300
CACHE_VERSION = 1


class HoursBetween(Func):
    """``end - start`` in hours (NULL when either is NULL)."""

    output_field = FloatField()
    arity = 2

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="(EXTRACT(EPOCH FROM (%(expressions)s)) / 3600.0)::double precision",
            arg_joiner=" - ",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 24.0)",
            arg_joiner=") - julianday(",
            **extra,
        )


class _SqliteMedian:
    def __init__(self):
        self.values = []

    def step(self, value):
        if value is not None:
            self.values.append(value)

    def finalize(self):
        if not self.values:
            return None
        ordered = sorted(self.values)
        middle = len(ordered) // 2
        if len(ordered) % 2:
            return ordered[middle]
        return (ordered[middle - 1] + ordered[middle]) / 2


class Median(Aggregate):
    """The 50th percentile, interpolated between the two middle values like pandas' median."""

    name = "Median"
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        # SQLite has no median; register one on this connection (cheap, idempotent).
        connection.ensure_connection()
        connection.connection.create_aggregate("report_median", 1, _SqliteMedian)
        return super().as_sql(
            compiler,
            connection,
            function="report_median",
            template="%(function)s(%(expressions)s)",
            **extra,
        )


def segment_report(
    *, segmentation: Segmentation | None, period: reports.Period, now: datetime | None = None
) -> reports.Report:
    """The report for ``period``, overall and per segment of ``segmentation``; cached."""
    run_id = segmentation.current_run_id if segmentation else None
    segmentation_id = segmentation.pk if segmentation else None
    key = f"segments-report:{CACHE_VERSION}:{segmentation_id}:{run_id}:{period.start}:{period.end}"
    report = cache.get(key)
    if report is None:
        report = compute_segment_report(segmentation=segmentation, period=period, now=now)
        cache.set(key, report, REPORT_CACHE_SECONDS)
    return report


def compute_segment_report(
    *, segmentation: Segmentation | None, period: reports.Period, now: datetime | None = None
) -> reports.Report:
    now = now or timezone.now()
    tickets = Ticket.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_at)
    answered = Q(answered_at__gte=period.start_at, answered_at__lt=period.end_at)
    csat = SurveyResponse.objects.filter(answered, invitation__kind=SurveyInvitation.Kind.CSAT)
    nps = SurveyResponse.objects.filter(answered, invitation__kind=SurveyInvitation.Kind.NPS)
    buyers = _customers_with_purchases(period)
    ticket_stats = _ticket_aggregates(now)
    everyone = reports.OVERALL
    overall = reports.figures(
        [
            [{"key": everyone, **tickets.aggregate(**ticket_stats)}],
            [{"key": everyone, **csat.aggregate(**_csat_aggregates())}],
            [{"key": everyone, **nps.aggregate(**_nps_aggregates())}],
            [{"key": everyone, **buyers.aggregate(**_purchase_aggregates())}],
            [{"key": everyone, "customers": Customer.objects.count()}],
        ]
    ).iloc[0]
    by_channel = reports.figures(
        [
            tickets.values(key=F("channel")).annotate(**ticket_stats).order_by(),
            _grouped_csat(csat.values(key=F("invitation__ticket__channel"))),
        ]
    )
    by_team = reports.figures(
        [
            tickets.values(key=Coalesce("team_id", reports.NO_TEAM))
            .annotate(**ticket_stats)
            .order_by(),
            _grouped_csat(csat.values(key=Coalesce("invitation__team_id", reports.NO_TEAM))),
        ]
    )
    team_names = dict(Team.objects.values_list("pk", "name"))
    channel_names = dict(Ticket.Channel.choices)
    return reports.Report(
        period=period,
        segmentation_id=segmentation.pk if segmentation else None,
        segmentation_name=segmentation.name if segmentation else "",
        computed_at=now,
        channels=tuple(by_channel.index),
        overall=reports.row(
            everyone,
            "All customers",
            overall,
            mix=reports.shares(by_channel["tickets"]),
            satisfaction=by_channel["csat_satisfied_percent"].dropna().to_dict(),
        ),
        segments=_segment_rows(segmentation, tickets, csat, nps, buyers, ticket_stats),
        teams=sorted(
            (
                reports.row(
                    key,
                    team_names.get(key, reports.NO_TEAM_LABEL),
                    values,
                    customer_based=False,
                )
                for key, values in by_team.iterrows()
            ),
            key=lambda line: (line.key == reports.NO_TEAM, line.label.lower()),
        ),
        by_channel=[
            reports.row(key, channel_names.get(key, key), values, customer_based=False)
            for key, values in by_channel.iterrows()
        ],
        weeks=reports.weeks(
            tickets.values(key=_week("created_at")).annotate(tickets=Count("pk")).order_by(),
            _grouped_csat(csat.values(key=_week("answered_at"))),
        ),
    )


def _week(field: str) -> TruncWeek:
    return TruncWeek(field, output_field=DateField())


def _segment_rows(segmentation, tickets, csat, nps, buyers, ticket_stats) -> list[reports.Row]:
    """One row per segment with members or data, then customers outside the current run."""
    if segmentation is None or segmentation.current_run_id is None:
        return []
    run_id = segmentation.current_run_id
    frame = reports.figures(
        [
            _by_segment(tickets, "customer", run_id).annotate(**ticket_stats),
            _grouped_csat(_by_segment(csat, "invitation__customer", run_id)),
            _by_segment(nps, "invitation__customer", run_id).annotate(**_nps_aggregates()),
            _by_segment(buyers, "", run_id).annotate(**_purchase_aggregates()),
            Membership.objects.filter(run_id=run_id)
            .values(key=F("segment_id"))
            .annotate(customers=Count("pk"))
            .order_by(),
        ]
    )
    mix = reports.channel_mix(
        _by_segment(tickets, "customer", run_id, "channel").annotate(tickets=Count("pk"))
    )
    by_channel = _by_segment(
        csat, "invitation__customer", run_id, channel=F("invitation__ticket__channel")
    )
    satisfaction = reports.channel_satisfaction(_grouped_csat(by_channel))
    segments = Segment.objects.filter(segmentation=segmentation, pk__in=list(frame.index))
    keys = [(s.pk, s.label, s.colour) for s in segments.order_by("position", "pk")]
    if reports.UNSEGMENTED in frame.index:
        keys.append((reports.UNSEGMENTED, reports.UNSEGMENTED_LABEL, reports.UNSEGMENTED_COLOUR))
    return [
        reports.row(
            key,
            label,
            frame.loc[key],
            colour=colour,
            mix=mix.get(key),
            satisfaction=satisfaction.get(key),
        )
        for key, label, colour in keys
    ]


def _by_segment(
    queryset: QuerySet, customer_path: str, run_id: int, *fields: str, **expressions
) -> QuerySet:
    """``queryset`` grouped by the segment in the run of the customer at ``customer_path`` ("" when
    the rows are customers), by a LEFT JOIN so customers outside the run count as unsegmented."""
    relation = f"{customer_path}__segment_memberships" if customer_path else "segment_memberships"
    membership = FilteredRelation(relation, condition=Q(**{f"{relation}__run_id": run_id}))
    return (
        queryset.alias(membership=membership)
        .values(*fields, **expressions, key=Coalesce("membership__segment_id", reports.UNSEGMENTED))
        .order_by()
    )


def _ticket_aggregates(now: datetime) -> dict:
    """Volume, median first-response and resolution hours, and SLA counts.

    A ticket counts for SLA when it has a due time; it missed when the answer came after the due
    time, or none came and the due time has passed by ``now``.
    """
    missed = (
        Q(first_response_at__gt=F("first_response_due_at"))
        | Q(solved_at__gt=F("resolution_due_at"))
        | Q(first_response_at__isnull=True, first_response_due_at__lt=now)
        | Q(solved_at__isnull=True, resolution_due_at__lt=now)
    )
    with_target = Q(first_response_due_at__isnull=False) | Q(resolution_due_at__isnull=False)
    return {
        "tickets": Count("pk"),
        "median_first_response_hours": Median(HoursBetween("first_response_at", "created_at")),
        "median_resolution_hours": Median(HoursBetween("solved_at", "created_at")),
        "sla_tickets": Count("pk", filter=with_target),
        "sla_missed": Count("pk", filter=with_target & missed),
    }


def _csat_aggregates() -> dict:
    names = {
        "responses": "csat_responses",
        "satisfied": "csat_satisfied",
        "mean_score": "csat_mean",
    }
    return {names[name]: aggregate for name, aggregate in csat_aggregates().items()}


def _grouped_csat(grouped: QuerySet) -> QuerySet:
    return grouped.annotate(**_csat_aggregates()).order_by()


def _nps_aggregates() -> dict:
    return {
        "nps_responses": Count("pk"),
        "promoters": Count("pk", filter=Q(score__gte=ZERO_TO_TEN.satisfied_from)),
        "detractors": Count("pk", filter=Q(score__lte=ZERO_TO_TEN.bad_up_to)),
    }


def _purchase_count(period: reports.Period) -> Coalesce:
    purchases = (
        Purchase.objects.filter(
            customer=OuterRef("pk"), ordered_at__gte=period.start_at, ordered_at__lt=period.end_at
        )
        .order_by()
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(purchases, output_field=IntegerField()), Value(0))


def _customers_with_purchases(period: reports.Period) -> QuerySet:
    """Customers who bought in the period or the one before, with their purchase counts."""
    previous = period.previous
    bought = Purchase.objects.filter(
        customer=OuterRef("pk"), ordered_at__gte=previous.start_at, ordered_at__lt=period.end_at
    )
    return Customer.objects.filter(Exists(bought)).alias(
        current_purchases=_purchase_count(period), previous_purchases=_purchase_count(previous)
    )


def _purchase_aggregates() -> dict:
    return {
        "buyers": Count("pk", filter=Q(current_purchases__gte=1)),
        "repeat_buyers": Count("pk", filter=Q(current_purchases__gte=2)),
        "previous_buyers": Count("pk", filter=Q(previous_purchases__gte=1)),
        "retained": Count("pk", filter=Q(previous_purchases__gte=1, current_purchases__gte=1)),
    }
