"""The feature frame: one pandas row per customer, indexed by customer id.

Loading (``load_feature_frame`` and the ``load_*`` functions) runs a handful of set-based
queries: per-customer aggregates are computed in SQL or with pandas group-bys over whole
tables, never one query per customer. On PostgreSQL each result set is streamed with
``COPY (...) TO STDOUT`` into ``pandas.read_csv``. The ``*_features`` and ``build_frame``
functions are pure and testable without a database.

Columns (numeric unless marked categorical):

- ``recency_days``: days from the last order to the reference date; ``frequency``: number of
  orders; ``monetary``: sum of order amounts; ``avg_order_value``; ``tenure_days``: days since
  signup (or since the profile was created).
- ``tickets_total``, ``tickets_90d`` (created in the 90 days up to the reference date),
  ``tickets_per_month`` (total over tenure in months, at least one month).
- ``share_<channel>`` for every ticket channel and ``preferred_channel`` (categorical).
- ``median_first_response_hours``, ``median_resolution_hours`` over the customer's tickets.
- ``csat_avg`` and ``csat_last`` (0 = worst, 1 = best answer on the survey's scale) only when
  the surveys app stores CSAT answers (the columns are absent otherwise).
- ``tag_<name>``: the customer's tickets carrying each of the most used ticket tags.
- ``age``, ``org_size`` and the categoricals ``age_band``, ``country``, ``plan``,
  ``org_industry``.

Missing values, filled explicitly so every column is complete:

- no orders: ``frequency``, ``monetary``, ``avg_order_value`` are 0 and ``recency_days`` is the
  tenure (the customer has been without an order for as long as we have known them);
- no tickets: counts and shares are 0, ``preferred_channel`` is ``"none"``;
- no answered or resolved ticket: the median hours are the population median (0 if nobody has
  one), so the missing value does not look like unusually fast or slow service;
- no survey answer: CSAT columns are the population mean;
- unknown age: ``age`` is the population median and ``age_band`` is ``"unknown"``; blank
  country, plan or industry become ``"unknown"``; countries outside the most common
  ``TOP_COUNTRIES`` become ``"other"``; no organisation means ``org_size`` 0.
"""

import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
from django.apps import apps
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from django.utils.text import slugify

from surveys.scales import SCALES
from tickets.models import Customer, Organisation, Purchase, Tag, Ticket

CHANNELS = tuple(Ticket.Channel.values)
RECENT_TICKET_DAYS = 90
DAYS_PER_MONTH = 30.44
TOP_TAGS = 5
TOP_COUNTRIES = 10
# (lowest age, band)
AGE_BANDS = ((0, "under 25"), (25, "25-34"), (35, "35-44"), (45, "45-54"), (55, "55-64"))
AGE_BANDS += ((65, "65+"),)

CATEGORICAL = ("preferred_channel", "age_band", "country", "plan", "org_industry")
# Money and counts are heavily right-skewed: the model sees them through log1p.
SKEWED_PREFIXES = ("recency_days", "frequency", "monetary", "avg_order_value", "tenure_days")
SKEWED_PREFIXES += ("tickets_", "median_", "tag_", "org_size")
DEFAULT_BEHAVIOUR_FEATURES = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "tickets_90d",
    "tickets_per_month",
    "share_email",
    "share_web",
    "share_chat",
    "share_phone",
)


@dataclass(frozen=True)
class RawData:
    """The query results ``build_frame`` turns into features."""

    customers: pd.DataFrame  # id, tenure_days, age, country, plan, org_size, org_industry
    purchases: pd.DataFrame  # customer_id, frequency, monetary, recency_days
    tickets: pd.DataFrame  # customer_id, channel, recent, first_response_hours, resolution_hours
    tag_counts: pd.DataFrame  # customer_id, tag, tickets
    csat: pd.DataFrame | None  # customer_id, rating, answered_at; None without surveys


# -- loading -------------------------------------------------------------------------------


def load_feature_frame(*, as_of: date) -> pd.DataFrame:
    return build_frame(load_raw_data(as_of=as_of))


