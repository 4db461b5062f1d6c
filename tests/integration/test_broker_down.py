"""With Redis unreachable, tickets and replies are still saved; the sweeper finishes the work."""

import time

from helpdesk.celery import app as celery_app
from tests.factories import CustomerFactory, MailboxFactory, TeamFactory
from tickets import services, tasks
from tickets.models import Message, Ticket

ENQUEUE_BUDGET_SECONDS = 10


def test_work_saved_while_broker_is_down_is_finished_by_the_sweeper(
    live_celery, postgres, agent, use_broker, closed_port_url, wait_until, monkeypatch
):
    # given: the web side's broker is a port nothing listens on
    team = TeamFactory(name="Billing")
    mailbox = MailboxFactory(team=team)
    customer = CustomerFactory(email="ann@example.com")
    real_broker = celery_app.conf.broker_url
    use_broker(closed_port_url)

    # when: a ticket arrives and an agent replies
    started = time.monotonic()
    ticket = services.create_ticket(
        customer=customer, subject="Invoice twice", body_text="Charged twice", mailbox=mailbox
    )
    reply = services.reply_to_ticket(ticket=ticket, author=agent, body_text="Refund is on its way")
    elapsed = time.monotonic() - started

    # then: both are saved, nothing ran, and the requests did not hang on the broker
    assert elapsed < ENQUEUE_BUDGET_SECONDS
    ticket.refresh_from_db()
    reply.refresh_from_db()
    assert ticket.routed_at is None
    assert ticket.team is None
    assert reply.delivery_status == Message.Delivery.PENDING
    assert live_celery.sent_mail() == []

    # when: the broker is back and the periodic sweep runs
    use_broker(real_broker)
    monkeypatch.setattr(tasks, "SWEEP_AFTER_SECONDS", 0)
    swept = tasks.sweep_unfinished_work()

    # then: the worker routes the ticket and delivers the reply exactly once
    assert swept == {"route": 1, "deliver": 1}
    wait_until(
        lambda: Ticket.objects.filter(pk=ticket.pk, routed_at__isnull=False).exists(),
        what="the swept ticket to be routed",
    )
    wait_until(
        lambda: Message.objects.filter(pk=reply.pk, delivery_status="sent").exists(),
        what="the swept reply to be delivered",
    )
    ticket.refresh_from_db()
    assert ticket.team == team
    [mail] = live_celery.sent_mail()
    assert "To: ann@example.com" in mail
    assert f"[#{ticket.number}]" in mail
    assert "Refund is on its way" in mail
