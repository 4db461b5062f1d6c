"""When a segment run on a real worker moves a customer into another segment, their open
tickets are re-routed by the routing rules on the segment-changed event.

The segmentation is rule-based (segments by purchase count), so which customer moves is known;
both runs are full runs started like the lead's button and executed by the Celery worker.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from helpdesk.models import AuditLog
from segments import services as segment_services
from segments.models import Segmentation
from tests.factories import CustomerFactory, PurchaseFactory, TeamFactory, TicketFactory
from tests.integration.segment_runs import run_on_worker
from tickets.models import RoutingRule, RuleFiring, Ticket
from tickets.services import rules as rule_services

pytestmark = pytest.mark.integration


def test_a_customer_who_moves_segment_has_open_tickets_rerouted_by_rules(
    live_celery, postgres, wait_until
):
    # given a rule-based segmentation and a rule for its "Many orders" segment
    yesterday = timezone.now() - timedelta(days=1)
    tier2 = TeamFactory(name="Tier 2", slug="tier-2")
    segmentation = Segmentation.objects.create(
        name="Value", slug="value", kind="rule", schedule="manual"
    )
    many = segment_services.save_rule_segment(
        segmentation=segmentation,
        name="Many orders",
        criteria=[{"field": "frequency", "op": ">=", "value": 3}],
        match="all",
        editor=None,
    )
    segment_services.save_rule_segment(
        segmentation=segmentation,
        name="Any order",
        criteria=[{"field": "frequency", "op": ">", "value": 0}],
        match="all",
        editor=None,
    )
    rule_services.create_rule(
        actor=None,
        name="Many orders to Tier 2",
        match="all",
        events=[RoutingRule.Event.SEGMENT_CHANGED],
        always_run=False,
        conditions=[{"field": "segment", "operator": "equals", "value": f"value/{many.slug}"}],
        actions=[
            {"action": "assign_team", "value": "tier-2"},
            {"action": "set_priority", "value": "high"},
        ],
    )
    mover, stayer = CustomerFactory(), CustomerFactory()
    for customer in (mover, stayer):
        PurchaseFactory(customer=customer, ordered_at=yesterday)
    run_on_worker(segmentation, wait_until, timeout=90)
    open_ticket = TicketFactory(customer=mover, status=Ticket.Status.OPEN)
    closed_ticket = TicketFactory(customer=mover, status=Ticket.Status.CLOSED)
    stayer_ticket = TicketFactory(customer=stayer, status=Ticket.Status.OPEN)

    # when the mover buys more and the segmentation runs again on the worker
    PurchaseFactory.create_batch(3, customer=mover, ordered_at=yesterday)
    second = run_on_worker(segmentation, wait_until, timeout=90)

    # then only the mover's open ticket was re-routed, by the rule, on the segment-changed event
    assert second.drift["moved"] == 1
    # the run shows as succeeded before the worker has re-routed the movers' tickets
    wait_until(
        lambda: AuditLog.objects.filter(
            action="ticket_rerouted", target_id=open_ticket.pk
        ).exists(),
        what="the worker to re-route the mover's tickets",
    )
    open_ticket.refresh_from_db()
    closed_ticket.refresh_from_db()
    stayer_ticket.refresh_from_db()
    assert (open_ticket.team, open_ticket.priority) == (tier2, "high")
    assert (closed_ticket.team, stayer_ticket.team) == (None, None)
    firing = RuleFiring.objects.get()
    assert (firing.ticket_id, firing.event, firing.rule_name) == (
        open_ticket.pk,
        RoutingRule.Event.SEGMENT_CHANGED,
        "Many orders to Tier 2",
    )
    assert "execute_segment_run_task[" in live_celery.log()
