"""Benchmark: the ``behaviour`` segmentation end to end on N customers in PostgreSQL.

    python bench/segmentation.py [--customers 100000] [--database hd_bench_segments] [--reuse]

1. builds N customers with purchases and tickets in its own PostgreSQL database by COPY
   (``--reuse`` keeps data already built for the same N);
2. runs the ``behaviour`` segmentation through ``segments.services.execute_segment_run``, in a
   fresh process, timing each stage and the process's peak memory;
3. times a bare baseline in another fresh process: the same feature matrix from one pandas
   group-by per table plus ``MiniBatchKMeans`` directly, no Django (loading the raw tables into
   memory is not timed). Full ``KMeans`` on the same matrix is timed too, for the choice made
   in ``segments/clustering.py``.

The last line is ``RESULT customers=N seconds=S peak_mib=M baseline_seconds=B ratio=R``.
"""

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from common import create_database_if_missing

ROOT = Path(__file__).resolve().parent.parent
PURCHASES_PER_CUSTOMER = 3.0
TICKETS_PER_CUSTOMER = 2.0
CHUNK = 500_000
AS_OF = "2025-06-30"
# Latent behaviour groups: (share, orders, mean amount, days since last order, tickets, channel p)
GROUPS = (
    (0.30, 1.0, 30.0, 300, 0.5, (0.7, 0.2, 0.05, 0.05)),
    (0.25, 4.0, 60.0, 40, 1.5, (0.5, 0.3, 0.1, 0.1)),
    (0.20, 3.0, 40.0, 60, 5.0, (0.1, 0.1, 0.7, 0.1)),
    (0.15, 2.0, 120.0, 120, 2.0, (0.2, 0.1, 0.1, 0.6)),
    (0.10, 10.0, 250.0, 10, 1.0, (0.3, 0.5, 0.1, 0.1)),
)
CHANNELS = ("email", "web", "chat", "phone")
TEXT_TYPES = ("CharField", "TextField", "EmailField", "SlugField")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--database", default="hd_bench_segments")
    parser.add_argument("--reuse", action="store_true", help="keep data built for the same N")
    parser.add_argument("--phase", choices=("build", "run", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--k", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.base")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "True"
    os.environ.pop("REDIS_URL", None)
    if args.phase:
        print(json.dumps(PHASES[args.phase](args)))
        return
    orchestrate(args)


def orchestrate(args) -> None:
    create_database_if_missing(os.environ["DATABASE_URL"])
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=os.environ,
        check=True,
    )
    built = child(args, "build")
    print(f"data: {json.dumps(built)}", flush=True)
    run = child(args, "run")
    print(f"run: {json.dumps(run)}", flush=True)
    baseline = child(args, "baseline", "--k", str(run["k"]))
    print(f"baseline: {json.dumps(baseline)}", flush=True)
    for stage, seconds in run["stage_seconds"].items():
        print(f"  {stage:<12} {seconds:8.2f} s")
    ratio = run["seconds"] / baseline["seconds"]
    print(
        f"RESULT customers={args.customers} seconds={run['seconds']:.2f} "
        f"peak_mib={run['peak_mib']:.0f} baseline_seconds={baseline['seconds']:.2f} "
        f"ratio={ratio:.2f}"
    )


def child(args, phase: str, *extra: str) -> dict:
    command = [
        *(sys.executable, __file__, "--phase", phase),
        *("--customers", str(args.customers), "--database", args.database),
        *(["--reuse"] if args.reuse else []),
        *extra,
    ]
    output = subprocess.run(command, cwd=ROOT, env=os.environ, check=True, stdout=subprocess.PIPE)
    return json.loads(output.stdout.decode().strip().splitlines()[-1])


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- build -----------------------------------------------------------------------------------


