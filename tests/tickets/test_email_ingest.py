import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from tests.factories import AgentFactory, MailboxFactory, OrganisationDomainFactory, TeamFactory
from tests.tickets.emails import raw_email, reply_to
from tickets import services
from tickets.models import Attachment, Customer, InboundEmail, Message, Ticket
from tickets.services import IngestOutcome


@pytest.fixture
def mailbox(db):
    return MailboxFactory(address="support@helpdesk.example.com", team=TeamFactory())


def ingest(mailbox, raw: bytes) -> services.IngestResult:
    return services.ingest_email(mailbox=mailbox, raw=raw)


def agent_reply_email(ticket, django_capture_on_commit_callbacks) -> bytes:
    """The raw bytes of an agent's reply as it left through the email backend."""
    with django_capture_on_commit_callbacks(execute=True):
        services.reply_to_ticket(ticket=ticket, author=AgentFactory(), body_text="Try this.")
    return mail.outbox[-1].message().as_bytes()


def test_a_new_email_opens_a_ticket_for_a_new_customer_of_the_domains_organisation(
    mailbox, django_capture_on_commit_callbacks
):
    # given
    domain = OrganisationDomainFactory(domain="example.com")
    raw = raw_email(html="<p>The printer is <b>on fire</b>.</p>")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(mailbox, raw)

    # then
    assert result.outcome == IngestOutcome.CREATED
    ticket = Ticket.objects.get()
    assert result.ticket == ticket
    assert (ticket.subject, ticket.channel, ticket.mailbox) == (
        "Printer on fire",
        Ticket.Channel.EMAIL,
        mailbox,
    )
    assert ticket.team == mailbox.team
    assert ticket.routed_at is not None
    customer = Customer.objects.get()
    assert (customer.email, customer.name, customer.organisation) == (
        "ann@example.com",
        "Ann Customer",
        domain.organisation,
    )
    message = ticket.messages.get()
    assert message.body_text.strip() == "The printer is on fire."
    assert message.body_html == "<p>The printer is <b>on fire</b>.</p>"
    assert message.message_id == "<first@mail.example.com>"
    assert message.headers["From"] == "Ann Customer <ann@example.com>"
    inbound = InboundEmail.objects.get()
    assert (inbound.state, inbound.message) == (InboundEmail.State.PROCESSED, message)
    assert bytes(inbound.raw) == raw


def test_the_customers_reply_to_our_email_threads_by_our_message_id(
    mailbox, django_capture_on_commit_callbacks
):
    # given
    ticket = ingest(mailbox, raw_email()).ticket
    sent = agent_reply_email(ticket, django_capture_on_commit_callbacks)

    # when: the reply carries our Message-ID in In-Reply-To, and a changed subject
    result = ingest(mailbox, reply_to(sent, message_id="<answer@mail.example.com>"))

    # then
    assert (result.outcome, result.ticket) == (IngestOutcome.THREADED, ticket)
    assert ticket.messages.count() == 3
    assert Ticket.objects.count() == 1


def test_a_reply_threads_by_an_earlier_message_id_in_references_alone(mailbox):
    ticket = ingest(mailbox, raw_email(message_id="<original@mail.example.com>")).ticket

    result = ingest(
        mailbox,
        raw_email(
            subject="Another thing",
            message_id="<second@mail.example.com>",
            references="<unknown@elsewhere> <original@mail.example.com>",
        ),
    )

    assert (result.outcome, result.ticket) == (IngestOutcome.THREADED, ticket)


def test_a_reply_threads_by_the_subject_token_when_it_comes_from_the_tickets_customer(mailbox):
    ticket = ingest(mailbox, raw_email()).ticket

    result = ingest(
        mailbox,
        raw_email(subject=f"Re: anything [#{ticket.number}]", message_id="<token@mail.example>"),
    )

    assert (result.outcome, result.ticket) == (IngestOutcome.THREADED, ticket)


