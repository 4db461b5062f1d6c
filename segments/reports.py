"""Per-segment reports as pure computations: the period, the figures derived from grouped counts,
the CSV tables and the chart geometry. No database here (segments/report_selectors.py reads).
"""

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.utils import timezone

MAX_PERIOD_DAYS = 731
OVERALL = "overall"
# Group keys of rows without a segment or team: primary keys are never 0.
UNSEGMENTED = 0
UNSEGMENTED_LABEL = "Not in a segment"
UNSEGMENTED_COLOUR = "#94a3b8"
NO_TEAM = 0
NO_TEAM_LABEL = "No team"


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end``, both days included, in the site's time zone."""

    start: date
    end: date

    def __post_init__(self):
        if self.end < self.start:
            raise ValidationError({"end": "The end date must not be before the start date."})
        if self.days > MAX_PERIOD_DAYS:
            raise ValidationError({"end": f"A report covers at most {MAX_PERIOD_DAYS} days."})

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=timezone.get_current_timezone())

    @property
    def end_at(self) -> datetime:
        """The first moment after the period."""
        return self.start_at + timedelta(days=self.days)

    @property
    def previous(self) -> "Period":
        """The period of equal length just before this one (retention compares the two)."""
        return Period(start=self.start - timedelta(days=self.days), end=self.start - timedelta(1))


@dataclass(frozen=True)
class Row:
    """One line of a report table. Customer-based figures (contact rate, NPS, purchases) are
    None for team and channel rows, which have no customer base of their own."""

    key: object
    label: str
    colour: str = "#4f46e5"
    customers: int | None = None
    tickets: int = 0
    contact_rate: float | None = None
    median_first_response_hours: float | None = None
    median_resolution_hours: float | None = None
    sla_tickets: int = 0
    sla_met_percent: float | None = None
    csat_responses: int = 0
    csat_satisfied_percent: float | None = None
    csat_mean: float | None = None
    nps_responses: int | None = 0
    nps: float | None = None
    buyers: int | None = 0
    repeat_purchase_percent: float | None = None
    previous_buyers: int | None = 0
    retention_percent: float | None = None
    channel_mix: Mapping[str, float] = field(default_factory=dict)  # channel -> % of tickets
    # channel -> % of CSAT answers satisfied, for channels with answers
    channel_satisfaction: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Week:
    start: date
    tickets: int
    csat_responses: int
    csat_satisfied_percent: float | None
    csat_mean: float | None


@dataclass(frozen=True)
class Report:
    period: Period
    segmentation_id: int | None
    segmentation_name: str
    computed_at: datetime
    channels: tuple[str, ...]
    overall: Row
    segments: list[Row]
    teams: list[Row]
    by_channel: list[Row]
    weeks: list[Week]


# Grouped counts arrive as records with a "key" column; these are the count columns each kind
# of record carries, filled with 0 where a group had none.
COUNT_COLUMNS = (
    "customers",
    "tickets",
    "sla_tickets",
    "sla_missed",
    "csat_responses",
    "csat_satisfied",
    "nps_responses",
    "promoters",
    "detractors",
    "buyers",
    "repeat_buyers",
    "previous_buyers",
    "retained",
)


def figures(records: Iterable[Sequence[Mapping]]) -> pd.DataFrame:
    """Join record lists that share a ``key`` column and derive every rate, one row per key."""
    frames = [pd.DataFrame.from_records(list(batch)) for batch in records]
    frames = [frame.set_index("key") for frame in frames if not frame.empty]
    frame = pd.concat(frames, axis=1) if frames else pd.DataFrame(index=pd.Index([], name="key"))
    for column in COUNT_COLUMNS:
        frame[column] = frame[column].fillna(0).astype("int64") if column in frame else 0
    for column in ("csat_mean", "median_first_response_hours", "median_resolution_hours"):
        if column not in frame:
            frame[column] = np.nan
    frame["contact_rate"] = _ratio(frame["tickets"], frame["customers"])
    frame["sla_met_percent"] = 100 * _ratio(
        frame["sla_tickets"] - frame["sla_missed"], frame["sla_tickets"]
    )
    frame["csat_satisfied_percent"] = 100 * _ratio(frame["csat_satisfied"], frame["csat_responses"])
    frame["nps"] = 100 * _ratio(frame["promoters"] - frame["detractors"], frame["nps_responses"])
    frame["repeat_purchase_percent"] = 100 * _ratio(frame["repeat_buyers"], frame["buyers"])
    frame["retention_percent"] = 100 * _ratio(frame["retained"], frame["previous_buyers"])
    return frame


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return numerator.astype("float64") / denominator.where(denominator > 0)