def build(args) -> dict:
    django_setup()
    from django.db import connection

    from tickets.models import Customer, Purchase, Ticket

    n = args.customers
    if args.reuse and Customer.objects.count() == n:
        return {"customers": n, "reused": True}
    started = time.perf_counter()
    reset_tables()
    rng = np.random.default_rng(42)
    group = rng.choice(len(GROUPS), size=n, p=[g[0] for g in GROUPS])
    with connection.cursor() as cursor:
        for start in range(0, n, CHUNK):
            ids = np.arange(start + 1, min(n, start + CHUNK) + 1)
            copy_frame(cursor, Customer, customer_rows(ids, rng))
            copy_frame(cursor, Purchase, purchase_rows(ids, group[ids - 1], rng))
            copy_frame(cursor, Ticket, ticket_rows(ids, group[ids - 1], rng))
        cursor.execute("ANALYZE")
    return {
        "customers": n,
        "purchases": Purchase.objects.count(),
        "tickets": Ticket.objects.count(),
        "seconds": round(time.perf_counter() - started, 1),
    }


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def reset_tables() -> None:
    from django.db import connection

    from segments.models import Membership
    from tickets.models import Customer, Purchase, Ticket

    tables = [m._meta.db_table for m in (Membership, Ticket, Purchase)]
    tables += [Ticket.tags.through._meta.db_table, Customer._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def customer_rows(ids: np.ndarray, rng) -> pd.DataFrame:
    signup = pd.Timestamp(AS_OF) - pd.to_timedelta(rng.integers(30, 1500, len(ids)), unit="D")
    return pd.DataFrame(
        {
            "id": ids,
            "email": [f"c{i}@bench.example.com" for i in ids],
            "external_id": [f"C{i}" for i in ids],
            "country": rng.choice(["DE", "FR", "GB", "US", "NL", ""], len(ids)),
            "plan": rng.choice(["basic", "pro", "enterprise"], len(ids), p=[0.6, 0.3, 0.1]),
            "age": rng.integers(18, 80, len(ids)),
            "signup_date": signup.strftime("%Y-%m-%d"),
        }
    )


def purchase_rows(ids: np.ndarray, groups: np.ndarray, rng) -> pd.DataFrame:
    orders = np.array([g[1] for g in GROUPS])[groups]
    counts = rng.poisson(orders * PURCHASES_PER_CUSTOMER / 3.0)
    owner = np.repeat(ids, counts)
    owner_group = np.repeat(groups, counts)
    last = np.array([g[3] for g in GROUPS])[owner_group]
    days_ago = last * rng.uniform(0.5, 1.5, len(owner)) + rng.exponential(60, len(owner))
    amount = np.array([g[2] for g in GROUPS])[owner_group] * rng.lognormal(0, 0.4, len(owner))
    return pd.DataFrame(
        {
            "order_id": [f"O{ids[0]}-{i}" for i in range(len(owner))],
            "customer_id": owner,
            "ordered_at": timestamps(days_ago),
            "amount": amount.round(2),
        }
    )


def ticket_rows(ids: np.ndarray, groups: np.ndarray, rng) -> pd.DataFrame:
    rate = np.array([g[4] for g in GROUPS])[groups]
    counts = rng.poisson(rate * TICKETS_PER_CUSTOMER / 2.0)
    owner = np.repeat(ids, counts)
    owner_group = np.repeat(groups, counts)
    probabilities = np.array([g[5] for g in GROUPS])
    cumulative = probabilities.cumsum(axis=1)[owner_group]
    channel = (rng.uniform(size=(len(owner), 1)) > cumulative).sum(axis=1)
    days_ago = rng.exponential(120, len(owner))
    created = pd.Timestamp(AS_OF, tz="UTC") - pd.to_timedelta(days_ago, unit="D")
    response = created + pd.to_timedelta(rng.exponential(6, len(owner)), unit="h")
    solved = response + pd.to_timedelta(rng.exponential(30, len(owner)), unit="h")
    still_open = days_ago < 5
    return pd.DataFrame(
        {
            "subject": "Help",
            "status": np.where(still_open, "open", "solved"),
            "channel": np.array(CHANNELS)[np.minimum(channel, len(CHANNELS) - 1)],
            "customer_id": owner,
            "created_at": created.strftime("%Y-%m-%d %H:%M:%S+00"),
            "updated_at": created.strftime("%Y-%m-%d %H:%M:%S+00"),
            "routed_at": created.strftime("%Y-%m-%d %H:%M:%S+00"),
            "first_response_at": response.strftime("%Y-%m-%d %H:%M:%S+00"),
            "solved_at": pd.Series(solved.strftime("%Y-%m-%d %H:%M:%S+00")).where(~still_open),
        }
    )


def timestamps(days_ago: np.ndarray) -> pd.Index:
    moments = pd.Timestamp(AS_OF, tz="UTC") - pd.to_timedelta(days_ago, unit="D")
    return moments.strftime("%Y-%m-%d %H:%M:%S+00")


def copy_frame(cursor, model, frame: pd.DataFrame) -> None:
    """COPY ``frame`` into the model's table, filling the other required columns."""
    from django.utils import timezone

    from helpdesk import db

    now = timezone.now().isoformat()
    for field in model._meta.concrete_fields:
        if field.column in frame.columns or field.null or field.primary_key:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            frame[field.column] = now
        else:
            default = field.get_default()
            frame[field.column] = (
                json.dumps(default) if field.get_internal_type() == "JSONField" else default
            )
    # In CSV an empty cell is NULL; NOT NULL text columns mean the empty string.
    texts = [
        f.column
        for f in model._meta.concrete_fields
        if not f.null and f.column in frame.columns and f.get_internal_type() in TEXT_TYPES
    ]
    db.copy_frame(cursor.cursor, model._meta.db_table, frame, force_not_null=texts)


# -- run -------------------------------------------------------------------------------------


def run(args) -> dict:
    django_setup()
    from datetime import date

    from segments.models import Membership, Segment, Segmentation, SegmentRun
    from segments.services import execute_segment_run

    segmentation, _ = Segmentation.objects.get_or_create(
        slug="behaviour", defaults={"name": "Behaviour", "kind": Segmentation.Kind.CLUSTERED}
    )
    Segmentation.objects.update(current_run=None)
    Membership.objects.all()._raw_delete(Membership.objects.db)
    SegmentRun.objects.all().delete()
    Segment.objects.filter(segmentation=segmentation).delete()
    segment_run = SegmentRun.objects.create(
        segmentation=segmentation, as_of=date.fromisoformat(AS_OF)
    )
    started = time.perf_counter()
    segment_run = execute_segment_run(run_id=segment_run.pk)
    seconds = time.perf_counter() - started
    if segment_run.state != SegmentRun.State.SUCCEEDED:
        raise SystemExit(f"run failed: {segment_run.error}")
    return {
        "seconds": round(seconds, 2),
        "peak_mib": round(peak_mib(), 1),
        "k": segment_run.k,
        "fidelity": round(segment_run.fidelity, 3),
        "silhouette": segment_run.quality["silhouette"],
        "memberships": Membership.objects.filter(run=segment_run).count(),
        "stage_seconds": segment_run.stage_seconds,
    }


# -- baseline --------------------------------------------------------------------------------


def baseline(args) -> dict:
    """One group-by per table and MiniBatchKMeans on the same ten features, no Django."""
    import psycopg2
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from sklearn.preprocessing import StandardScaler

    connection = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=args.database)
    with connection.cursor() as cursor:
        customers = read(cursor, f"SELECT id, '{AS_OF}'::date - signup_date FROM tickets_customer")
        purchases = read(
            cursor,
            f"SELECT customer_id, '{AS_OF}'::date - ordered_at::date, amount FROM tickets_purchase",
        )
        tickets = read(
            cursor,
            f"SELECT customer_id, channel, created_at >= '{AS_OF}'::date + 1 - 90 "
            "FROM tickets_ticket",
        )
    customers.columns, purchases.columns = ["id", "tenure"], ["customer_id", "recency", "amount"]
    tickets.columns = ["customer_id", "channel", "recent"]
    started = time.perf_counter()
    index = pd.Index(customers["id"])
    bought = purchases.groupby("customer_id").agg(
        recency_days=("recency", "min"), frequency=("amount", "size"), monetary=("amount", "sum")
    )
    tickets["recent"] = tickets["recent"] == "t"
    for channel in CHANNELS:
        tickets[channel] = tickets["channel"] == channel
    asked = tickets.groupby("customer_id")[["recent", *CHANNELS]].sum()
    frame = bought.join(asked, how="outer").reindex(index).fillna(0)
    total = asked[list(CHANNELS)].sum(axis=1).reindex(index).fillna(0)
    frame["avg_order_value"] = frame["monetary"] / frame["frequency"].clip(lower=1)
    frame["tickets_per_month"] = total / np.maximum(customers["tenure"].to_numpy() / 30.44, 1)
    for channel in CHANNELS:
        frame[f"share_{channel}"] = frame[channel] / total.clip(lower=1)
    columns = ["recency_days", "frequency", "monetary", "avg_order_value", "recent"]
    columns += ["tickets_per_month", *(f"share_{c}" for c in CHANNELS)]
    matrix = frame[columns].to_numpy(dtype="float64")
    matrix[:, :6] = np.log1p(matrix[:, :6])
    scaled = StandardScaler().fit_transform(matrix)
    features_seconds = time.perf_counter() - started
    MiniBatchKMeans(n_clusters=args.k, random_state=0, n_init="auto").fit(scaled)
    seconds = time.perf_counter() - started
    kmeans_started = time.perf_counter()
    KMeans(n_clusters=args.k, random_state=0, n_init="auto").fit(scaled)
    return {
        "seconds": round(seconds, 2),
        "features_seconds": round(features_seconds, 2),
        "minibatch_kmeans_seconds": round(seconds - features_seconds, 2),
        "full_kmeans_seconds": round(time.perf_counter() - kmeans_started, 2),
        "rows": len(matrix),
    }


def read(cursor, sql: str) -> pd.DataFrame:
    buffer = io.StringIO()
    cursor.copy_expert(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", buffer)
    buffer.seek(0)
    return pd.read_csv(buffer, header=None)


PHASES = {"build": build, "run": run, "baseline": baseline}

if __name__ == "__main__":
    main()
