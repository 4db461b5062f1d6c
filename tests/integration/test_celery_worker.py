"""A ticket created through the REST API is routed by a real Celery worker over Redis."""

from tests.factories import CustomerFactory, MailboxFactory, TeamFactory
from tickets import services
from tickets.models import Ticket


def test_ticket_created_is_routed_by_the_worker(live_celery, postgres, agent, wait_until):
    # given
    team = TeamFactory(name="Billing")
    mailbox = MailboxFactory(team=team)
    customer = CustomerFactory(email="ann@example.com")

    # when
    ticket = services.create_ticket(
        customer=customer, subject="Invoice twice", body_text="Charged twice", mailbox=mailbox
    )

    # then
    routed = wait_until(
        lambda: Ticket.objects.filter(pk=ticket.pk, routed_at__isnull=False).first(),
        what="the worker to route the ticket",
    )
    assert routed.team == team
    assert "route_ticket_task[" in live_celery.log()
