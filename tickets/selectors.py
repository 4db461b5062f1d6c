"""Reads shared by the HTML views (and available to the API), each a constant number of queries.

Lists page with LIMIT page_size + 1 instead of counting: one extra row says whether a next page
exists, so a page costs the same at a thousand or a million matching rows.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db import connection
from django.db.models import (
    Count,
    Expression,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone

from helpdesk.audit import history_of
from helpdesk.models import User
from helpdesk.roles import Role, has_role
from helpdesk.snapshots import copies
from tickets.directory import directory
from tickets.extensions import (
    Badge,
    Panel,
    badges_for_customers,
    customer_badges,
    customer_filters,
    customer_panels,
    ticket_panels,
)
from tickets.models import (
    PRIORITY_RANK,
    SLA_NEXT_DUE,
    Customer,
    Message,
    Organisation,
    OrganisationDomain,
    Purchase,
    SavedView,
    Tag,
    Team,
    Ticket,
)

PAGE_SIZE = 50
SIDEBAR_ROWS = 10
PREVIEW_CHARS = 160

ASSIGNEE_MINE = "mine"
ASSIGNEE_UNASSIGNED = "unassigned"
STATUS_ACTIVE = "active"
STATUS_ANY = "any"
SLA_BREACHED = "breached"
SLA_DUE_SOON = "due_soon"
SLA_ON_TRACK = "on_track"
SLA_MET = "met"
SLA_STOPPED = "stopped"  # the ticket closed before the target was met
SLA_NO_TARGET = "no_target"
SLA_DUE_SOON_WITHIN = timedelta(hours=1)

SORTS = {
    "updated": ("-updated_at", "-id"),
    "created": ("-created_at", "-id"),
    "priority": ("priority_rank", "-updated_at", "-id"),
    # Served by the ticket_sla_next_due index; tickets without a target come last.
    "due": (F("sla_next_due").asc(nulls_last=True), "id"),
}


@dataclass(frozen=True)
class Page:
    rows: list
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


@dataclass(frozen=True)
class BadgedPage(Page):
    """A page whose rows belong to customers, with each row's customer badges."""

    badges: Mapping[int, Sequence[Badge]] = field(default_factory=dict)
    customer_ids: Sequence[int] = ()

    @property
    def entries(self) -> list[tuple[object, Sequence[Badge]]]:
        return [
            (row, self.badges.get(customer_id, ()))
            for row, customer_id in zip(self.rows, self.customer_ids, strict=True)
        ]


def _badged_page(rows: list, customer_ids: list[int], *, number: int, has_next: bool):
    return BadgedPage(
        rows=rows,
        number=number,
        has_next=has_next,
        badges=badges_for_customers(customer_ids),
        customer_ids=customer_ids,
    )


def page_of(queryset: QuerySet, *, number: int, size: int = PAGE_SIZE) -> tuple[list, bool]:
    """Page ``number``'s rows and whether a next page exists, from one row beyond the page:
    never a count, which costs a scan of everything matching."""
    start = (number - 1) * size
    rows = list(queryset[start : start + size + 1])
    return rows[:size], len(rows) > size


def hidden_team_ids(user: User) -> frozenset[int]:
    """The private teams whose tickets ``user`` may not see (none for leads and admins, who see
    every ticket), from the process's directory of teams: no query on most pages."""
    if not hasattr(user, "_hidden_team_ids"):
        hidden = frozenset()
        if not has_role(user, Role.LEAD):
            people = directory().private_team_people
            hidden = frozenset(team for team, ids in people.items() if user.pk not in ids)
        user._hidden_team_ids = hidden
    return user._hidden_team_ids


def visible_tickets(user: User, queryset: QuerySet | None = None) -> QuerySet:
    """``queryset`` (every ticket by default) less the tickets ``user`` may not see: those of
    a private team the user is neither a member nor the lead of. A ticket assigned to the user
    stays visible, so no one is left holding work they cannot open. When no team is hidden from
    the user, the query is left exactly as it was."""
    tickets = Ticket.objects.all() if queryset is None else queryset
    return without_hidden_tickets(user, tickets)


