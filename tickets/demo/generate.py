"""Rows of demo data, generated deterministically from one random generator.

Rows are plain tuples in the column order below, so the same rows feed ``bulk_create`` on
SQLite and ``COPY`` on PostgreSQL. Ids are assigned here (from the tables' current maximum),
which lets messages and tags reference tickets without reading anything back.
"""

import bisect
import itertools
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from html import escape
from random import Random

from tickets.demo.personas import (
    EMAIL_PROVIDERS,
    FIRST_NAMES,
    LAST_NAMES,
    ORGANISATION_KINDS,
    ORGANISATION_NAMES,
    ORGANISATION_SIZES,
    PERSONAS,
    PLACES,
    PRODUCTS,
    Persona,
    Place,
)
from tickets.demo.texts import API_ENDPOINTS, TOPICS, Issue, Topic

CUSTOMER_COLUMNS = (
    "id", "email", "name", "phone", "organisation_id", "country", "city", "language",
    "timezone", "age", "gender", "plan", "signup_date", "external_id", "custom_fields",
    "created_at", "updated_at",
)  # fmt: skip
PURCHASE_COLUMNS = (
    "id", "order_id", "customer_id", "ordered_at", "amount", "currency", "product", "category",
    "quantity",
)  # fmt: skip
TICKET_COLUMNS = (
    "id", "subject", "status", "priority", "channel", "customer_id", "team_id", "assignee_id",
    "mailbox_id", "search_document", "created_at", "updated_at", "first_response_at",
    "solved_at", "closed_at", "routed_at",
)  # fmt: skip
MESSAGE_COLUMNS = (
    "id", "ticket_id", "kind", "author_id", "body_text", "body_html", "headers", "mailbox_id",
    "message_id", "delivery_status", "created_at",
)  # fmt: skip

EXTERNAL_ID_PREFIX = "demo-"
ORDER_ID_PREFIX = "DEMO-"
TICKETS_PER_CUSTOMER = 5
BATCH_SIZE = 5_000

_DIAL_CODES = {
    "DE": 49, "GB": 44, "US": 1, "FR": 33, "NL": 31, "ES": 34, "IT": 39, "SE": 46, "CA": 1,
    "AU": 61, "IN": 91, "BR": 55, "JP": 81,
}  # fmt: skip
_REFERRALS = ("search", "friend", "podcast", "social ad", "review site", "partner")
# Chat and phone are answered live; the rest waits in a queue.
_LIVE_CHANNELS = {"chat", "phone"}


class Weighted:
    """A fast weighted pick from a {value: weight} mapping."""

    def __init__(self, weights: dict):
        self.values = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))

    def pick(self, rng: Random):
        return self.values[bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])]


@dataclass(frozen=True)
class Desk:
    """The staff side the generated tickets refer to, by id."""

    team_ids: dict[str, int]
    agents_by_team: dict[str, tuple[tuple[int, str], ...]]
    mailbox_ids: dict[str, int]
    mailbox_addresses: dict[str, str]
    tag_ids: dict[str, int]


@dataclass(slots=True)
class DemoCustomer:
    id: int
    persona: Persona
    first_name: str
    email: str
    place: Place
    active_from: datetime
    active_until: datetime


@dataclass(frozen=True)
class _Habits:
    channels: Weighted
    topics: Weighted
    priorities: Weighted


_HABITS = {
    p.slug: _Habits(Weighted(p.channels), Weighted(p.topics), Weighted(p.priorities))
    for p in PERSONAS
}
_STATUSES_BY_AGE = (
    (21, Weighted({"closed": 0.68, "solved": 0.32})),
    (3, Weighted({"solved": 0.4, "closed": 0.2, "pending": 0.15, "open": 0.15, "on_hold": 0.1})),
    (-1, Weighted({"new": 0.3, "open": 0.35, "pending": 0.15, "solved": 0.2})),
)
_PRODUCT_PRICES = [price for _, _, price in PRODUCTS]
_ORG_SIZES = Weighted(dict(ORGANISATION_SIZES))


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def organisation_specs(count: int, rng: Random) -> Iterator[tuple[str, str, str, int]]:
    """(name, domain, industry, size) of ``count`` organisations with unique names."""
    combos = list(itertools.product(ORGANISATION_NAMES, ORGANISATION_KINDS))
    for index in range(count):
        round_no, combo = divmod(index, len(combos))
        brand, (kind, industry) = combos[combo]
        name = f"{brand} {kind}" + (f" {round_no + 1}" if round_no else "")
        domain = "-".join(_ascii(part) for part in name.split()) + ".example"
        yield name, domain, industry, _ORG_SIZES.pick(rng)


