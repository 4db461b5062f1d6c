import re
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from helpdesk.celery import app as celery_app
from tests.factories import AgentFactory, MailboxFactory
from tests.tickets.emails import raw_email
from tickets import services, tasks
from tickets.models import Message

OUR_ID = re.compile(r"^<t(\d+)\.m(\d+)\.[0-9a-f]{16}@helpdesk\.localhost>$")


class RefusingBackend(EmailBackend):
    """An SMTP server that answers the next ``failures`` messages with ``error``."""

    attempts = 0
    failures = 1000
    error: OSError = smtplib.SMTPServerDisconnected("connection lost")

    def send_messages(self, messages):
        cls = type(self)
        cls.attempts += 1
        if cls.failures > 0:
            cls.failures -= 1
            raise cls.error
        return super().send_messages(messages)


@pytest.fixture
def refusing_smtp(settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    RefusingBackend.attempts = 0
    RefusingBackend.failures = 1000
    RefusingBackend.error = smtplib.SMTPServerDisconnected("connection lost")
    return RefusingBackend


@pytest.fixture
def ticket(db):
    mailbox = MailboxFactory(address="support@helpdesk.example.com")
    raw = raw_email(message_id="<ask@mail.example.com>", references="<older@mail.example.com>")
    return services.ingest_email(mailbox=mailbox, raw=raw).ticket


def reply(ticket, text="Restart it, please.") -> Message:
    return services.reply_to_ticket(ticket=ticket, author=AgentFactory(), body_text=text)


def test_an_agents_reply_leaves_with_threading_headers_token_and_both_parts(
    ticket, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        message = reply(ticket, "Restart it <now>.")

    # then
    [sent] = mail.outbox
    headers = sent.message()
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.SENT
    assert OUR_ID.match(headers["Message-ID"]).groups() == (str(ticket.pk), str(message.pk))
    assert headers["Message-ID"] == message.message_id
    assert headers["In-Reply-To"] == "<ask@mail.example.com>"
    assert headers["References"] == "<ask@mail.example.com>"
    assert sent.subject == f"Re: Printer on fire [#{ticket.number}]"
    assert (sent.from_email, sent.to) == ("support@helpdesk.example.com", ["ann@example.com"])
    assert sent.body == "Restart it <now>."
    assert sent.alternatives[0].mimetype == "text/html"
    assert "Restart it &lt;now&gt;." in sent.alternatives[0].content
    assert message.headers["Message-ID"] == message.message_id
    assert message.headers["Subject"] == sent.subject


def test_later_replies_reference_the_whole_thread(ticket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = reply(ticket)
    first.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        reply(ticket, "And now?")

    headers = mail.outbox[1].message()
    assert headers["In-Reply-To"] == first.message_id
    assert headers["References"] == f"<ask@mail.example.com> {first.message_id}"
    assert mail.outbox[1].subject == f"Re: Printer on fire [#{ticket.number}]"


def test_a_message_is_never_sent_twice(ticket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = reply(ticket)

    services.deliver_message(message_id=message.pk)
    tasks.deliver_message_task.delay(message.pk)

    assert len(mail.outbox) == 1


def test_a_transient_smtp_failure_is_recorded_and_raised_for_a_retry(ticket, refusing_smtp):
    message = reply(ticket)

    with pytest.raises(smtplib.SMTPServerDisconnected):
        services.deliver_message(message_id=message.pk)

    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.PENDING
    assert message.delivery_error == "SMTPServerDisconnected: connection lost"
    assert OUR_ID.match(message.message_id)


def test_a_retry_after_a_failure_sends_with_the_same_message_id(ticket, refusing_smtp):
    # given: the first attempt fails
    refusing_smtp.failures = 1
    message = reply(ticket)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        services.deliver_message(message_id=message.pk)
    first_id = Message.objects.get(pk=message.pk).message_id

    # when
    services.deliver_message(message_id=message.pk)

    # then
    [sent] = mail.outbox
    message.refresh_from_db()
    assert sent.message()["Message-ID"] == first_id == message.message_id
    assert (message.delivery_status, message.delivery_error) == (Message.Delivery.SENT, "")


def test_the_task_retries_with_backoff_and_gives_up_as_failed(ticket, refusing_smtp, monkeypatch):
    # given: eager retries run in a loop, as a worker would run them, instead of raising
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    message = reply(ticket)

    # when

    tasks.deliver_message_task.apply(args=[message.pk])

    # then

    message.refresh_from_db()
    assert refusing_smtp.attempts == tasks.deliver_message_task.max_retries + 1
    assert message.delivery_status == Message.Delivery.FAILED
    assert "connection lost" in message.delivery_error


def test_a_permanent_refusal_marks_the_message_failed_without_retrying(ticket, refusing_smtp):
    refusing_smtp.error = smtplib.SMTPRecipientsRefused(
        {"ann@example.com": (550, b"5.1.1 no such user")}
    )
    message = reply(ticket)

    tasks.deliver_message_task.apply(args=[message.pk], throw=True)

    message.refresh_from_db()
    assert refusing_smtp.attempts == 1
    assert message.delivery_status == Message.Delivery.FAILED
    assert "no such user" in message.delivery_error


def test_an_automatic_reply_is_marked_so_other_systems_do_not_answer_it(
    ticket, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = services.queue_automatic_reply(ticket=ticket, body_text="We got it.")

    headers = mail.outbox[0].message()
    assert headers["Auto-Submitted"] == "auto-replied"
    assert headers["X-Auto-Response-Suppress"] == "All"
    message.refresh_from_db()
    assert (message.author, message.delivery_status) == (None, Message.Delivery.SENT)
    ticket.refresh_from_db()
    assert ticket.first_response_at is None
