"""Seed a believable help desk: staff, teams, mailboxes and customers who behave differently."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from random import Random

from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from helpdesk.models import User
from helpdesk.roles import Role
from tickets.demo.generate import (
    CUSTOMER_COLUMNS,
    EXTERNAL_ID_PREFIX,
    MESSAGE_COLUMNS,
    PURCHASE_COLUMNS,
    TICKET_COLUMNS,
    TICKETS_PER_CUSTOMER,
    DemoGenerator,
    Desk,
    organisation_specs,
)
from tickets.demo.personas import PERSONAS
from tickets.demo.texts import TOPICS
from tickets.demo.writers import writer_for
from tickets.models import (
    Customer,
    Mailbox,
    Message,
    Organisation,
    OrganisationDomain,
    Purchase,
    Tag,
    Team,
    Ticket,
)

DEMO_PASSWORD = "demo-password-123"
DEMO_DOMAIN = "demo-helpdesk.example"
DEFAULT_SEED = 20240601

# username, first name, last name, role, teams they work in
STAFF = (
    ("admin", "Ada", "Admin", Role.ADMIN, ()),
    ("lead", "Leo", "Lead", Role.LEAD, ()),
    ("agent", "Alex", "Agent", Role.AGENT, ("tier-1",)),
    ("maria", "Maria", "Santos", Role.AGENT, ("tier-1",)),
    ("tom", "Tom", "Becker", Role.AGENT, ("tier-1",)),
    ("priya", "Priya", "Shah", Role.AGENT, ("tier-2",)),
    ("jonas", "Jonas", "Berg", Role.AGENT, ("tier-2",)),
    ("sofia", "Sofia", "Rossi", Role.AGENT, ("billing",)),
    ("kenji", "Kenji", "Mori", Role.AGENT, ("billing",)),
)
TEAMS = (("tier-1", "Tier 1"), ("tier-2", "Tier 2"), ("billing", "Billing"))
TEAM_LEAD = "lead"
MAILBOXES = (("support", "tier-1"), ("billing", "billing"))
B2B_CUSTOMERS_PER_ORGANISATION = 6


class DemoDataExists(Exception):
    pass


@dataclass(frozen=True)
class DemoSummary:
    customers: int
    organisations: int
    purchases: int
    tickets: int
    messages: int
    seconds: float


def seed_demo_data(
    *,
    customers: int,
    password: str,
    tickets: int | None = None,
    reset: bool = False,
    seed: int = DEFAULT_SEED,
    now: datetime | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> DemoSummary:
    """Create the demo data set; ``tickets`` defaults to five per customer.

    Raises DemoDataExists when demo staff are already there, unless ``reset`` deletes the
    previous demo data first. Ids are taken from the tables' current maximum, so nothing else
    may write to these tables while it runs.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if tickets is not None and tickets < 0:
        raise ValueError("tickets cannot be negative")
    started = time.perf_counter()
    with transaction.atomic():
        _clear_previous(reset=reset, progress=progress)
        desk = _create_desk(password)
        generator = DemoGenerator(rng=Random(seed), now=now or timezone.now(), desk=desk)
        counts = _write_rows(
            generator,
            customers=customers,
            tickets=TICKETS_PER_CUSTOMER * customers if tickets is None else tickets,
            progress=progress,
        )
    return DemoSummary(**counts, seconds=time.perf_counter() - started)


def demo_customers():
    return Customer.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX)


def _clear_previous(*, reset: bool, progress) -> None:
    usernames = [username for username, *_ in STAFF]
    existing = sorted(
        User.objects.filter(username__in=usernames).values_list("username", flat=True)
    )
    if existing and not reset:
        raise DemoDataExists(
            f"Demo users already exist ({', '.join(existing)}); "
            "use --reset to replace the demo data."
        )
    if not reset:
        return
    progress("deleting the previous demo data")
    organisation_ids = set(demo_customers().values_list("organisation_id", flat=True))
    Ticket.objects.filter(customer__in=demo_customers()).delete()
    demo_customers().delete()
    Organisation.objects.filter(pk__in=organisation_ids - {None}).delete()
    Mailbox.objects.filter(address__endswith=f"@{DEMO_DOMAIN}").delete()
    Team.objects.filter(slug__in=[slug for slug, _ in TEAMS]).delete()
    User.objects.filter(username__in=usernames).delete()