def channel_mix(records: Iterable[Mapping]) -> dict[object, dict[str, float]]:
    """Records of (key, channel, tickets) -> {key: {channel: percent of the key's tickets}}."""
    frame = pd.DataFrame.from_records(list(records), columns=["key", "channel", "tickets"])
    frame["percent"] = 100 * frame["tickets"] / frame.groupby("key")["tickets"].transform("sum")
    mix: dict[object, dict[str, float]] = {}
    for key, channel, percent in frame[["key", "channel", "percent"]].itertuples(index=False):
        mix.setdefault(key, {})[channel] = float(percent)
    return mix


def channel_satisfaction(records: Iterable[Mapping]) -> dict[object, dict[str, float]]:
    """Records of (key, channel, csat_responses, csat_satisfied) -> {key: {channel: percent
    satisfied}}."""
    satisfaction: dict[object, dict[str, float]] = {}
    for record in records:
        percent = 100 * record["csat_satisfied"] / record["csat_responses"]
        satisfaction.setdefault(record["key"], {})[record["channel"]] = percent
    return satisfaction


def shares(counts: pd.Series) -> dict[str, float]:
    """Each entry's percent of the total."""
    total = counts.sum()
    return {key: float(100 * count / total) for key, count in counts.items()} if total else {}


ROW_FIELDS = (
    "customers",
    "tickets",
    "contact_rate",
    "median_first_response_hours",
    "median_resolution_hours",
    "sla_tickets",
    "sla_met_percent",
    "csat_responses",
    "csat_satisfied_percent",
    "csat_mean",
    "nps_responses",
    "nps",
    "buyers",
    "repeat_purchase_percent",
    "previous_buyers",
    "retention_percent",
)
CUSTOMER_FIELDS = (
    "customers",
    "contact_rate",
    "nps_responses",
    "nps",
    "buyers",
    "repeat_purchase_percent",
    "previous_buyers",
    "retention_percent",
)


def row(
    key,
    label: str,
    values: pd.Series | None,
    *,
    colour: str = "#4f46e5",
    mix: Mapping[str, float] | None = None,
    satisfaction: Mapping[str, float] | None = None,
    customer_based: bool = True,
) -> Row:
    """A table row from one line of :func:`figures` (None: a group with no data at all)."""
    cleaned = {} if values is None else {name: _plain(name, values[name]) for name in ROW_FIELDS}
    if not customer_based:
        cleaned.update(dict.fromkeys(CUSTOMER_FIELDS))
    return Row(
        key=key,
        label=label,
        colour=colour,
        channel_mix=mix or {},
        channel_satisfaction=satisfaction or {},
        **cleaned,
    )


def _plain(name: str, value):
    """A plain Python number: counts as int (a row of a mixed frame comes as floats)."""
    if pd.isna(value):
        return None
    return int(value) if name in COUNT_COLUMNS else float(value)


def weeks(ticket_records: Sequence[Mapping], csat_records: Sequence[Mapping]) -> list[Week]:
    """Weekly tickets and CSAT, every week from the first to the last with data."""
    frame = figures([ticket_records, csat_records])
    if frame.empty:
        return []
    first, last = min(frame.index), max(frame.index)
    every_week = [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]
    frame = frame.reindex(every_week)
    return [
        Week(
            start=week,
            tickets=_count(frame.at[week, "tickets"]),
            csat_responses=_count(frame.at[week, "csat_responses"]),
            csat_satisfied_percent=_plain("", frame.at[week, "csat_satisfied_percent"]),
            csat_mean=_plain("", frame.at[week, "csat_mean"]),
        )
        for week in every_week
    ]


def _count(value) -> int:
    return 0 if pd.isna(value) else int(value)


# -- CSV --------------------------------------------------------------------------------------

