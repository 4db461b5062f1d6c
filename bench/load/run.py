"""Load run: gunicorn (2 workers, production settings over plain HTTP) + PostgreSQL + Redis +
a real Celery worker, driven by bench/load/agents.py; figures go to docs/benchmarks.md.

    .venv/bin/python bench/load/run.py [--tickets 1000000] [--duration 60] [--agents 50]
        [--email-rate 20] [--think 1,3]

The data set is bench/inbox.py's: its database (hd_bench_inbox) is loaded with its functions
when it does not hold exactly N tickets, then copied to hd_bench_load with CREATE DATABASE ...
TEMPLATE, so the load's writes never touch the inbox bench's data and a rerun starts from the
same tickets. Logs of gunicorn and the worker are in bench/results/load/.
"""

import argparse
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psycopg2
import redis
import requests

BENCH = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(BENCH), str(BENCH / "load")]

import agents  # noqa: E402
import inbox as inbox_bench  # noqa: E402
import report  # noqa: E402

# The password bench/inbox.py's load() gives the demo staff.
STAFF_PASSWORD = "bench-password"
LOGS = report.RESULTS / "load"
VENV_BIN = Path(sys.executable).parent
# method, path, query, status, milliseconds the worker spent on the request
ACCESS_LOG_FORMAT = "%(m)s %(U)s %(q)s %(s)s %(M)s"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=2, help="agents logging in per s")
    parser.add_argument("--email-rate", type=float, default=20, help="inbound messages per s")
    parser.add_argument("--think", default="1,5", help="agents' think time range in s")
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=10,
        help="CPU niceness of the Celery worker: on one shared machine, pages come first",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--template", default="hd_bench_inbox")
    parser.add_argument("--database", default="hd_bench_load")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument(
        "--scale", default="default", help="label for the table; smoke: table in bench/results/"
    )
    return parser.parse_args()


def prepare_template(url: str, tickets: int) -> None:
    reload = inbox_bench.ticket_count(url) != tickets
    if reload:
        inbox_bench.recreate_database(url)
    inbox_bench.setup_django(url)
    inbox_bench.migrate()
    if reload:
        inbox_bench.load(tickets)
    from django.db import connections

    connections.close_all()


def clone(template: str, database: str) -> None:
    """Copy the files, then checkpoint: PostgreSQL 15's default copy writes the whole database
    (3 GB at 1M tickets) through the WAL, and the checkpoints that followed it were still
    writing during the measured window."""
    connection = psycopg2.connect(f"{report.SERVER}/postgres")
    connection.autocommit = True
    strategy = " STRATEGY FILE_COPY" if connection.server_version >= 150000 else ""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"{strategy}')
        cursor.execute("CHECKPOINT")
    connection.close()
    print(f"copied {template} to {database} in {time.perf_counter() - started:.1f} s", flush=True)


def staff_and_mailbox(url: str) -> tuple[list[str], str, str]:
    from helpdesk.roles import Role
    from tickets.demo.seed import STAFF

    agents_names = [username for username, _, _, role, _ in STAFF if role == Role.AGENT]
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT slug, inbound_token FROM tickets_mailbox WHERE active ORDER BY slug DESC"
        )
        slug, token = cursor.fetchone()
    return agents_names, slug, token


def server_environment(args, url: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECURE_SSL_REDIRECT": "False",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": url,
        "REDIS_URL": args.redis,
        "CACHE_KEY_PREFIX": "hd_bench_load",
        "EMAIL_URL": "consolemail://",
        "LOG_LEVEL": "WARNING",
    }


