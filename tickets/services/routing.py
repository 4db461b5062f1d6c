"""Routing applied again after something about the customer changed (e.g. their segment)."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from helpdesk.models import AuditLog
from tickets.models import RoutingRule, Ticket
from tickets.services.rules import route_tickets

REROUTE_BATCH = 500


def reroute_open_tickets(*, customer_ids: Iterable[int], cause: str) -> int:
    """Apply the routing rules for the segment-changed event to the active tickets of these
    customers (and the default team where no rule sets one); returns how many tickets.

    Every re-routed ticket is audited with ``cause`` so an agent can see why it moved.
    """
    ids = sorted(set(customer_ids))
    return sum(
        _reroute_batch(customer_ids=ids[start : start + REROUTE_BATCH], cause=cause)
        for start in range(0, len(ids), REROUTE_BATCH)
    )


@transaction.atomic
def _reroute_batch(*, customer_ids: list[int], cause: str) -> int:
    ticket_ids = list(
        Ticket.objects.filter(
            customer_id__in=customer_ids, status__in=Ticket.ACTIVE_STATUSES
        ).values_list("pk", flat=True)
    )
    route_tickets(ticket_ids=ticket_ids, event=RoutingRule.Event.SEGMENT_CHANGED, cause=cause)
    tickets = Ticket.objects.filter(pk__in=ticket_ids)
    tickets.update(routed_at=timezone.now())
    AuditLog.objects.bulk_create(
        AuditLog(
            target_type=Ticket._meta.model_name,
            target_id=pk,
            action="ticket_rerouted",
            changes={"team": team_name},
            cause=cause,
        )
        for pk, team_name in tickets.values_list("pk", "team__name")
    )
    return len(ticket_ids)