def without_hidden_tickets(user: User, queryset: QuerySet, *, ticket_path: str = "") -> QuerySet:
    """``queryset`` less the rows whose ticket ``user`` may not see, by the rule and at the cost
    of ``visible_tickets``. ``ticket_path`` leads from a row to its ticket (``"ticket"`` for rows
    of other apps that point at one; empty for tickets); rows without a ticket stay."""
    hidden = hidden_team_ids(user)
    if not hidden:
        return queryset
    prefix = f"{ticket_path}__" if ticket_path else ""
    return queryset.exclude(
        Q(**{f"{prefix}team_id__in": hidden}) & ~Q(**{f"{prefix}assignee_id": user.pk})
    )


def ticket_hidden_from(user: User, ticket_id: int) -> bool:
    """Whether ``user`` may not see the ticket, for views that do not load it. While some team
    is hidden from the user, a missing ticket counts as hidden too, so that a 404 does not
    tell the two apart; otherwise this costs no ticket query."""
    if not hidden_team_ids(user):
        return False
    return not visible_tickets(user).filter(pk=ticket_id).exists()


def visible_ticket_ids(user: User, ticket_ids: Sequence[int]) -> list[int]:
    """Those of ``ticket_ids`` that ``user`` may see (missing ones included when no team is
    hidden from the user: the caller's own lookup skips them)."""
    if not hidden_team_ids(user):
        return list(ticket_ids)
    tickets = visible_tickets(user, Ticket.objects.filter(pk__in=ticket_ids))
    return list(tickets.values_list("pk", flat=True))


class StoredSearchVector(Expression):
    """The tickets' ``search_vector`` column on PostgreSQL: ``search_document`` as a tsvector,
    kept by triggers and indexed with GIN (migration 0014). It is not a model field, so loading
    a ticket never reads it."""

    output_field = SearchVectorField()

    def as_sql(self, compiler, connection):
        table = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return f"{table}.search_vector", []


def search_tickets(queryset: QuerySet, text: str) -> QuerySet:
    """Full-text search on PostgreSQL (the stored vector, through its GIN index or tested row by
    row along a sort's index), LIKE elsewhere."""
    if connection.vendor == "postgresql":
        return queryset.alias(search=StoredSearchVector()).filter(
            search=SearchQuery(text, config="english", search_type="websearch")
        )
    return queryset.filter(search_document__icontains=text)


def _apply_customer_filters(queryset: QuerySet, values: Mapping[str, str], field_name: str):
    for customer_filter in customer_filters():
        value = values.get(customer_filter.param)
        if value:
            queryset = queryset.filter(**{f"{field_name}__in": customer_filter.customer_ids(value)})
    return queryset


def filtered_tickets(*, user: User, filters: Mapping) -> QuerySet:
    """Tickets ``user`` may see matching the inbox filters (cleaned form data; missing keys mean
    no filter)."""
    tickets = Ticket.objects.alias(sla_next_due=SLA_NEXT_DUE)
    if hidden_team_ids(user):
        tickets = visible_tickets(user, tickets)
    status = filters.get("status") or STATUS_ACTIVE
    if status == STATUS_ACTIVE:
        tickets = tickets.filter(status__in=Ticket.ACTIVE_STATUSES)
    elif status != STATUS_ANY:
        tickets = tickets.filter(status=status)
    assignee = filters.get("assignee")
    if assignee == ASSIGNEE_MINE:
        tickets = tickets.filter(assignee=user)
    elif assignee == ASSIGNEE_UNASSIGNED:
        tickets = tickets.filter(assignee__isnull=True)
    elif assignee:
        tickets = tickets.filter(assignee_id=assignee)
    for name, lookup in (
        ("team", "team_id"),
        ("channel", "channel"),
        ("priority", "priority"),
        ("tag", "tags__name"),
        ("customer", "customer_id"),
    ):
        if filters.get(name):
            tickets = tickets.filter(**{lookup: filters[name]})
    if filters.get("sla"):
        tickets = tickets.filter(_sla_condition(filters["sla"]))
    if filters.get("q"):
        tickets = search_tickets(tickets, filters["q"])
    return _apply_customer_filters(tickets, filters, "customer_id")