def start(command: list[str], environment: dict, log_name: str) -> subprocess.Popen:
    with open(LOGS / log_name, "w") as log:
        return subprocess.Popen(
            command,
            cwd=report.ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one below
        )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def wait_until_up(base_url: str, server: subprocess.Popen) -> None:
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited; see {LOGS / 'gunicorn.log'}")
        try:
            if requests.get(f"{base_url}/healthz/", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    sys.exit("gunicorn did not answer /healthz/ within 120 s")


def drain_seconds(queue: redis.Redis, limit: float = 120) -> float | None:
    """Seconds until the worker has taken every queued job, None if it did not within limit."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if queue.llen("celery") == 0:
            return time.perf_counter() - started
        time.sleep(0.5)
    return None


# gunicorn's access log lines (method, path, query) to the load generator's endpoint names
ENDPOINTS = (
    ("GET", re.compile(r"/$"), lambda query: "q=" in query, "inbox search"),
    ("GET", re.compile(r"/$"), lambda query: True, "inbox"),
    ("GET", re.compile(r"/tickets/\d+/$"), lambda query: True, "ticket"),
    ("POST", re.compile(r"/tickets/\d+/reply/$"), lambda query: True, "reply POST"),
    ("POST", re.compile(r"/inbound/email/"), lambda query: True, "inbound email POST"),
)


def server_side_ms() -> dict[str, tuple[float, float]]:
    """p50 and p95 per endpoint as gunicorn timed them: the worker's own time, without the
    wait for a free worker that the load generator's figures include."""
    times = {}
    for line in (LOGS / "access.log").read_text().splitlines():
        fields = line.split(" ")
        if len(fields) != 5:
            continue
        method, path, query, _, milliseconds = fields
        for name in (
            name
            for verb, pattern, accepts, name in ENDPOINTS
            if verb == method and pattern.match(path) and accepts(query)
        ):
            times.setdefault(name, []).append(float(milliseconds))
            break
    return {name: tuple(np.percentile(values, [50, 95])) for name, values in times.items()}


def inbound_outcomes(url: str) -> dict:
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT state, count(*) FROM tickets_inboundemail GROUP BY state")
        states = dict(cursor.fetchall())
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE t.routed_at IS NULL) FROM tickets_ticket t "
            "JOIN tickets_customer c ON c.id = t.customer_id "
            "WHERE c.email LIKE 'load-%%@customers.example'"
        )
        tickets, unrouted = cursor.fetchone()
        # From the POST's arrival to the message in its ticket, and to the new ticket routed.
        cursor.execute(
            "SELECT percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY "
            "  extract(epoch FROM m.created_at - i.received_at)), "
            "percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY "
            "  extract(epoch FROM t.routed_at - i.received_at)) "
            "FROM tickets_inboundemail i JOIN tickets_message m ON m.id = i.message_id "
            "JOIN tickets_customer c ON c.id = (SELECT customer_id FROM tickets_ticket "
            "  WHERE id = m.ticket_id) "
            # create_ticket gives a new ticket and its first message the same time
            "LEFT JOIN tickets_ticket t ON t.id = m.ticket_id AND t.created_at = m.created_at "
            "WHERE c.email LIKE 'load-%%@customers.example'"
        )
        to_ticket, to_routed = cursor.fetchone()
    return {
        "inbound_states": states,
        "tickets_opened": tickets,
        "unrouted": unrouted,
        "seconds_to_ticket": to_ticket or [np.nan, np.nan],
        "seconds_to_routed": to_routed or [np.nan, np.nan],
    }


def main() -> None:
    args = parse_args()
    think = tuple(float(value) for value in args.think.split(","))
    LOGS.mkdir(parents=True, exist_ok=True)
    if args.scale == "smoke":
        report.write_to_scratch()
    template_url = f"{report.SERVER}/{args.template}"
    url = f"{report.SERVER}/{args.database}"
    prepare_template(template_url, args.tickets)
    clone(args.template, args.database)
    users, mailbox, token = staff_and_mailbox(url)
    environment = server_environment(args, url)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=report.ROOT,
        env=environment,
        check=True,
    )
    (LOGS / "access.log").unlink(missing_ok=True)
    queue = redis.Redis.from_url(args.redis)
    queue.flushdb()
    base_url = f"http://127.0.0.1:{args.port}"
    worker = start(
        ["nice", "-n", str(args.worker_nice), str(VENV_BIN / "celery"), "-A", "helpdesk",
         "worker", "--concurrency", "2", "--loglevel", "WARNING"],
        environment,
        "worker.log",
    )  # fmt: skip
    server = start(
        [str(VENV_BIN / "gunicorn"), "-c", "python:helpdesk.gunicorn_conf", "--workers", "2",
         "--bind", f"127.0.0.1:{args.port}",
         "--access-logfile", str(LOGS / "access.log"), "--access-logformat", ACCESS_LOG_FORMAT,
         "--no-control-socket"],
        environment,
        "gunicorn.log",
    )  # fmt: skip
    try:
        wait_until_up(base_url, server)
        machine, load_before = report.machine(), report.load_average()
        print(
            f"load: {args.agents} agents, {args.email_rate}/s inbound email, {args.duration} s, "
            f"load average before {load_before}",
            flush=True,
        )
        endpoints, seconds = agents.run(
            base_url=base_url,
            users=users,
            password=STAFF_PASSWORD,
            agents=args.agents,
            spawn_rate=args.spawn_rate,
            duration=args.duration,
            email_rate=args.email_rate,
            mailbox=mailbox,
            token=token,
            think=think,
        )
        load_during = report.load_average()
        drained = drain_seconds(queue)
    finally:
        stop(server)
        stop(worker)
    outcomes = inbound_outcomes(url)
    publish(args, endpoints, seconds, drained, outcomes, machine, load_during, think)