def test_a_subject_token_from_another_sender_opens_a_new_ticket(mailbox):
    ticket = ingest(mailbox, raw_email()).ticket

    result = ingest(
        mailbox,
        raw_email(
            sender="Mallory <mallory@evil.example>",
            subject=f"Re: [#{ticket.number}]",
            message_id="<m@evil.example>",
        ),
    )

    assert result.outcome == IngestOutcome.CREATED
    assert result.ticket != ticket
    assert ticket.messages.count() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"in_reply_to": "<nobody-knows@example.com>"},
        {"subject": "Re: old issue [#999999]"},
        {"in_reply_to": "<t1.m1.deadbeef@helpdesk.localhost>"},
    ],
    ids=["unknown-message-id", "unknown-ticket-token", "forged-id-in-our-format"],
)
def test_a_reply_to_an_unknown_ticket_opens_a_new_one(mailbox, headers):
    existing = ingest(mailbox, raw_email()).ticket

    result = ingest(mailbox, raw_email(message_id="<new@mail.example.com>", **headers))

    assert result.outcome == IngestOutcome.CREATED
    assert result.ticket != existing


def test_a_reply_to_a_closed_ticket_opens_a_new_one(mailbox):
    ticket = ingest(mailbox, raw_email()).ticket
    services.close_ticket(ticket=ticket, actor=None)

    result = ingest(
        mailbox,
        raw_email(message_id="<later@mail.example.com>", in_reply_to="<first@mail.example.com>"),
    )

    assert result.outcome == IngestOutcome.CREATED
    assert result.ticket != ticket


def test_a_customer_reply_reopens_a_solved_ticket(mailbox):
    ticket = ingest(mailbox, raw_email()).ticket
    services.update_ticket(ticket=ticket, actor=None, status=Ticket.Status.SOLVED)

    ingest(mailbox, raw_email(message_id="<r@x.example>", in_reply_to="<first@mail.example.com>"))

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN


def test_the_same_message_delivered_twice_is_stored_and_processed_once(mailbox):
    first = ingest(mailbox, raw_email())

    second = ingest(mailbox, raw_email())

    assert second.outcome == IngestOutcome.DUPLICATE
    assert second.ticket == first.ticket
    assert InboundEmail.objects.count() == 1
    assert Message.objects.count() == 1


def test_without_message_id_the_hash_of_the_bytes_dedupes(mailbox):
    raw = raw_email(message_id=None)

    first = ingest(mailbox, raw)
    second = ingest(mailbox, raw)
    other = ingest(mailbox, raw_email(message_id=None, body="different words"))

    assert first.inbound.message_id_header.endswith("@sha256.invalid>")
    assert (first.outcome, second.outcome, other.outcome) == (
        IngestOutcome.CREATED,
        IngestOutcome.DUPLICATE,
        IngestOutcome.CREATED,
    )


