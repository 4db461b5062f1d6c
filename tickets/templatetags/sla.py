from dataclasses import dataclass
from datetime import datetime

from django import template
from django.utils import timezone

from tickets.models import Ticket
from tickets.selectors import SLA_DUE_SOON_WITHIN

register = template.Library()


@dataclass(frozen=True)
class SLADue:
    state: str  # "breached", "due_soon" or "on_track"
    target: str
    due_at: datetime | None


@register.simple_tag
def sla_due(ticket: Ticket) -> SLADue | None:
    """The ticket's SLA state for a pill: a recorded breach wins, then the next target."""
    if ticket.first_response_breached_at or ticket.resolution_breached_at:
        target = "first response" if ticket.first_response_breached_at else "resolution"
        return SLADue("breached", target, None)
    if not ticket.is_active:
        return None
    if ticket.first_response_at is None:
        target, due_at = "first response", ticket.first_response_due_at
    else:
        target, due_at = "resolution", ticket.resolution_due_at
    if due_at is None:
        return None
    left = due_at - timezone.now()
    if left.total_seconds() < 0:
        return SLADue("breached", target, due_at)
    return SLADue("due_soon" if left < SLA_DUE_SOON_WITHIN else "on_track", target, due_at)
