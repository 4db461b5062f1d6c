"""Outbound mail through a real SMTP server (aiosmtpd) and the customer's answer threading back."""

import re
from email import message_from_bytes, policy

import pytest

from tests.factories import AgentFactory, MailboxFactory
from tests.tickets.emails import raw_email, reply_to
from tickets import services
from tickets.models import Message
from tickets.services import IngestOutcome

pytestmark = pytest.mark.integration

OUR_ID = re.compile(r"^<t(\d+)\.m(\d+)\.[0-9a-f]{16}@helpdesk\.localhost>$")


@pytest.fixture
def ticket(postgres, db):
    mailbox = MailboxFactory(address="support@helpdesk.example.com")
    raw = raw_email(message_id="<question@mail.example.com>")
    return services.ingest_email(mailbox=mailbox, raw=raw).ticket


def test_the_agents_reply_reaches_the_smtp_server_threaded_and_the_answer_comes_back(
    smtp_server, ticket, django_capture_on_commit_callbacks
):
    # when: an agent replies
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.reply_to_ticket(
            ticket=ticket, author=AgentFactory(), body_text="Please restart it."
        )

    # then: the SMTP server received it with our threading headers
    [envelope] = smtp_server.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == (
        "support@helpdesk.example.com",
        ["ann@example.com"],
    )
    sent = message_from_bytes(envelope.content, policy=policy.default)
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT
    assert sent["Message-ID"] == reply.message_id
    assert OUR_ID.match(sent["Message-ID"]).groups() == (str(ticket.pk), str(reply.pk))
    assert sent["In-Reply-To"] == "<question@mail.example.com>"
    assert sent["References"] == "<question@mail.example.com>"
    assert sent["Subject"] == f"Re: Printer on fire [#{ticket.number}]"
    assert sent.get_body(("plain",)).get_content().strip() == "Please restart it."
    assert "<p>Please restart it.</p>" in sent.get_body(("html",)).get_content()

    # when: the customer answers that mail
    answer = reply_to(envelope.content, message_id="<answer@mail.example.com>")
    result = services.ingest_email(mailbox=ticket.mailbox, raw=answer)

    # then: it lands in the same ticket
    assert (result.outcome, result.ticket) == (IngestOutcome.THREADED, ticket)
    assert list(ticket.messages.values_list("kind", flat=True)) == [
        Message.Kind.INBOUND,
        Message.Kind.OUTBOUND,
        Message.Kind.INBOUND,
    ]


def test_a_recipient_the_server_refuses_permanently_marks_the_reply_failed(
    smtp_server, ticket, django_capture_on_commit_callbacks
):
    smtp_server.refuse_recipients_with = "550 5.1.1 No such user"

    with django_capture_on_commit_callbacks(execute=True):
        reply = services.reply_to_ticket(ticket=ticket, author=AgentFactory(), body_text="Hi")

    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.FAILED
    assert "No such user" in reply.delivery_error
    assert smtp_server.envelopes == []


def test_a_temporary_refusal_leaves_the_reply_pending_with_the_error_for_a_retry(
    smtp_server, ticket
):
    smtp_server.refuse_recipients_with = "451 4.3.0 Try again later"
    reply = services.reply_to_ticket(ticket=ticket, author=AgentFactory(), body_text="Hi")

    with pytest.raises(OSError):
        services.deliver_message(message_id=reply.pk)

    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.PENDING
    assert "Try again later" in reply.delivery_error
