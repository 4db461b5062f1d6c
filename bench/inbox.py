"""Inbox benchmark: load N demo tickets into a dedicated PostgreSQL database, then time the
inbox and ticket pages through the real views, in-process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_bench .venv/bin/python bench/inbox.py \
        [--tickets 1000000] [--repeat 200] [--reload]

The database (its name must contain "bench") is dropped, created, migrated and loaded when it
does not hold exactly N tickets; otherwise its data is reused. Loading uses the seed_demo
generator, which writes with COPY on PostgreSQL.
The last line is ``RESULT tickets=N inbox_ms=X ticket_ms=Y inbox_queries=Q``.
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
from common import database_name, log, migrate, recreate_database
from common import setup_django as setup_django_for

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hd_bench"
INBOX_QUERY = "status=open&sort=updated"
TICKETS_PER_CUSTOMER = 5
LOADED_TABLES = (
    "tickets_customer", "tickets_customer_tags", "tickets_purchase", "tickets_ticket",
    "tickets_ticket_tags", "tickets_message",
)  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=200, help="timed requests per page")
    parser.add_argument("--reload", action="store_true", help="drop and reload the data")
    args = parser.parse_args()
    if args.tickets < TICKETS_PER_CUSTOMER or args.repeat < 1:
        parser.error(f"--tickets must be at least {TICKETS_PER_CUSTOMER}, --repeat at least 1")
    return args


def ticket_count(url: str) -> int | None:
    """Tickets in the bench database, or None when it or its tables do not exist yet."""
    try:
        with psycopg2.connect(url) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM tickets_ticket")
            return cursor.fetchone()[0]
    except (psycopg2.OperationalError, psycopg2.errors.UndefinedTable):
        return None


def setup_django(url: str) -> None:
    os.environ["DEBUG"] = "false"
    setup_django_for(url)


@contextmanager
def secondary_indexes_dropped(cursor, tables: Sequence[str]):
    """Bulk loading is faster without indexes to maintain: drop those that back no
    constraint, rebuild them from their saved definitions afterwards."""
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relname = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        [list(tables)],
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    log(f"dropped {len(indexes)} secondary indexes for the load")
    yield
    cursor.execute("SET maintenance_work_mem = '512MB'")
    for name, definition in indexes:
        cursor.execute(definition)
        log(f"rebuilt index {name}")


def load(tickets: int) -> None:
    from django.db import connection

    from tickets.demo import seed_demo_data

    started = time.perf_counter()
    with connection.cursor() as cursor, secondary_indexes_dropped(cursor, LOADED_TABLES):
        summary = seed_demo_data(
            customers=tickets // TICKETS_PER_CUSTOMER,
            tickets=tickets,
            password="bench-password",
            progress=log,
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    log(
        f"loaded {summary.tickets} tickets, {summary.messages} messages, {summary.customers} "
        f"customers, {summary.purchases} purchases in {time.perf_counter() - started:.1f} s "
        "(including VACUUM ANALYZE)"
    )


def timed(client, url: str, repeat: int) -> tuple[float, float, float]:
    """Median and 90th percentile of the server time and median of this process's CPU time
    (which leaves out the database server, and also other programs competing for the CPU),
    in milliseconds."""
    wall, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(wall), statistics.quantiles(wall, n=10)[-1], statistics.median(cpu)


def queries_of(client, url: str) -> list[dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return captured.captured_queries


def explain_slowest(queries: list[dict]) -> None:
    """EXPLAIN ANALYZE every SELECT of the page; print their total execution time in the
    database and the plan of the slowest."""
    from django.db import connection

    plans = []
    with connection.cursor() as cursor:
        for query in queries:
            if not query["sql"].lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
            lines = [line for (line,) in cursor.fetchall()]
            plans.append((float(lines[-1].split(":")[1].split()[0]), query["sql"], lines))
    total = sum(ms for ms, _, _ in plans)
    ms, sql, lines = max(plans)
    log(f"  database execution time of its SELECTs: {total:.2f} ms; slowest {ms:.2f} ms:")
    print(f"      {sql[:400]}")
    for line in lines:
        print(f"      {line}")


def measure(repeat: int) -> tuple[float, float, int]:
    from django.test import Client
    from django.urls import reverse

    from helpdesk.models import User
    from tickets import selectors

    agent = User.objects.get(username="agent")
    page = selectors.inbox_page(user=agent, filters={"status": "open", "sort": "updated"})
    assert len(page.rows) == selectors.PAGE_SIZE, "fewer open tickets than one page"
    client = Client(HTTP_HOST="localhost")
    client.force_login(agent)
    pages = {
        "inbox": f"{reverse('tickets:inbox')}?{INBOX_QUERY}",
        "inbox (default: active statuses)": reverse("tickets:inbox"),
        "ticket": reverse("tickets:ticket", args=[page.rows[0].pk]),
    }
    results = {}
    for name, url in pages.items():
        timed(client, url, repeat=5)  # warm caches and connections
        median, p90, cpu = timed(client, url, repeat)
        queries = queries_of(client, url)
        log(
            f"{name} {url}: median {median:.1f} ms (p90 {p90:.1f} ms, CPU in this process "
            f"{cpu:.1f} ms), {len(queries)} queries"
        )
        explain_slowest(queries)
        results[name] = (median, len(queries))
    return results["inbox"][0], results["ticket"][0], results["inbox"][1]


def main() -> None:
    args = parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if urlsplit(url).scheme not in ("postgres", "postgresql"):
        sys.exit("bench/inbox.py needs DATABASE_URL=postgres://... (a dedicated database)")
    if "bench" not in database_name(url):
        # It drops and recreates the database: never point it at real data by accident.
        sys.exit(
            f"refusing to use {database_name(url)!r}: the bench database's name must "
            "contain 'bench'"
        )
    present = ticket_count(url)
    reload = args.reload or present != args.tickets
    if reload:
        recreate_database(url)
    else:
        log(f"reusing {present} tickets in {database_name(url)}")
    setup_django(url)
    migrate()
    if reload:
        load(args.tickets)
    inbox_ms, ticket_ms, inbox_queries = measure(args.repeat)
    print(
        f"RESULT tickets={args.tickets} inbox_ms={inbox_ms:.1f} ticket_ms={ticket_ms:.1f} "
        f"inbox_queries={inbox_queries}"
    )


if __name__ == "__main__":
    main()