TABLE_COLUMNS = {
    "segments": (
        ("label", "Segment"),
        ("customers", "Customers"),
        ("tickets", "Tickets"),
        ("contact_rate", "Tickets per customer"),
        ("median_first_response_hours", "Median first response (h)"),
        ("median_resolution_hours", "Median resolution (h)"),
        ("sla_met_percent", "SLA met (%)"),
        ("csat_responses", "CSAT responses"),
        ("csat_satisfied_percent", "CSAT satisfied (%)"),
        ("csat_mean", "CSAT mean (1-5)"),
        ("nps_responses", "NPS responses"),
        ("nps", "NPS"),
        ("buyers", "Buyers"),
        ("repeat_purchase_percent", "Repeat purchase (%)"),
        ("retention_percent", "Retention (%)"),
    ),
    "teams": (
        ("label", "Team"),
        ("tickets", "Tickets"),
        ("median_first_response_hours", "Median first response (h)"),
        ("median_resolution_hours", "Median resolution (h)"),
        ("sla_met_percent", "SLA met (%)"),
        ("csat_responses", "CSAT responses"),
        ("csat_satisfied_percent", "CSAT satisfied (%)"),
        ("csat_mean", "CSAT mean (1-5)"),
    ),
}
TABLE_COLUMNS["channels"] = (("label", "Channel"), *TABLE_COLUMNS["teams"][1:])
TABLES = (*TABLE_COLUMNS, "channel_mix", "channel_satisfaction", "weeks")


def table(report: Report, name: str) -> tuple[list[str], list[list]]:
    """The header and rows of one of the report's tables (``TABLES``), overall row first."""
    if name == "channel_mix":
        lines = [report.overall, *report.segments]
        header = ["Segment", *(f"{channel} (%)" for channel in report.channels)]
        return header, [
            [line.label, *(_cell(line.channel_mix.get(c, 0.0)) for c in report.channels)]
            for line in lines
        ]
    if name == "channel_satisfaction":
        lines = [report.overall, *report.segments]
        header = ["Segment", *(f"{channel} CSAT satisfied (%)" for channel in report.channels)]
        return header, [
            [line.label, *(_cell(line.channel_satisfaction.get(c)) for c in report.channels)]
            for line in lines
        ]
    if name == "weeks":
        header = ["Week starting", "Tickets", "CSAT responses", "CSAT satisfied (%)", "CSAT mean"]
        return header, [
            [
                w.start.isoformat(),
                w.tickets,
                w.csat_responses,
                _cell(w.csat_satisfied_percent),
                _cell(w.csat_mean),
            ]
            for w in report.weeks
        ]
    columns = TABLE_COLUMNS[name]
    lines = {"segments": report.segments, "teams": report.teams, "channels": report.by_channel}
    rows = [report.overall, *lines[name]]
    return [title for _, title in columns], [
        [_cell(getattr(line, attribute)) for attribute, _ in columns] for line in rows
    ]


def _cell(value):
    if value is None:
        return ""
    return round(value, 2) if isinstance(value, float) else value


def to_csv(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


# -- charts (inline SVG coordinates) ----------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    colour: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart:
    title: str
    unit: str
    width: int
    height: int
    baseline: float
    top: float
    bars: list[Bar]


def bar_chart(
    title: str, lines: Sequence[Row], attribute: str, *, unit: str = "", width: int = 520
) -> BarChart:
    """One bar per row with a value for ``attribute``, scaled from zero to the largest."""
    height, pad, label_room = 190, 8, 40
    valued = [(line, getattr(line, attribute)) for line in lines]
    valued = [(line, value) for line, value in valued if value is not None]
    top = max([abs(value) for _, value in valued] + [1e-9])
    slot = (width - 2 * pad) / max(len(valued), 1)
    baseline = height - label_room
    bars = []
    for n, (line, value) in enumerate(valued):
        bar_height = (baseline - pad) * max(value, 0) / top
        bars.append(
            Bar(
                label=line.label,
                value=value,
                colour=line.colour,
                x=pad + n * slot + slot * 0.15,
                y=baseline - bar_height,
                width=slot * 0.7,
                height=bar_height,
            )
        )
    return BarChart(
        title=title, unit=unit, width=width, height=height, baseline=baseline, top=top, bars=bars
    )


@dataclass(frozen=True)
class LinePoint:
    label: str
    value: float
    x: float
    y: float


@dataclass(frozen=True)
class LineChart:
    title: str
    width: int
    height: int
    baseline: float
    top: float
    points: list[LinePoint]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def line_chart(
    title: str, weeks_: Sequence[Week], attribute: str, *, top: float | None = None
) -> LineChart:
    """Weeks left to right; weeks without a value are left out of the line."""
    width, height, pad, label_room = 520, 170, 10, 24
    values = [(w, getattr(w, attribute)) for w in weeks_]
    top = top or max([value for _, value in values if value is not None] + [1])
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    baseline = height - label_room
    points = [
        LinePoint(
            label=week.start.isoformat(),
            value=value,
            x=pad + n * step,
            y=baseline - (baseline - pad) * value / top,
        )
        for n, (week, value) in enumerate(values)
        if value is not None
    ]
    return LineChart(
        title=title, width=width, height=height, baseline=baseline, top=top, points=points
    )
