import logging
from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from helpdesk.audit import record_change
from helpdesk.jobs import enqueue_on_commit
from helpdesk.models import User
from tickets.models import Customer, Mailbox, Message, Team, Ticket
from tickets.services.customers import tags_named
from tickets.services.sla import apply_sla_policy


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()
ROUTE_BATCH = 50
logger = logging.getLogger(__name__)


def _append_search_text(ticket: Ticket, text: str) -> None:
    ticket.search_document = f"{ticket.search_document}\n{text}".strip()[:100_000]


@transaction.atomic
def create_ticket(
    *,
    customer: Customer,
    subject: str,
    body_text: str,
    body_html: str = "",
    channel: str = Ticket.Channel.EMAIL,
    priority: str = Ticket.Priority.NORMAL,
    team: Team | None = None,
    assignee: User | None = None,
    tags: Iterable[str] = (),
    mailbox: Mailbox | None = None,
    headers: dict | None = None,
    message_id: str | None = None,
    actor: User | None = None,
    created_at: datetime | None = None,
) -> Ticket:
    """Open a ticket with the customer's first message; routing runs after commit."""
    now = created_at or timezone.now()
    ticket = Ticket(
        subject=subject.strip()[:255] or "(no subject)",
        channel=channel,
        priority=priority,
        customer=customer,
        # The id, not mailbox.team: the team row itself is not needed to open the ticket.
        team_id=team.pk if team else (mailbox.team_id if mailbox else None),
        assignee=assignee,
        mailbox=mailbox,
        created_at=now,
        updated_at=now,
    )
    _append_search_text(ticket, f"{ticket.subject}\n{body_text}")
    ticket.full_clean(exclude=["customer", "team", "assignee", "mailbox"])
    ticket.save()
    if tags:
        ticket.tags.set(tags_named(list(tags)))
    Message.objects.create(
        ticket=ticket,
        kind=Message.Kind.INBOUND,
        body_text=body_text,
        body_html=body_html,
        headers=headers or {},
        mailbox=mailbox,
        message_id=message_id,
        created_at=now,
    )
    record_change(
        target=ticket,
        action="ticket_created",
        actor=actor,
        changes={"channel": channel, "subject": ticket.subject},
    )
    from tickets.tasks import route_ticket_task

    enqueue_on_commit(route_ticket_task, ticket.pk)
    return ticket


@transaction.atomic
def record_inbound_message(
    *,
    ticket: Ticket,
    body_text: str,
    body_html: str = "",
    headers: dict | None = None,
    message_id: str | None = None,
    mailbox: Mailbox | None = None,
) -> Message:
    """Add the customer's reply to the thread; a solved or waiting ticket becomes open again."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    now = timezone.now()
    message = Message.objects.create(
        ticket=ticket,
        kind=Message.Kind.INBOUND,
        body_text=body_text,
        body_html=body_html,
        headers=headers or {},
        mailbox=mailbox,
        message_id=message_id,
        created_at=now,
    )
    fields = ["updated_at", "search_document"]
    if ticket.status in (Ticket.Status.PENDING, Ticket.Status.SOLVED, Ticket.Status.ON_HOLD):
        record_change(
            target=ticket,
            action="ticket_updated",
            changes={"status": [ticket.status, Ticket.Status.OPEN]},
            cause="customer replied",
        )
        ticket.status = Ticket.Status.OPEN
        ticket.solved_at = None
        fields += ["status", "solved_at"]
    ticket.updated_at = now
    _append_search_text(ticket, body_text)
    ticket.save(update_fields=fields)
    from tickets.tasks import route_reply_task

    enqueue_on_commit(route_reply_task, message.pk)
    return message


@transaction.atomic
def reply_to_ticket(
    *,
    ticket: Ticket,
    author: User,
    body_text: str,
    body_html: str = "",
    status: str | None = None,
) -> Message:
    """Post an agent's public reply; it is emailed to the customer after commit."""
    if not body_text.strip():
        raise ValidationError({"body_text": "A reply cannot be empty."})
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    now = timezone.now()
    message = Message.objects.create(
        ticket=ticket,
        kind=Message.Kind.OUTBOUND,
        author=author,
        body_text=body_text,
        body_html=body_html,
        mailbox=ticket.mailbox,
        delivery_status=Message.Delivery.PENDING,
        created_at=now,
    )
    fields = ["updated_at", "search_document"]
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        fields.append("first_response_at")
    ticket.updated_at = now
    _append_search_text(ticket, body_text)
    ticket.save(update_fields=fields)
    new_status = status or (Ticket.Status.OPEN if ticket.status == Ticket.Status.NEW else None)
    if new_status and new_status != ticket.status:
        update_ticket(ticket=ticket, actor=author, status=new_status)
    from tickets.tasks import deliver_message_task

    enqueue_on_commit(deliver_message_task, message.pk)
    return message


@transaction.atomic
def add_internal_note(*, ticket: Ticket, author: User, body_text: str) -> Message:
    if not body_text.strip():
        raise ValidationError({"body_text": "A note cannot be empty."})
    now = timezone.now()
    message = Message.objects.create(
        ticket=ticket, kind=Message.Kind.NOTE, author=author, body_text=body_text, created_at=now
    )
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
    return message


