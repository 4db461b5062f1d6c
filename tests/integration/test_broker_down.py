"""With Redis unreachable, tickets and replies are still saved; the sweeper finishes the work."""

import time

from helpdesk.celery import app as celery_app
from tickets import tasks
from tickets.models import Message, Ticket

REQUEST_BUDGET_SECONDS = 10


def test_work_saved_while_the_broker_is_down_is_finished_by_the_sweeper(
    live_celery, postgres, api, use_broker, closed_port_url, wait_until, monkeypatch
):
    # given: the web side's broker is a port nothing listens on
    real_broker = celery_app.conf.broker_url
    use_broker(closed_port_url)

    # when: a ticket arrives through the API and an agent replies
    started = time.monotonic()
    created = api.post(
        "/api/tickets/",
        {"customer_email": "ann@example.com", "subject": "Invoice twice", "body_text": "Twice!"},
        format="json",
    )
    ticket_id = created.json()["id"]
    replied = api.post(
        f"/api/tickets/{ticket_id}/reply/", {"body_text": "Refund is on its way"}, format="json"
    )
    elapsed = time.monotonic() - started

    # then: both requests succeed quickly and everything is saved, waiting for its job
    assert (created.status_code, replied.status_code) == (201, 201)
    assert elapsed < REQUEST_BUDGET_SECONDS
    ticket = Ticket.objects.get(pk=ticket_id)
    reply = Message.objects.get(pk=replied.json()["id"])
    assert ticket.routed_at is None
    assert ticket.messages.get(kind=Message.Kind.INBOUND).body_text == "Twice!"
    assert reply.delivery_status == Message.Delivery.PENDING
    assert live_celery.sent_mail() == []

    # when: the broker is back and the periodic sweep runs
    use_broker(real_broker)
    monkeypatch.setattr(tasks, "SWEEP_AFTER_SECONDS", 0)
    swept = tasks.sweep_unfinished_work()

    # then: the worker routes the ticket and delivers the reply
    assert swept == {
        "process": 0,
        "route": 1,
        "deliver": 1,
        "import": 0,
        "fail_stalled_imports": 0,
    }
    wait_until(
        lambda: Ticket.objects.filter(pk=ticket_id, routed_at__isnull=False).exists(),
        what="the swept ticket to be routed",
    )
    wait_until(
        lambda: Message.objects.filter(pk=reply.pk, delivery_status="sent").exists(),
        what="the swept reply to be delivered",
    )
    [mail] = live_celery.sent_mail()
    assert "To: ann@example.com" in mail
    assert f"[#{ticket.number}]" in mail
    assert "Refund is on its way" in mail

    # when: the sweep runs again, there is nothing left to do and nothing is sent twice
    assert tasks.sweep_unfinished_work() == {
        "process": 0,
        "route": 0,
        "deliver": 0,
        "import": 0,
        "fail_stalled_imports": 0,
    }
    assert len(live_celery.sent_mail()) == 1
