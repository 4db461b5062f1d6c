"""Routing benchmark: N active rules applied to M tickets on the ticket-created event, through
the real service (contexts built once per batch, rules compiled once, changes written).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_bench_routing \
        .venv/bin/python bench/routing.py [--rules 200] [--tickets 10000] [--batch 500]

The database is dropped and created, migrated and filled with bulk inserts on every run. Each
batch runs in a transaction that is rolled back, so every measurement sees the same tickets.
Queries per ticket are printed for 20 rules and for N rules on the same batch; the last line is
``RESULT rules=N tickets=M median_ms_per_ticket=X queries_per_ticket=Q``.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

from common import log, migrate, recreate_database, setup_django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hd_bench_routing"
COUNTRIES = ("DE", "FR", "US", "GB", "NL", "ES", "IT", "PL")
PLANS = ("free", "basic", "pro", "enterprise")
WORDS = ("refund", "invoice", "login", "password", "delivery", "broken", "upgrade", "cancel")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    if min(args.rules, args.tickets, args.batch) < 1:
        parser.error("--rules, --tickets and --batch must be positive")
    return args


def load(tickets: int) -> None:
    from django.utils import timezone

    from helpdesk.models import User
    from tickets.models import Customer, Mailbox, Message, Organisation, Team, Ticket

    rng = random.Random(7)
    teams = Team.objects.bulk_create(Team(name=f"Team {n}", slug=f"team-{n}") for n in range(10))
    agents = User.objects.bulk_create(
        User(username=f"agent{n}", away=n % 7 == 0) for n in range(40)
    )
    for n, team in enumerate(teams):
        team.members.set(agents[n * 4 : n * 4 + 4])
    mailbox = Mailbox.objects.create(slug="support", address="support@bench.example", team=teams[0])
    organisations = Organisation.objects.bulk_create(
        Organisation(name=f"Org {n}", industry=rng.choice(("retail", "software")), size=n * 10)
        for n in range(200)
    )
    customers = Customer.objects.bulk_create(
        Customer(
            email=f"c{n}@d{n % 300}.example",
            name=f"Customer {n}",
            country=rng.choice(COUNTRIES),
            plan=rng.choice(PLANS),
            age=rng.randint(18, 80),
            organisation=rng.choice(organisations) if n % 3 else None,
            custom_fields={"seats": rng.randint(1, 500), "region": rng.choice(("eu", "us"))},
        )
        for n in range(tickets // 5)
    )
    now = timezone.now()
    made = Ticket.objects.bulk_create(
        Ticket(
            subject=f"{rng.choice(WORDS)} {rng.choice(WORDS)} #{n}",
            channel=rng.choice(Ticket.Channel.values),
            priority=rng.choice(Ticket.Priority.values),
            customer=customers[n % len(customers)],
            mailbox=mailbox,
            created_at=now,
            updated_at=now,
        )
        for n in range(tickets)
    )
    Message.objects.bulk_create(
        Message(
            ticket=ticket,
            kind=Message.Kind.INBOUND,
            body_text=f"Hello, my {rng.choice(WORDS)} does not work.",
            created_at=now,
        )
        for ticket in made
    )
    log(f"loaded {len(made)} tickets, {len(customers)} customers")


def rule_rows(count: int) -> list[dict]:
    """Varied rules; each ticket matches a few of them."""
    rng = random.Random(11)

    def country():
        return {"field": "customer.country", "operator": "equals", "value": rng.choice(COUNTRIES)}

    kinds = [
        lambda: [
            {"field": "subject", "operator": "contains", "value": rng.choice(WORDS)},
            country(),
        ],
        lambda: [
            {"field": "customer.country", "operator": "in", "value": rng.sample(COUNTRIES, 2)},
            {"field": "priority", "operator": "equals", "value": "urgent"},
            {"field": "channel", "operator": "equals", "value": rng.choice(("chat", "phone"))},
        ],
        lambda: [
            {"field": "body", "operator": "regex", "value": rf"\b{rng.choice(WORDS)}\b"},
            country(),
        ],
        lambda: [
            {"field": "segment", "operator": "equals", "value": f"value/seg-{rng.randint(0, 9)}"}
        ],
        lambda: [
            {"field": "custom.seats", "operator": "gt", "value": rng.randint(400, 490)},
            {"field": "customer.plan", "operator": "equals", "value": rng.choice(PLANS)},
        ],
        lambda: [
            {"field": "organisation.industry", "operator": "equals", "value": "retail"},
            {
                "field": "email_domain",
                "operator": "equals",
                "value": f"d{rng.randint(0, 299)}.example",
            },
        ],
    ]
    actions = [
        lambda: {"action": "assign_team", "value": f"team-{rng.randint(0, 9)}"},
        lambda: {"action": "add_tags", "value": [f"tag-{rng.randint(0, 30)}"]},
        lambda: {"action": "set_priority", "value": rng.choice(("low", "high"))},
        lambda: {"action": "assign_round_robin", "value": f"team-{rng.randint(0, 9)}"},
    ]
    return [
        {
            "name": f"rule {n}",
            "match": "all",
            "events": ["ticket_created"],
            "always_run": False,
            "conditions": rng.choice(kinds)(),
            "actions": [rng.choice(actions)()],
        }
        for n in range(count)
    ]


def install_rules(count: int) -> None:
    from tickets.models import RoutingRule
    from tickets.services.rules import create_rule

    RoutingRule.objects.all().delete()
    for row in rule_rows(count):
        create_rule(actor=None, **row)


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def route_batch(ids: list[int]) -> tuple[float, float, int, int]:
    """(seconds, CPU seconds of this process, queries, firings) of routing these tickets,
    rolled back afterwards."""
    from django.db import connection, transaction

    from tickets.services.rules import route_tickets

    counter = QueryCounter()
    with connection.execute_wrapper(counter), transaction.atomic():
        began, began_cpu = time.perf_counter(), time.process_time()
        firings = route_tickets(ticket_ids=ids, event="ticket_created", cause="bench")
        seconds, cpu = time.perf_counter() - began, time.process_time() - began_cpu
        transaction.set_rollback(True)
    return seconds, cpu, counter.count, len(firings)


def evaluate_batch(ids: list[int]) -> tuple[float, float, int]:
    """(seconds, CPU seconds, queries) of the evaluation alone: the dry run's path, nothing
    written."""
    from django.db import connection

    from tickets.services import rules

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        began, began_cpu = time.perf_counter(), time.process_time()
        rules._plan_batch(
            rules._tickets(ids, lock=False), rules.compiled_rules(), event="ticket_created"
        )
        seconds, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    return seconds, cpu, counter.count


def main() -> None:
    args = parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        sys.exit("bench/routing.py needs DATABASE_URL=postgres://... (its own database)")
    recreate_database(url)
    setup_django(url)
    migrate()
    load(args.tickets)
    from tickets.models import Ticket

    ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
    batches = [ids[start : start + args.batch] for start in range(0, len(ids), args.batch)]
    per_rules = {}
    for count in sorted({20, args.rules}):
        install_rules(count)
        route_batch(batches[0])  # warm up connections and caches
        _, _, queries, firings = route_batch(batches[0])
        *_, evaluation_queries = evaluate_batch(batches[0])
        per_rules[count] = queries / len(batches[0])
        log(
            f"rules={count}: {queries} queries to route {len(batches[0])} tickets "
            f"({firings} firings; the evaluation alone: {evaluation_queries} queries)"
        )
    timings, cpu_timings, total_queries, total_firings, evaluations = [], [], 0, 0, []
    for batch in batches:
        seconds, cpu, queries, firings = route_batch(batch)
        timings.append(1000 * seconds / len(batch))
        cpu_timings.append(1000 * cpu / len(batch))
        total_queries += queries
        total_firings += firings
        seconds, cpu, queries = evaluate_batch(batch)
        evaluations.append((1000 * seconds / len(batch), 1000 * cpu / len(batch), queries))
    for count, per_ticket in per_rules.items():
        print(f"queries_per_ticket rules={count}: {per_ticket:.2f} (writes grow with firings)")
    print(
        f"evaluation only (context + rules, no writes): median ms/ticket="
        f"{statistics.median(ms for ms, _, _ in evaluations):.3f}, CPU ms/ticket="
        f"{statistics.median(cpu for _, cpu, _ in evaluations):.3f}, "
        f"queries per batch of {args.batch}={evaluations[0][2]}"
    )
    print(
        f"batches={len(batches)} of {args.batch}: ms/ticket min={min(timings):.3f} "
        f"median={statistics.median(timings):.3f} max={max(timings):.3f}; "
        f"CPU ms/ticket of this process (the database's own work excluded): "
        f"median={statistics.median(cpu_timings):.3f}; "
        f"firings per ticket={total_firings / len(ids):.2f}"
    )
    print(
        f"RESULT rules={args.rules} tickets={len(ids)} "
        f"median_ms_per_ticket={statistics.median(timings):.3f} "
        f"queries_per_ticket={total_queries / len(ids):.2f}"
    )


if __name__ == "__main__":
    main()