def _create_desk(password: str) -> Desk:
    users = _create_staff(password)
    teams = {
        slug: Team.objects.create(slug=slug, name=name, lead=users[TEAM_LEAD])
        for slug, name in TEAMS
    }
    for username, _, _, _, team_slugs in STAFF:
        for slug in team_slugs:
            teams[slug].members.add(users[username])
    mailboxes = {
        slug: Mailbox.objects.create(
            slug=slug, address=f"{slug}@{DEMO_DOMAIN}", team=teams[team_slug]
        )
        for slug, team_slug in MAILBOXES
    }
    return Desk(
        team_ids={slug: team.pk for slug, team in teams.items()},
        agents_by_team={
            slug: tuple(
                (users[username].pk, first)
                for username, first, _, _, slugs in STAFF
                if slug in slugs
            )
            for slug in teams
        },
        mailbox_ids={slug: mailbox.pk for slug, mailbox in mailboxes.items()},
        mailbox_addresses={slug: mailbox.address for slug, mailbox in mailboxes.items()},
        tag_ids=_ensure_tags(),
    )


def _create_staff(password: str) -> dict[str, User]:
    users = {}
    for username, first, last, role, _ in STAFF:
        user = User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@{DEMO_DOMAIN}",
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        user.set_password(password)
        user.save()
        group, _ = Group.objects.get_or_create(name=role.group_name)
        user.groups.add(group)
        users[username] = user
    return users


def _ensure_tags() -> dict[str, int]:
    names = {topic.tag for topic in TOPICS.values()}
    names |= {tag for persona in PERSONAS for tag in persona.customer_tags}
    Tag.objects.bulk_create([Tag(name=name) for name in sorted(names)], ignore_conflicts=True)
    return dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))


def _create_organisations(count: int, rng: Random) -> list[tuple[int, str]]:
    """(id, email domain) of ``count`` new organisations."""
    specs = list(organisation_specs(count, rng))
    organisations = Organisation.objects.bulk_create(
        [Organisation(name=name, industry=industry, size=size) for name, _, industry, size in specs]
    )
    OrganisationDomain.objects.bulk_create(
        [
            OrganisationDomain(organisation=organisation, domain=domain)
            for organisation, (_, domain, _, _) in zip(organisations, specs, strict=True)
        ]
    )
    return [(org.pk, domain) for org, (_, domain, _, _) in zip(organisations, specs, strict=True)]


def _write_rows(generator: DemoGenerator, *, customers: int, tickets: int, progress) -> dict:
    writer = writer_for(connection)
    business = sum(p.share for p in PERSONAS if p.business) * customers
    organisations = _create_organisations(
        max(1, round(business / B2B_CUSTOMERS_PER_ORGANISATION)), generator.rng
    )
    people, customer_rows, customer_tags = generator.customers(
        count=customers, first_id=_next_id(Customer), organisations=organisations
    )
    writer.write(Customer, CUSTOMER_COLUMNS, customer_rows)
    writer.write(Customer.tags.through, ("customer_id", "tag_id"), customer_tags)
    progress(f"{customers} customers in {len(organisations)} organisations")
    purchases = 0
    for rows in generator.purchases(people, first_id=_next_id(Purchase)):
        writer.write(Purchase, PURCHASE_COLUMNS, rows)
        purchases += len(rows)
    progress(f"{purchases} purchases")
    written_tickets = messages = 0
    batches = generator.tickets(
        people, count=tickets, first_ticket_id=_next_id(Ticket), first_message_id=_next_id(Message)
    )
    for ticket_rows, message_rows, tag_rows in batches:
        writer.write(Ticket, TICKET_COLUMNS, ticket_rows)
        writer.write(Message, MESSAGE_COLUMNS, message_rows)
        writer.write(Ticket.tags.through, ("ticket_id", "tag_id"), tag_rows)
        written_tickets += len(ticket_rows)
        messages += len(message_rows)
        progress(f"{written_tickets}/{tickets} tickets, {messages} messages")
    writer.finish([Customer, Purchase, Ticket, Message])
    return {
        "customers": customers,
        "organisations": len(organisations),
        "purchases": purchases,
        "tickets": written_tickets,
        "messages": messages,
    }


def _next_id(model) -> int:
    return (model.objects.aggregate(highest=Max("pk"))["highest"] or 0) + 1