def test_one_email_sent_to_two_of_our_mailboxes_makes_one_ticket(mailbox):
    sales = MailboxFactory(address="sales@helpdesk.example.com")

    first = ingest(mailbox, raw_email())
    second = ingest(sales, raw_email())

    assert second.outcome == IngestOutcome.DUPLICATE
    assert second.ticket == first.ticket
    assert second.inbound.state == InboundEmail.State.IGNORED
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    "raw",
    [
        raw_email(headers={"Auto-Submitted": "auto-replied"}, subject="Out of office"),
        raw_email(headers={"Precedence": "junk"}),
        raw_email(sender="MAILER-DAEMON@mx.example.com", subject="Undelivered Mail"),
        raw_email(sender="support@helpdesk.example.com", subject="our own mail"),
        raw_email(message_id="<t5.m9.0123abcd@helpdesk.localhost>"),
    ],
    ids=["auto-reply", "precedence-junk", "mailer-daemon", "own-mailbox", "own-message-id"],
)
def test_machine_mail_is_stored_as_ignored_and_opens_nothing(
    mailbox, raw, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = ingest(mailbox, raw)

    assert result.outcome == IngestOutcome.IGNORED
    assert result.ticket is None
    assert Ticket.objects.count() == 0
    assert callbacks == []
    assert mail.outbox == []
    inbound = InboundEmail.objects.get()
    assert inbound.state == InboundEmail.State.IGNORED
    assert inbound.error
    assert bytes(inbound.raw) == raw


def test_an_auto_reply_to_our_email_is_not_added_to_the_thread(
    mailbox, django_capture_on_commit_callbacks
):
    ticket = ingest(mailbox, raw_email()).ticket
    sent = agent_reply_email(ticket, django_capture_on_commit_callbacks)

    result = ingest(
        mailbox,
        reply_to(sent, message_id="<ooo@x>", headers={"Auto-Submitted": "auto-replied"}),
    )

    assert result.outcome == IngestOutcome.IGNORED
    assert ticket.messages.count() == 2


def test_a_message_without_from_is_kept_raw_as_failed(mailbox):
    raw = raw_email(sender=None)

    result = ingest(mailbox, raw)

    assert result.outcome == IngestOutcome.REJECTED
    inbound = InboundEmail.objects.get()
    assert inbound.state == InboundEmail.State.FAILED
    assert inbound.error == "missing or invalid From address"
    assert bytes(inbound.raw) == raw
    assert Ticket.objects.count() == 0


HOSTILE = {
    "garbage-bytes": bytes(range(256)) * 4,
    "broken-mime": b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\r\n\r\n--\r\n",
    "unknown-charset": b"From: a@example.com\r\nContent-Type: text/plain; charset=klingon\r\n\r\n"
    b"\xde\xad\xbe\xef",
    "huge-headers": b"From: a@example.com\r\n"
    + b"".join(b"X-H%d: " % i + b"v" * 2000 + b"\r\n" for i in range(200))
    + b"Subject: "
    + b"s" * 100_000
    + b"\r\n\r\nbody",
    "script-and-handlers": b"From: a@example.com\r\nContent-Type: text/html\r\n\r\n"
    b"<img src=x onerror=alert(1)><script>alert(2)</script><a href='javascript:x'>y</a>",
    "nul-bytes": b"From: a@example.com\r\nSubject: \x00\x00\r\n\r\n\x00body\x00",
    "nul-message-id": b"From: a@example.com\r\nMessage-ID: <\x00>\r\nIn-Reply-To: <\x00>\r\n\r\nhi",
    "nul-auto-submitted": b"From: a@example.com\r\nAuto-Submitted: \x00x\r\n\r\nhi",
    "nul-report-type": b"From: a@example.com\r\nContent-Type: multipart/report; "
    b'report-type="\x00"; boundary=b\r\n\r\n--b\r\n\r\nhi\r\n--b--\r\n',
    "missing-from": b"Subject: who am I\r\n\r\nbody",
    "only-headers": b"From: a@example.com",
}


@pytest.mark.parametrize("raw", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_messages_never_raise_and_are_stored_raw(mailbox, raw):
    result = ingest(mailbox, raw)

    inbound = InboundEmail.objects.get()
    assert bytes(inbound.raw) == raw
    assert inbound.state != InboundEmail.State.RECEIVED
    if result.ticket:
        message = result.ticket.messages.get()
        assert "script" not in message.body_html
        assert "onerror" not in message.body_html
        assert "javascript" not in message.body_html
        assert "\x00" not in message.body_text + result.ticket.subject


def test_attachments_are_saved_and_oversized_ones_noted(mailbox, settings):
    settings.EMAIL_ATTACHMENT_MAX_BYTES = 100
    raw = raw_email(
        attachments=(
            ("report.pdf", b"%PDF small", "application/pdf"),
            ("empty.txt", b"", "text/plain"),
            ("big.zip", b"z" * 101, "application/zip"),
        )
    )

    message = ingest(mailbox, raw).ticket.messages.get()

    saved = {a.filename: a for a in Attachment.objects.filter(message=message)}
    assert set(saved) == {"report.pdf", "empty.txt"}
    assert (saved["report.pdf"].content_type, saved["report.pdf"].size) == ("application/pdf", 10)
    assert saved["report.pdf"].file.read() == b"%PDF small"
    assert saved["empty.txt"].size == 0
    assert message.headers["skipped_attachments"] == [
        "big.zip (101 bytes, over the 100 byte limit)"
    ]


def test_a_failed_message_can_be_reprocessed_into_a_ticket(mailbox, admin_user):
    # given: a message that failed, e.g. under an earlier version of the parser
    result = ingest(mailbox, raw_email())
    Ticket.objects.all().delete()
    InboundEmail.objects.update(state=InboundEmail.State.FAILED, error="old parser bug")

    # when
    again = services.reprocess_inbound_email(inbound=result.inbound, actor=admin_user)

    # then
    assert again.outcome == IngestOutcome.CREATED
    inbound = InboundEmail.objects.get()
    assert (inbound.state, inbound.error) == (InboundEmail.State.PROCESSED, "")
    assert inbound.message.ticket == again.ticket


def test_a_processed_message_cannot_be_reprocessed(mailbox, admin_user):
    result = ingest(mailbox, raw_email())

    with pytest.raises(ValidationError):
        services.reprocess_inbound_email(inbound=result.inbound, actor=admin_user)

    assert Ticket.objects.count() == 1