def _sla_condition(name: str) -> Q:
    now = timezone.now()
    if name == SLA_BREACHED:
        missed = Q(first_response_breached_at__isnull=False)
        missed |= Q(resolution_breached_at__isnull=False)
        return missed | Q(sla_next_due__lt=now)
    return Q(sla_next_due__gte=now, sla_next_due__lt=now + SLA_DUE_SOON_WITHIN)


def _last_public_message_preview() -> Substr:
    latest = (
        Message.objects.filter(ticket=OuterRef("pk"))
        .exclude(kind=Message.Kind.NOTE)
        .order_by("-created_at", "-id")
        .values("body_text")[:1]
    )
    return Substr(Subquery(latest), 1, PREVIEW_CHARS)


@dataclass(frozen=True)
class SLADue:
    state: str  # "breached", "due_soon" or "on_track"
    target: str
    due_at: datetime | None


def _clock_state(due_at: datetime, now: datetime) -> str:
    """Where a running SLA clock stands: "breached", "due_soon" or "on_track"."""
    left = due_at - now
    if left.total_seconds() < 0:
        return SLA_BREACHED
    return SLA_DUE_SOON if left < SLA_DUE_SOON_WITHIN else SLA_ON_TRACK


def sla_due(ticket: Ticket) -> SLADue | None:
    """The ticket's SLA state for a pill: a recorded breach wins, then the next target."""
    if ticket.first_response_breached_at or ticket.resolution_breached_at:
        target = "first response" if ticket.first_response_breached_at else "resolution"
        return SLADue(SLA_BREACHED, target, None)
    if not ticket.is_active:
        return None
    if ticket.first_response_at is None:
        target, due_at = "first response", ticket.first_response_due_at
    else:
        target, due_at = "resolution", ticket.resolution_due_at
    if due_at is None:
        return None
    return SLADue(_clock_state(due_at, timezone.now()), target, due_at)


@dataclass(frozen=True)
class SLAClock:
    """One target of a ticket's SLA: its state, due time and when it was met or breached."""

    target: str
    state: str  # "met", "stopped", "no_target", or a running clock's state
    due_at: datetime | None
    at: datetime | None = None


@dataclass(frozen=True)
class TicketSLA:
    policy_name: str  # empty when the policy was deleted after it set the due times
    first_response: SLAClock
    resolution: SLAClock

    @property
    def clocks(self) -> tuple[SLAClock, SLAClock]:
        return self.first_response, self.resolution


def _sla_clock(
    target: str,
    *,
    due_at: datetime | None,
    done_at: datetime | None,
    breached_at: datetime | None,
    active: bool,
    now: datetime,
) -> SLAClock:
    if due_at is None:
        return SLAClock(target, SLA_NO_TARGET, None)
    # The sweeper flags a breach at the due time it missed; a late answer is a breach too.
    if breached_at or (done_at and done_at > due_at):
        return SLAClock(target, SLA_BREACHED, due_at, breached_at or due_at)
    if done_at:
        return SLAClock(target, SLA_MET, due_at, done_at)
    if not active:
        return SLAClock(target, SLA_STOPPED, due_at)
    state = _clock_state(due_at, now)
    return SLAClock(target, state, due_at, due_at if state == SLA_BREACHED else None)