@transaction.atomic
def update_ticket(
    *,
    ticket: Ticket,
    actor: User | None,
    status=UNSET,
    priority=UNSET,
    assignee=UNSET,
    team=UNSET,
    tags=UNSET,
    subject=UNSET,
    cause: str = "",
) -> Ticket:
    """Change any of the given fields, keep the status timestamps true, and audit the change."""
    requested = {
        "status": status,
        "priority": priority,
        "assignee": assignee,
        "team": team,
        "subject": subject,
    }
    changes = {}
    for field, value in requested.items():
        if value is UNSET or getattr(ticket, field) == value:
            continue
        old = getattr(ticket, field)
        setattr(ticket, field, value)
        changes[field] = [_label(old), _label(value)]
    if "status" in changes:
        _stamp_status(ticket, changes)
    if changes:
        ticket.full_clean(exclude=["customer", "team", "assignee", "mailbox"])
        ticket.updated_at = timezone.now()
        update_fields = [f for f in requested if f in changes]
        update_fields += [f for f in ("solved_at", "closed_at") if f in changes]
        ticket.save(update_fields=[*update_fields, "updated_at"])
    if "priority" in changes and ticket.sla_policy_id:
        apply_sla_policy(ticket=ticket, policy=ticket.sla_policy, cause="priority changed")
    if tags is not UNSET:
        old_tags = sorted(t.name for t in ticket.tags.all())
        new_tags = tags_named(list(tags))
        if old_tags != sorted(t.name for t in new_tags):
            ticket.tags.set(new_tags)
            changes["tags"] = [old_tags, sorted(t.name for t in new_tags)]
    if changes:
        record_change(
            target=ticket, action="ticket_updated", actor=actor, changes=changes, cause=cause
        )
    return ticket


def _stamp_status(ticket: Ticket, changes: dict) -> None:
    now = timezone.now()
    if ticket.status == Ticket.Status.SOLVED and ticket.solved_at is None:
        ticket.solved_at = now
        changes["solved_at"] = [None, now.isoformat()]
    if ticket.status == Ticket.Status.CLOSED:
        ticket.closed_at = now
        ticket.solved_at = ticket.solved_at or now
        changes["closed_at"] = [None, now.isoformat()]
    if ticket.status in Ticket.ACTIVE_STATUSES and ticket.solved_at:
        ticket.solved_at = None
        ticket.closed_at = None
        changes["solved_at"] = ["reopened", None]
        changes["closed_at"] = ["reopened", None]


def close_ticket(*, ticket: Ticket, actor: User | None) -> Ticket:
    return update_ticket(ticket=ticket, actor=actor, status=Ticket.Status.CLOSED)


@transaction.atomic
def bulk_update_tickets(
    *,
    ticket_ids: Iterable[int],
    actor: User,
    assignee=UNSET,
    status=UNSET,
    add_tags: Iterable[str] = (),
) -> int:
    """Apply one change to many tickets; each ticket is audited like a single edit."""
    add_tags = list(add_tags)
    tickets = Ticket.objects.select_for_update().filter(pk__in=list(ticket_ids))
    tickets = tickets.prefetch_related("tags")
    count = 0
    for ticket in tickets:
        tags = UNSET
        if add_tags:
            tags = sorted({t.name for t in ticket.tags.all()} | {t.lower() for t in add_tags})
        update_ticket(ticket=ticket, actor=actor, assignee=assignee, status=status, tags=tags)
        count += 1
    return count


@transaction.atomic
def route_ticket(*, ticket_id: int) -> Ticket | None:
    """Routing rules on creation (else the segment's or mailbox's team). Runs once.

    Other new tickets still waiting for routing, oldest first, go in the same batch: when mail
    arrives faster than the worker routes it, the rules and contexts load once for many
    tickets. Tickets another worker is routing are skipped, not waited for.
    """
    from tickets.services.rules import route_tickets  # rules is built on this module

    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if ticket is None or ticket.routed_at is not None:
        return ticket
    waiting = (
        Ticket.objects.filter(routed_at__isnull=True)
        .exclude(pk=ticket_id)
        .order_by("created_at", "id")
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)
    )
    ids = [ticket_id, *waiting[: ROUTE_BATCH - 1]]
    try:
        with transaction.atomic():
            route_tickets(ticket_ids=ids, event="ticket_created", cause="ticket created")
    except Exception:
        # One ticket the rules fail on must not hold back the others it was batched with:
        # each of them is still routed by its own job.
        logger.exception(
            "routing a batch of %d tickets failed; routing #%s alone", len(ids), ticket_id
        )
        ids = [ticket_id]
        route_tickets(ticket_ids=ids, event="ticket_created", cause="ticket created")
    Ticket.objects.filter(pk__in=ids).update(routed_at=timezone.now())
    return Ticket.objects.get(pk=ticket_id)


def _label(value):
    if value is None:
        return None
    if hasattr(value, "pk"):
        return str(value)
    return value
