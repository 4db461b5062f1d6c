"""Routing applied again after something about the customer changed (e.g. their segment)."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from helpdesk.models import AuditLog
from tickets.models import Ticket
from tickets.services.tickets import update_ticket

REROUTE_BATCH = 500


def reroute_open_tickets(*, customer_ids: Iterable[int], cause: str) -> int:
    """Re-apply routing to the active tickets of these customers; returns how many.

    Today routing is the default one (a ticket without a team goes to its mailbox's team);
    every re-routed ticket is audited with ``cause`` so an agent can see why it moved.
    """
    ids = sorted(set(customer_ids))
    return sum(
        _reroute_batch(customer_ids=ids[start : start + REROUTE_BATCH], cause=cause)
        for start in range(0, len(ids), REROUTE_BATCH)
    )


@transaction.atomic
def _reroute_batch(*, customer_ids: list[int], cause: str) -> int:
    tickets = list(
        Ticket.objects.select_for_update(of=("self",))
        .select_related("team", "mailbox__team")
        .filter(customer_id__in=customer_ids, status__in=Ticket.ACTIVE_STATUSES)
    )
    for ticket in tickets:
        if ticket.team_id is None and ticket.mailbox and ticket.mailbox.team_id:
            update_ticket(ticket=ticket, actor=None, team=ticket.mailbox.team, cause=cause)
    now = timezone.now()
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(routed_at=now)
    AuditLog.objects.bulk_create(
        AuditLog(
            target_type=Ticket._meta.model_name,
            target_id=ticket.pk,
            action="ticket_rerouted",
            changes={"team": ticket.team.name if ticket.team_id else None},
            cause=cause,
        )
        for ticket in tickets
    )
    return len(tickets)