def ticket_sla(ticket: Ticket) -> TicketSLA | None:
    """Both targets of the ticket's SLA for the ticket page; None when it has none. Reads
    ``ticket.sla_policy``: select it with the ticket."""
    if ticket.sla_policy_id is None and not (
        ticket.first_response_due_at or ticket.resolution_due_at
    ):
        return None
    now = timezone.now()
    return TicketSLA(
        policy_name=ticket.sla_policy.name if ticket.sla_policy else "",
        first_response=_sla_clock(
            "first response",
            due_at=ticket.first_response_due_at,
            done_at=ticket.first_response_at,
            breached_at=ticket.first_response_breached_at,
            active=ticket.is_active,
            now=now,
        ),
        resolution=_sla_clock(
            "resolution",
            due_at=ticket.resolution_due_at,
            done_at=ticket.solved_at or ticket.closed_at,
            breached_at=ticket.resolution_breached_at,
            active=ticket.is_active,
            now=now,
        ),
    )


@dataclass(frozen=True, slots=True)
class InboxRow:
    """What one inbox row shows, worked out once here so that the template of a 50-row page
    only prints values (template lookups and filters per row were most of the page's time)."""

    pk: int
    url: str
    subject: str
    preview: str
    customer_id: int
    customer_name: str
    status: str
    status_label: str
    priority: str
    priority_label: str
    channel_label: str
    team_name: str
    assignee_name: str
    tag_names: list[str]
    updated_at: datetime
    sla: SLADue | None


STATUS_LABELS = dict(Ticket.Status.choices)
PRIORITY_LABELS = dict(Ticket.Priority.choices)
CHANNEL_LABELS = dict(Ticket.Channel.choices)
INBOX_COLUMNS = (
    "subject", "status", "priority", "channel", "updated_at", "customer_id",
    "first_response_at", "first_response_due_at", "resolution_due_at",
    "first_response_breached_at", "resolution_breached_at",
    "customer__name", "customer__email", "team__name",
    "assignee__first_name", "assignee__last_name", "assignee__username",
)  # fmt: skip
# Any id works: the ticket URL is cut around it once per page instead of reversed per row.
_URL_PLACEHOLDER_ID = 987654321


def _tag_names_of(ticket_ids: list[int]) -> dict[int, list[str]]:
    links = (
        Ticket.tags.through.objects.filter(ticket_id__in=ticket_ids)
        .order_by("tag__name")
        .values_list("ticket_id", "tag__name")
    )
    names = defaultdict(list)
    for ticket_id, name in links:
        names[ticket_id].append(name)
    return names


def _inbox_row(ticket: Ticket, *, url: str, tag_names: list[str]) -> InboxRow:
    return InboxRow(
        pk=ticket.pk,
        url=url,
        subject=ticket.subject,
        preview=ticket.preview or "",
        customer_id=ticket.customer_id,
        customer_name=str(ticket.customer),
        status=ticket.status,
        status_label=STATUS_LABELS.get(ticket.status, ticket.status),
        priority=ticket.priority,
        priority_label=PRIORITY_LABELS.get(ticket.priority, ticket.priority),
        channel_label=CHANNEL_LABELS.get(ticket.channel, ticket.channel),
        team_name=ticket.team.name if ticket.team else "",
        assignee_name=ticket.assignee.display_name if ticket.assignee else "",
        tag_names=tag_names,
        updated_at=ticket.updated_at,
        sla=sla_due(ticket),
    )


def inbox_tickets(*, user: User, filters: Mapping) -> QuerySet:
    """The inbox's tickets in the chosen order, with what a row shows."""
    tickets = filtered_tickets(user=user, filters=filters)
    sort = SORTS.get(filters.get("sort") or "updated", SORTS["updated"])
    if "priority_rank" in sort:
        tickets = tickets.alias(priority_rank=PRIORITY_RANK)
    return (
        tickets.order_by(*sort)
        .select_related("customer", "assignee", "team")
        .only(*INBOX_COLUMNS)
        .annotate(preview=_last_public_message_preview())
    )