def personas_for(count: int, rng: Random) -> list[Persona]:
    """Exactly ``count`` personas in their shares (largest remainder), shuffled."""
    quotas = [p.share * count for p in PERSONAS]
    counts = [int(q) for q in quotas]
    by_remainder = sorted(range(len(PERSONAS)), key=lambda i: counts[i] - quotas[i])
    for i in by_remainder[: count - sum(counts)]:
        counts[i] += 1
    personas = [p for p, n in zip(PERSONAS, counts, strict=True) for _ in range(n)]
    rng.shuffle(personas)
    return personas


class DemoGenerator:
    def __init__(self, *, rng: Random, now: datetime, desk: Desk):
        self.rng = rng
        self.now = now
        self.desk = desk

    # customers

    def customers(
        self, *, count: int, first_id: int, organisations: list[tuple[int, str]]
    ) -> tuple[list[DemoCustomer], list[tuple], list[tuple]]:
        """The customers, their rows and their (customer_id, tag_id) rows."""
        people, rows, tag_rows = [], [], []
        org_cycle = itertools.cycle(organisations)
        for serial, persona in enumerate(personas_for(count, self.rng), start=1):
            org = next(org_cycle) if persona.business else None
            person, row = self._customer(first_id + serial - 1, serial, persona, org)
            people.append(person)
            rows.append(row)
            tag_rows += [(person.id, self.desk.tag_ids[tag]) for tag in persona.customer_tags]
        return people, rows, tag_rows

    def _customer(self, customer_id, serial, persona, org) -> tuple[DemoCustomer, tuple]:
        rng = self.rng
        first, gender = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        place = rng.choice(PLACES)
        domain = org[1] if org else rng.choice(EMAIL_PROVIDERS)
        email = f"{_ascii(first)}.{_ascii(last)}.{serial}@{domain}"
        signup = self.now - timedelta(days=rng.uniform(*persona.signup_days_ago))
        until = min(
            self.now - timedelta(days=rng.uniform(*persona.quiet_days)),
            signup + timedelta(days=rng.uniform(*persona.active_days)),
        )
        person = DemoCustomer(customer_id, persona, first, email, place, signup, max(until, signup))
        has_phone = persona.business or rng.random() < 0.5
        phone = (
            f"+{_DIAL_CODES[place.country]} {rng.randint(20, 999)} {rng.randint(100000, 9999999)}"
            if has_phone
            else ""
        )
        custom_fields = {
            "loyalty_tier": persona.loyalty_tier,
            "marketing_opt_in": rng.random() < 0.4,
            "referral_source": rng.choice(_REFERRALS),
        }
        row = (
            customer_id, email, f"{first} {last}", phone, org[0] if org else None,
            place.country, place.city, place.language, place.timezone,
            rng.randint(*persona.age) if rng.random() > 0.05 else None, gender, persona.plan,
            signup.date(), f"{EXTERNAL_ID_PREFIX}{serial:07d}", custom_fields, self.now, self.now,
        )  # fmt: skip
        return person, row

    # purchases

    def purchases(self, customers: list[DemoCustomer], *, first_id: int) -> Iterator[list[tuple]]:
        rows, next_id = [], first_id
        for person in customers:
            for _ in range(self.rng.randint(*person.persona.purchases)):
                rows.append(self._purchase(next_id, person))
                next_id += 1
            if len(rows) >= BATCH_SIZE:
                yield rows
                rows = []
        if rows:
            yield rows

    def _purchase(self, purchase_id: int, person: DemoCustomer) -> tuple:
        rng, persona = self.rng, person.persona
        amount = rng.uniform(*persona.amount)
        quantity = rng.randint(*persona.quantity)
        name, category, _ = PRODUCTS[_closest_product(amount / quantity)]
        return (
            purchase_id, f"{ORDER_ID_PREFIX}{purchase_id:09d}", person.id,
            self._moment(person), Decimal(f"{amount:.2f}"), person.place.currency, name,
            category, quantity,
        )  # fmt: skip

    # tickets

    def tickets(
        self, customers: list[DemoCustomer], *, count: int, first_ticket_id: int,
        first_message_id: int,
    ) -> Iterator[tuple[list[tuple], list[tuple], list[tuple]]]:  # fmt: skip
        """Batches of (ticket rows, message rows, (ticket_id, tag_id) rows), oldest first."""
        weights = [person.persona.ticket_weight for person in customers]
        askers = self.rng.choices(customers, weights=weights, k=count)
        opened = sorted(
            ((self._ticket_moment(person), index) for index, person in enumerate(askers)),
        )
        message_ids = itertools.count(first_message_id)
        for start in range(0, count, BATCH_SIZE):
            batch = ([], [], [])
            for offset, (created, index) in enumerate(opened[start : start + BATCH_SIZE]):
                ticket, messages, tags = self._ticket(
                    first_ticket_id + start + offset, askers[index], created, message_ids
                )
                batch[0].append(ticket)
                batch[1].extend(messages)
                batch[2].extend(tags)
            yield batch

    def _ticket(self, ticket_id, person, created, message_ids) -> tuple[tuple, list, list]:
        rng, habits = self.rng, _HABITS[person.persona.slug]
        topic = TOPICS[habits.topics.pick(rng)]
        channel = habits.channels.pick(rng)
        status = self._status(created)
        team_agents = self.desk.agents_by_team[topic.team]
        assignee_id, agent_name = rng.choice(team_agents)
        if status == "new":
            assignee_id = None
        issue = rng.choice(topic.issues)
        words = self._words(person, agent_name)
        subject = issue.subject.format(**words)
        mailbox = topic.mailbox if channel == "email" else None
        thread = self._thread(person, topic, issue, channel, status, created, words, assignee_id)
        status, stamps = self._stamps(status, thread)
        messages = [
            self._message(next(message_ids), ticket_id, person, subject, mailbox, *entry)
            for entry in thread
        ]
        searchable = [subject] + [text for kind, _, text, _ in thread if kind != "note"]
        row = (
            ticket_id, subject, status, habits.priorities.pick(rng), channel, person.id,
            self.desk.team_ids[topic.team], assignee_id,
            self.desk.mailbox_ids[mailbox] if mailbox else None, "\n".join(searchable),
            created, *stamps, created + timedelta(seconds=rng.uniform(1, 30)),
        )  # fmt: skip
        tags = [(ticket_id, self.desk.tag_ids[topic.tag])]
        if "vip" in person.persona.customer_tags:
            tags.append((ticket_id, self.desk.tag_ids["vip"]))
        return row, messages, tags

    def _words(self, person: DemoCustomer, agent_name: str) -> dict[str, str]:
        rng = self.rng
        persona = person.persona
        amount = rng.uniform(*persona.amount)
        return {
            "first": person.first_name,
            "agent": agent_name,
            "order": f"#{rng.randint(100000, 999999)}",
            "product": PRODUCTS[_closest_product(amount)][0],
            "amount": f"{amount:.2f} {person.place.currency}",
            "plan": persona.plan.title(),
            "endpoint": rng.choice(API_ENDPOINTS),
        }

    def _status(self, created: datetime) -> str:
        """Old tickets are done; recent ones are still being worked."""
        age_days = (self.now - created).total_seconds() / 86400
        statuses = next(s for min_age, s in _STATUSES_BY_AGE if age_days > min_age)
        return statuses.pick(self.rng)

    def _thread(self, person, topic: Topic, issue: Issue, channel, status, created, words, agent):
        """The messages as (kind, author_id, text, at), starting with the customer's opening."""
        thread = [("inbound", None, issue.opening.format(**words), created)]
        if status == "new":
            return thread
        rng, persona = self.rng, person.persona
        live = channel in _LIVE_CHANNELS
        at = created
        if rng.random() < persona.note_chance:
            at = self._later(at, hours=(0.01, 0.5))
            thread.append(("note", agent, rng.choice(topic.notes).format(**words), at))
        at = self._later(at, hours=(0.01, 0.2) if live else persona.first_response_hours)
        thread.append(("outbound", agent, issue.answer.format(**words), at))
        while rng.random() < persona.follow_up_chance and len(thread) < 8:
            exchange = rng.randrange(len(topic.follow_ups))
            at = self._later(at, hours=(0.05, 0.5) if live else (1.0, 48.0))
            thread.append(("inbound", None, topic.follow_ups[exchange].format(**words), at))
            if status == "open" and rng.random() < 0.5:
                break  # the customer is waiting for our answer
            at = self._later(at, hours=(0.01, 0.3) if live else (0.5, 12.0))
            answer = topic.second_answers[exchange].format(**words)
            thread.append(("outbound", agent, answer, at))
        return thread

    def _stamps(self, status: str, thread: list) -> tuple[str, tuple]:
        """The status (a close still in the future stays solved) and
        (updated_at, first_response_at, solved_at, closed_at)."""
        last = thread[-1][3]
        first_response = next((at for kind, _, _, at in thread if kind == "outbound"), None)
        solved = closed = None
        if status in ("solved", "closed"):
            solved = self._later(last, hours=(0.02, 2.0))
        if status == "closed":
            closed = solved + timedelta(days=self.rng.uniform(2, 7))
            if closed > self.now:
                status, closed = "solved", None
        updated = closed or solved or last
        return status, (updated, first_response, solved, closed)

    def _message(self, message_id, ticket_id, person, subject, mailbox, kind, author, text, at):
        email = mailbox is not None and kind != "note"
        if kind == "inbound":
            headers = {"From": person.email, "Subject": subject} if email else {}
            message_id_header = f"<demo.{message_id}@{person.email.split('@')[1]}>"
        else:
            headers = {}
            domain = self.desk.mailbox_addresses[mailbox].split("@")[1] if email else ""
            message_id_header = f"<t{ticket_id}.m{message_id}.demo@{domain}>"
        html = "".join(f"<p>{escape(p)}</p>" for p in text.split("\n\n")) if email else ""
        return (
            message_id, ticket_id, kind, author, text, html, headers,
            self.desk.mailbox_ids[mailbox] if email else None,
            message_id_header if email else None, "sent" if kind == "outbound" else "", at,
        )  # fmt: skip

    # time

    def _moment(self, person: DemoCustomer) -> datetime:
        span = (person.active_until - person.active_from).total_seconds()
        return person.active_from + timedelta(seconds=self.rng.random() * span)

    def _ticket_moment(self, person: DemoCustomer) -> datetime:
        """Any time in the customer's active window; business accounts write in office hours."""
        moment = self._moment(person)
        if not person.persona.business:
            return moment
        local_day = (moment + timedelta(hours=person.place.utc_offset)).date()
        if local_day.weekday() >= 5:
            local_day -= timedelta(days=local_day.weekday() - 4)
        office = _local_time(local_day, self.rng.uniform(9, 17.5), person.place.utc_offset)
        office = office.replace(tzinfo=moment.tzinfo)
        return office if person.active_from <= office <= self.now else moment

    def _later(self, at: datetime, *, hours: tuple[float, float]) -> datetime:
        return min(at + timedelta(hours=self.rng.uniform(*hours)), self.now)


def _local_time(day: date, hour: float, utc_offset: float) -> datetime:
    return datetime(day.year, day.month, day.day) + timedelta(hours=hour - utc_offset)


def _closest_product(unit_price: float) -> int:
    index = bisect.bisect(_PRODUCT_PRICES, unit_price)
    if index == len(_PRODUCT_PRICES):
        return index - 1
    if index and unit_price - _PRODUCT_PRICES[index - 1] < _PRODUCT_PRICES[index] - unit_price:
        return index - 1
    return index