def load_raw_data(*, as_of: date) -> RawData:
    end = timezone.make_aware(datetime.combine(as_of + timedelta(days=1), time.min))
    return RawData(
        customers=load_customers(as_of=as_of),
        purchases=load_purchases(as_of=as_of, end=end),
        tickets=load_tickets(end=end),
        tag_counts=load_tag_counts(end=end),
        csat=load_csat(end=end),
    )


def read_frame(sql: str, params: list, columns: list[str]) -> pd.DataFrame:
    """Run ``sql`` and return its rows; PostgreSQL streams them with COPY."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            query = cursor.cursor.mogrify(sql, params).decode()
            buffer = io.StringIO()
            cursor.cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", buffer)
            buffer.seek(0)
            if not buffer.getvalue():
                return pd.DataFrame(columns=columns)
            return pd.read_csv(buffer, names=columns, keep_default_na=False, na_values=[""])
        cursor.execute(sql, params)
        return pd.DataFrame(cursor.fetchall(), columns=columns)


def _days_before(reference: str, column: str) -> str:
    """SQL for whole days from ``column`` to the ``reference`` date parameter."""
    if connection.vendor == "postgresql":
        return f"(CAST({reference} AS date) - CAST({column} AS date))"
    return f"CAST(julianday({reference}) - julianday(date({column})) AS INTEGER)"


def _hours_between(start: str, end: str) -> str:
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({end} - {start})) / 3600.0"
    return f"(julianday({end}) - julianday({start})) * 24.0"


def _recent_flag(column: str) -> str:
    return f"CASE WHEN {column} >= %s THEN 1 ELSE 0 END"


def load_customers(*, as_of: date) -> pd.DataFrame:
    customer, organisation = Customer._meta.db_table, Organisation._meta.db_table
    started = "COALESCE(c.signup_date, c.created_at)"
    sql = (
        f"SELECT c.id, {_days_before('%s', started)}, c.age, c.country, c.plan, o.size, "
        f"o.industry FROM {customer} c LEFT JOIN {organisation} o ON o.id = c.organisation_id"
    )
    columns = ["id", "tenure_days", "age", "country", "plan", "org_size", "org_industry"]
    return read_frame(sql, [as_of.isoformat()], columns)


def load_purchases(*, as_of: date, end: datetime) -> pd.DataFrame:
    sql = (
        f"SELECT customer_id, COUNT(*), SUM(amount), {_days_before('%s', 'MAX(ordered_at)')} "
        f"FROM {Purchase._meta.db_table} WHERE ordered_at < %s GROUP BY customer_id"
    )
    columns = ["customer_id", "frequency", "monetary", "recency_days"]
    return read_frame(sql, [as_of.isoformat(), end], columns)


def load_tickets(*, end: datetime) -> pd.DataFrame:
    sql = (
        f"SELECT customer_id, channel, {_recent_flag('created_at')}, "
        f"ROUND({_hours_between('created_at', 'first_response_at')}, 2), "
        f"ROUND({_hours_between('created_at', 'solved_at')}, 2) "
        f"FROM {Ticket._meta.db_table} WHERE created_at < %s"
    )
    columns = ["customer_id", "channel", "recent", "first_response_hours", "resolution_hours"]
    return read_frame(sql, [end - timedelta(days=RECENT_TICKET_DAYS), end], columns)


def load_tag_counts(*, end: datetime) -> pd.DataFrame:
    through = Ticket.tags.through
    top = (
        through.objects.values("tag_id")
        .annotate(uses=Count("ticket_id"))
        .order_by("-uses", "tag_id")
        .values_list("tag_id", flat=True)[:TOP_TAGS]
    )
    top_ids = list(top)
    columns = ["customer_id", "tag", "tickets"]
    if not top_ids:
        return pd.DataFrame(columns=columns)
    placeholders = ", ".join(["%s"] * len(top_ids))
    sql = (
        f"SELECT t.customer_id, g.name, COUNT(*) FROM {through._meta.db_table} tt "
        f"JOIN {Ticket._meta.db_table} t ON t.id = tt.ticket_id "
        f"JOIN {Tag._meta.db_table} g ON g.id = tt.tag_id "
        f"WHERE tt.tag_id IN ({placeholders}) AND t.created_at < %s GROUP BY t.customer_id, g.name"
    )
    return read_frame(sql, [*top_ids, end], columns)


def load_csat(*, end: datetime) -> pd.DataFrame | None:
    """CSAT answers as (customer_id, rating 0-1, answered_at), or None while there are none.

    Ratings on different scales (stars, faces) are put on one 0-1 scale: 0 is the worst
    choice, 1 the best. The surveys app is looked up as an installed app, so this works
    before and while it is being built.
    """
    try:
        response_model = apps.get_model("surveys", "SurveyResponse")
    except LookupError:
        return None
    answers = response_model.objects.filter(invitation__kind="csat", answered_at__lt=end)
    sql, params = answers.values_list(
        "invitation__customer_id", "invitation__scale", "score", "answered_at"
    ).query.sql_with_params()
    frame = read_frame(sql, list(params), ["customer_id", "scale", "score", "answered_at"])
    if frame.empty:
        return None
    lowest = frame["scale"].map({slug: min(s.scores) for slug, s in SCALES.items()})
    highest = frame["scale"].map({slug: max(s.scores) for slug, s in SCALES.items()})
    frame["rating"] = (frame["score"] - lowest) / (highest - lowest)
    return frame[["customer_id", "rating", "answered_at"]]


# -- pure feature functions -----------------------------------------------------------------


def build_frame(raw: RawData) -> pd.DataFrame:
    customers = raw.customers.set_index("id").sort_index()
    index = customers.index
    parts = [
        profile_features(customers),
        ticket_features(raw.tickets, index=index, tenure_days=customers["tenure_days"]),
        tag_features(raw.tag_counts, index=index),
    ]
    if raw.csat is not None:
        parts.append(csat_features(raw.csat, index=index))
    frame = pd.concat(
        [purchase_features(raw.purchases, index=index, tenure=parts[0]["tenure_days"]), *parts],
        axis=1,
    )
    frame.index.name = "customer_id"
    return frame


def purchase_features(
    purchases: pd.DataFrame, *, index: pd.Index, tenure: pd.Series
) -> pd.DataFrame:
    found = purchases.set_index("customer_id").reindex(index)
    frequency = found["frequency"].fillna(0).astype("int64")
    monetary = found["monetary"].astype("float64").fillna(0.0)
    average = (monetary / frequency.where(frequency > 0)).fillna(0.0)
    recency = found["recency_days"].astype("float64").fillna(tenure).clip(lower=0)
    return pd.DataFrame(
        {
            "recency_days": recency,
            "frequency": frequency,
            "monetary": monetary,
            "avg_order_value": average,
        },
        index=index,
    )


def profile_features(customers: pd.DataFrame) -> pd.DataFrame:
    age = customers["age"].astype("float64")
    countries = _blank_as_unknown(customers["country"], upper=True)
    common = countries[countries != "unknown"].value_counts().index[:TOP_COUNTRIES]
    countries = countries.where(countries.isin(common) | (countries == "unknown"), "other")
    return pd.DataFrame(
        {
            "tenure_days": customers["tenure_days"].astype("float64").fillna(0).clip(lower=0),
            "age": age.fillna(age.median() if age.notna().any() else 0.0),
            "org_size": customers["org_size"].astype("float64").fillna(0.0),
            "age_band": age_bands(age),
            "country": countries,
            "plan": _blank_as_unknown(customers["plan"]),
            "org_industry": _blank_as_unknown(customers["org_industry"]),
        },
        index=customers.index,
    )


def age_bands(age: pd.Series) -> pd.Series:
    bounds = [low for low, _ in AGE_BANDS[1:]]
    labels = np.array([label for _, label in AGE_BANDS], dtype=object)
    bands = labels[np.searchsorted(bounds, age.fillna(0).to_numpy(), side="right")]
    return pd.Series(np.where(age.isna(), "unknown", bands), index=age.index)


def _blank_as_unknown(values: pd.Series, *, upper: bool = False) -> pd.Series:
    """Trimmed text, ``"unknown"`` when blank or missing.

    Cleans each distinct value once: profile columns hold a few values over many customers.
    """
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    cleaned = [str(value).strip() for value in distinct]
    cleaned = [(text.upper() if upper else text) or "unknown" for text in cleaned]
    # A missing value has code -1, which picks the trailing "unknown".
    return pd.Series(np.array([*cleaned, "unknown"], dtype=object)[codes], index=values.index)


def ticket_features(
    tickets: pd.DataFrame, *, index: pd.Index, tenure_days: pd.Series
) -> pd.DataFrame:
    position = index.get_indexer(tickets["customer_id"])
    known = position >= 0
    position = position[known]
    channel = pd.Categorical(tickets["channel"].to_numpy()[known], categories=CHANNELS).codes
    size = len(index)
    total = np.bincount(position, minlength=size)
    recent = np.bincount(position, weights=tickets["recent"].to_numpy()[known], minlength=size)
    by_channel = np.bincount(
        position * len(CHANNELS) + channel, minlength=size * len(CHANNELS)
    ).reshape(size, len(CHANNELS))
    months = np.maximum(tenure_days.to_numpy(dtype="float64") / DAYS_PER_MONTH, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(total[:, None] > 0, by_channel / total[:, None], 0.0)
    preferred = np.array(CHANNELS, dtype=object)[by_channel.argmax(axis=1)]
    frame = pd.DataFrame(
        {
            "tickets_total": total,
            "tickets_90d": recent.astype("int64"),
            "tickets_per_month": total / months,
            **{f"share_{name}": shares[:, i] for i, name in enumerate(CHANNELS)},
            "preferred_channel": np.where(total > 0, preferred, "none"),
        },
        index=index,
    )
    for column in ("first_response_hours", "resolution_hours"):
        medians = tickets[known].groupby("customer_id")[column].median()
        frame[f"median_{column}"] = _fill_with_median(medians.reindex(index))
    return frame


def _fill_with_median(values: pd.Series) -> pd.Series:
    values = values.astype("float64")
    return values.fillna(values.median() if values.notna().any() else 0.0)


def tag_features(tag_counts: pd.DataFrame, *, index: pd.Index) -> pd.DataFrame:
    if tag_counts.empty:
        return pd.DataFrame(index=index)
    wide = tag_counts.groupby(["customer_id", "tag"])["tickets"].sum().unstack(fill_value=0)
    wide.columns = [f"tag_{slugify(str(name)).replace('-', '_')}" for name in wide.columns]
    return wide.reindex(index, fill_value=0).astype("int64")


def csat_features(csat: pd.DataFrame, *, index: pd.Index) -> pd.DataFrame:
    ordered = csat.sort_values(["customer_id", "answered_at"], kind="stable")
    grouped = ordered.groupby("customer_id")["rating"]
    average = grouped.mean().reindex(index).astype("float64")
    last = grouped.last().reindex(index).astype("float64")
    return pd.DataFrame(
        {
            "csat_avg": average.fillna(average.mean()),
            "csat_last": last.fillna(last.mean()),
        },
        index=index,
    )


def resolve_columns(frame: pd.DataFrame, requested: list[str] | tuple[str, ...]) -> list[str]:
    """The requested feature names present in ``frame`` (absent ones, e.g. CSAT, skipped)."""
    return [name for name in (requested or DEFAULT_BEHAVIOUR_FEATURES) if name in frame.columns]


def model_matrix(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Unscaled numeric matrix of ``columns``; categoricals become 0/1 ``name=value`` columns."""
    numeric = [c for c in columns if c not in CATEGORICAL]
    parts = [frame[numeric].astype("float64")]
    for column in (c for c in columns if c in CATEGORICAL):
        parts.append(pd.get_dummies(frame[column], prefix=column, prefix_sep="=", dtype="float64"))
    return pd.concat(parts, axis=1)


def is_skewed(column: str) -> bool:
    return column.startswith(SKEWED_PREFIXES)