def inbox_page(*, user: User, filters: Mapping, page: int = 1) -> BadgedPage:
    tickets = inbox_tickets(user=user, filters=filters)
    found, has_next = page_of(tickets, number=page)
    tag_names = _tag_names_of([ticket.pk for ticket in found])
    url_start, url_end = reverse("tickets:ticket", args=[_URL_PLACEHOLDER_ID]).split(
        str(_URL_PLACEHOLDER_ID)
    )
    rows = [
        _inbox_row(
            ticket, url=f"{url_start}{ticket.pk}{url_end}", tag_names=tag_names.get(ticket.pk, [])
        )
        for ticket in found
    ]
    customer_ids = [ticket.customer_id for ticket in found]
    return _badged_page(rows, customer_ids, number=page, has_next=has_next)


@dataclass(frozen=True)
class InboxChoices:
    teams: list[Team]
    agents: list[User]
    tags: tuple[Tag, ...]  # the snapshot's own, read for their names only


def inbox_choices() -> InboxChoices:
    """What the filter and bulk-action selects offer. Teams and agents are copies, since a form
    hands the chosen one to services; tags, which can run to thousands, are not copied."""
    found = directory()
    return InboxChoices(teams=copies(found.teams), agents=copies(found.agents), tags=found.tags)


def saved_views_of(user: User) -> list[SavedView]:
    return list(SavedView.objects.filter(owner=user))


@dataclass(frozen=True)
class TicketDetail:
    ticket: Ticket
    thread: list[Message]
    history: list
    recent_tickets: list[Ticket]
    purchases: list[Purchase]
    badges: Sequence[Badge]
    customer_panels: list[Panel]
    ticket_panels: list[Panel]
    sla: TicketSLA | None


def ticket_detail(*, user: User, ticket_id: int) -> TicketDetail:
    """Everything the ticket page shows ``user``; raises Ticket.DoesNotExist, also for a ticket
    the user may not see."""
    ticket = (
        visible_tickets(user)
        .select_related("customer__organisation", "team", "assignee", "mailbox", "sla_policy")
        .prefetch_related("tags", "customer__tags")
        .defer("search_document")
        .get(pk=ticket_id)
    )
    customer = ticket.customer
    thread = list(
        ticket.messages.select_related("author").prefetch_related("attachments").defer("headers")
    )
    recent = (
        visible_tickets(user, customer.tickets.exclude(pk=ticket.pk))
        .select_related("assignee")
        .defer("search_document")
        .order_by("-created_at")[:SIDEBAR_ROWS]
    )
    return TicketDetail(
        ticket=ticket,
        thread=thread,
        history=ticket_history(ticket=ticket),
        recent_tickets=list(recent),
        purchases=list(customer.purchases.all()[:SIDEBAR_ROWS]),
        badges=customer_badges(customer),
        customer_panels=customer_panels(customer, user),
        ticket_panels=ticket_panels(ticket, user),
        sla=ticket_sla(ticket),
    )


def ticket_history(*, ticket: Ticket) -> list:
    return list(history_of(ticket))


def ticket_sidebar_state(*, user: User, ticket_id: int) -> Ticket:
    """The ticket with what the in-place property form shows; raises Ticket.DoesNotExist, also
    for a ticket ``user`` may not see."""
    return (
        visible_tickets(user)
        .select_related("team", "assignee", "sla_policy")
        .prefetch_related("tags")
        .get(pk=ticket_id)
    )


def _count_per(rows: QuerySet, parent: str) -> Subquery:
    """How many of ``rows`` (filtered on ``parent=OuterRef("pk")``) belong to each parent row."""
    counted = rows.order_by().values(parent).annotate(n=Count("pk")).values("n")
    return Subquery(counted, output_field=IntegerField())


def _ticket_count(user: User) -> Subquery:
    return _count_per(
        visible_tickets(user, Ticket.objects.filter(customer=OuterRef("pk"))), "customer"
    )