def publish(args, endpoints, seconds, drained, outcomes, machine, load_average, think) -> None:
    total = sum(item["requests"] for item in endpoints.values())
    in_window = sum(item["requests"] for item in endpoints.values() if not np.isnan(item["rps"]))
    errors = sum(item["errors"] for item in endpoints.values())
    server = server_side_ms()
    inbox = endpoints.get("inbox", {"p95_ms": float("nan"), "requests": 0})
    context = {
        "scale": f"{args.scale}: {args.tickets:,} tickets, {args.agents} agents + "
        f"{args.email_rate:g} emails/s, {args.duration:g} s",
        "date": report.now(),
        "load_average": load_average,
        "machine": machine,
    }
    at_scale = args.tickets >= 1_000_000
    rows = [
        report.row(
            "Load: errors",
            "0",
            f"{errors} of {total:,} requests ({100 * errors / max(total, 1):.2f} %)",
            errors == 0,
            **context,
        ),
        report.row(
            "Load: inbox page p95 (browsing with filters)",
            "≤ 150 ms at 1,000,000 tickets",
            f"{inbox['p95_ms']:.0f} ms (gunicorn's own time: p95 "
            f"{server.get('inbox', (np.nan, np.nan))[1]:.0f} ms)",
            inbox["p95_ms"] <= 150 if at_scale else None,
            **context,
        ),
        report.row(
            "Load: throughput", "n/a", f"{in_window / seconds:.1f} requests/s", None, **context
        ),
    ]
    lines = [
        "## Load run",
        "",
        f"`make load` on {context['date']}: {context['scale']}; think time "
        f"{think[0]:g}-{think[1]:g} s between an agent's actions; gunicorn with 2 sync workers "
        "and production settings (DEBUG off, plain HTTP), a Celery "
        f"worker (concurrency 2, nice {args.worker_nice}), "
        f"PostgreSQL and Redis on the same machine; load average during the run {load_average}.",
        "",
        "| endpoint | requests | requests/s | p50 ms | p95 ms | p99 ms | errors "
        "| gunicorn's own p50 / p95 ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, item in endpoints.items():
        rps = "-" if np.isnan(item["rps"]) else f"{item['rps']:.1f}"
        lines.append(
            f"| {name} | {item['requests']:,} | {rps} | {item['p50_ms']:.0f} "
            f"| {item['p95_ms']:.0f} | {item['p99_ms']:.0f} | {item['errors']} "
            f"| {' / '.join(f'{ms:.0f}' for ms in server.get(name, ())) or '-'} |"
        )
    samples = [f"{name}: {sample}" for name, item in endpoints.items()
               for sample in item["error_samples"]]  # fmt: skip
    email = endpoints.get("inbound email POST")
    if email:
        due = round(args.email_rate * args.duration)
        lines += [
            "",
            f"Inbound email: {email['requests']:,} of the {due:,} messages due at "
            f"{args.email_rate:g}/s were sent (the sender keeps at most "
            f"{agents.EMAILS_IN_FLIGHT} unanswered, then waits), and "
            f"{email['requests'] - email['errors']:,} were accepted (HTTP 202).",
        ]
    lines += [
        "",
        "Latencies are measured by the load generator: they include the wait for a free gunicorn "
        "worker, and a request still unanswered after 30 s counts as an error. The last column "
        "is the time gunicorn's worker spent on the request itself (its access log).",
        "",
        "After the load the worker's queue was "
        + (f"empty {drained:.0f} s later" if drained is not None else "still not empty 120 s later")
        + f"; inbound messages by state: {outcomes['inbound_states']}; tickets opened by the "
        f"load's email: {outcomes['tickets_opened']}, of them not routed by the worker: "
        f"{outcomes['unrouted']}. From the POST to the message in its ticket: p50 "
        f"{_seconds(outcomes['seconds_to_ticket'])}; to a new ticket routed: p50 "
        f"{_seconds(outcomes['seconds_to_routed'])}.",
    ]
    if samples:
        lines += ["", "Errors (first kinds): " + "; ".join(samples[:10])]
    details = "\n".join(lines)
    report.save("load" if args.scale == "default" else f"load ({args.scale})", rows, details)
    print(details, flush=True)


def _seconds(p50_and_p95) -> str:
    p50, p95 = p50_and_p95
    return f"{p50:.1f} s, p95 {p95:.1f} s"


if __name__ == "__main__":
    main()
