"""A ticket created through the REST API is routed by a real Celery worker over Redis."""

from tests.factories import TeamFactory
from tickets.models import RoutingRule, Ticket
from tickets.services import rules


def test_ticket_created_via_the_api_is_routed_by_the_worker(
    live_celery, postgres, api, lead, wait_until
):
    # given: a lead's rule sends invoice questions to Billing
    billing = TeamFactory(name="Billing", slug="billing")
    rules.create_rule(
        actor=lead,
        name="Invoices to Billing",
        match="all",
        events=[RoutingRule.Event.TICKET_CREATED],
        always_run=False,
        conditions=[{"field": "subject", "operator": "contains", "value": "invoice"}],
        actions=[{"action": "assign_team", "value": "billing"}],
    )

    # when
    response = api.post(
        "/api/tickets/",
        {
            "customer_email": "ann@example.com",
            "subject": "Invoice charged twice",
            "body_text": "Twice!",
        },
        format="json",
    )

    # then: the request only enqueued the routing; the worker process ran the rule
    assert response.status_code == 201, response.content
    ticket_id = response.json()["id"]
    routed = wait_until(
        lambda: Ticket.objects.filter(pk=ticket_id, routed_at__isnull=False).first(),
        what="the worker to route the ticket",
    )
    assert routed.team == billing
    assert routed.rule_firings.get().rule_name == "Invoices to Billing"
    assert "route_ticket_task[" in live_celery.log()