def customer_list_page(*, user: User, filters: Mapping, page: int = 1) -> BadgedPage:
    customers = Customer.objects.all()
    if filters.get("q"):
        text = filters["q"]
        customers = customers.filter(Q(name__icontains=text) | Q(email__icontains=text))
    if filters.get("tag"):
        customers = customers.filter(tags__name=filters["tag"])
    if filters.get("organisation"):
        customers = customers.filter(organisation_id=filters["organisation"])
    customers = _apply_customer_filters(customers, filters, "pk")
    customers = (
        customers.select_related("organisation")
        .prefetch_related("tags")
        .annotate(ticket_count=_ticket_count(user))
        .order_by("name", "id")
    )
    rows, has_next = page_of(customers, number=page)
    return _badged_page(rows, [customer.pk for customer in rows], number=page, has_next=has_next)


@dataclass(frozen=True)
class CustomerProfile:
    customer: Customer
    tickets: list[Ticket]
    ticket_count: int
    purchases: list[Purchase]
    purchase_count: int
    purchase_total: object
    badges: Sequence[Badge]
    panels: list[Panel]


def customer_profile(*, user: User, customer_id: int, rows: int = 25) -> CustomerProfile:
    """The customer's profile with the recent tickets ``user`` may see and purchases; raises
    Customer.DoesNotExist."""
    customer = (
        Customer.objects.select_related("organisation").prefetch_related("tags").get(pk=customer_id)
    )
    visible = visible_tickets(user, customer.tickets.all())
    tickets = (
        visible.select_related("assignee", "team")
        .defer("search_document")
        .order_by("-created_at")[:rows]
    )
    totals = customer.purchases.order_by().aggregate(count=Count("pk"), total=Sum("amount"))
    return CustomerProfile(
        customer=customer,
        tickets=list(tickets),
        ticket_count=visible.count(),
        purchases=list(customer.purchases.all()[:rows]),
        purchase_count=totals["count"],
        purchase_total=totals["total"] or 0,
        badges=customer_badges(customer),
        panels=customer_panels(customer, user),
    )


def organisation_list_page(*, query: str = "", page: int = 1) -> Page:
    organisations = Organisation.objects.all()
    if query:
        organisations = organisations.filter(
            Q(name__icontains=query) | Q(domains__domain__icontains=query)
        ).distinct()
    organisations = (
        organisations.prefetch_related(
            Prefetch("domains", OrganisationDomain.objects.order_by("domain"))
        )
        .annotate(
            customer_count=_count_per(
                Customer.objects.filter(organisation=OuterRef("pk")), "organisation"
            )
        )
        .order_by("name", "id")
    )
    rows, has_next = page_of(organisations, number=page)
    return Page(rows=rows, number=page, has_next=has_next)


@dataclass(frozen=True)
class OrganisationPage:
    organisation: Organisation
    customers: BadgedPage
    tickets: list[Ticket]


def organisation_page(
    *, user: User, organisation_id: int, rows: int = PAGE_SIZE
) -> OrganisationPage:
    """The organisation with its domains, first customers and the latest tickets ``user`` may
    see."""
    organisation = Organisation.objects.prefetch_related(
        Prefetch("domains", OrganisationDomain.objects.order_by("domain"))
    ).get(pk=organisation_id)
    customers = (
        organisation.customers.prefetch_related("tags")
        .annotate(ticket_count=_ticket_count(user))
        .order_by("name", "id")
    )
    customers, more = page_of(customers, number=1, size=rows)
    tickets = (
        visible_tickets(user, Ticket.objects.filter(customer__organisation=organisation))
        .select_related("customer", "assignee", "team")
        .defer("search_document")
        .order_by("-updated_at", "-id")[:rows]
    )
    return OrganisationPage(
        organisation=organisation,
        customers=_badged_page(
            customers, [customer.pk for customer in customers], number=1, has_next=more
        ),
        tickets=list(tickets),
    )
