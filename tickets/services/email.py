"""Email in and out.

In: the raw bytes are stored first (``receive_raw_email``), then ``process_inbound_email`` parses
them (``tickets.mime``), finds the customer and threads the message into a ticket or opens one:
in a worker for mail pushed over HTTP (``accept_inbound_email``), at once in ``ingest_email``.
Threading order: our own outbound Message-ID
(``<t{ticket}.m{message}.{random}@{EMAIL_MESSAGE_ID_DOMAIN}>``) in In-Reply-To or References,
then any other stored Message-ID there, then a ``[#1234]`` subject token, which only counts when
that ticket belongs to the sender. A closed ticket is never reopened by mail: the reply opens a
new ticket. Machine-sent mail (auto-replies, bounces, lists, our own mail coming back) is stored
and marked ignored, never a ticket, so no mail loop can start.

Out: every outbound message leaves with its own Message-ID, In-Reply-To, References and the
subject token, so the customer's answer threads back.
"""

import re
import secrets
import smtplib
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape, linebreaks

from helpdesk.audit import record_change
from helpdesk.jobs import enqueue_on_commit
from helpdesk.models import User
from tickets import imap, mime
from tickets.models import Attachment, InboundEmail, Mailbox, Message, Ticket
from tickets.services.customers import find_or_create_customer
from tickets.services.tickets import create_ticket, record_inbound_message

IMAP_BATCH = 100
MAX_REFERENCES = 20
OUR_MESSAGE_ID_RE = re.compile(r"^<t(\d+)\.m(\d+)\.[0-9a-f]+@(.+)>$")


class IngestOutcome(StrEnum):
    CREATED = "created"
    THREADED = "threaded"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    REJECTED = "rejected"


@dataclass(frozen=True)
class IngestResult:
    outcome: IngestOutcome
    inbound: InboundEmail
    ticket: Ticket | None = None


def ingest_email(*, mailbox: Mailbox, raw: bytes) -> IngestResult:
    """Store ``raw`` and turn it into a ticket message once, however often it is delivered.

    Call it outside a transaction: the raw bytes are committed on their own, before parsing,
    so nothing is lost when parsing fails.
    """
    inbound, _ = receive_raw_email(mailbox=mailbox, raw=raw)
    return process_inbound_email(inbound_email_id=inbound.pk)


def receive_raw_email(*, mailbox: Mailbox, raw: bytes) -> tuple[InboundEmail, bool]:
    """Store ``raw`` unless this mailbox already has its Message-ID; True when stored now.

    The unique Message-ID constraint decides between concurrent deliveries of one message.
    """
    stored = InboundEmail.objects.defer("raw")
    return stored.get_or_create(
        mailbox=mailbox, message_id_header=mime.message_id_of(raw), defaults={"raw": raw}
    )


@transaction.atomic
def accept_inbound_email(*, mailbox: Mailbox, raw: bytes) -> tuple[InboundEmail, bool]:
    """Store ``raw`` and process it in a worker after commit; the sweeper retries lost jobs."""
    inbound, created = receive_raw_email(mailbox=mailbox, raw=raw)
    if created:
        from tickets.tasks import process_inbound_email_task

        enqueue_on_commit(process_inbound_email_task, inbound.pk)
    return inbound, created


@transaction.atomic
def reprocess_inbound_email(*, inbound: InboundEmail, actor: User | None) -> IngestResult:
    """Run a failed, ignored or stuck message through processing again."""
    current = InboundEmail.objects.select_for_update().defer("raw").get(pk=inbound.pk)
    if current.state == InboundEmail.State.PROCESSED:
        raise ValidationError("This message is already part of a ticket.")
    previous_state = current.state
    current.state, current.error = InboundEmail.State.RECEIVED, ""
    current.save(update_fields=["state", "error"])
    result = process_inbound_email(inbound_email_id=current.pk)
    record_change(
        target=current,
        action="inbound_email_reprocessed",
        actor=actor,
        changes={"state": [previous_state, result.inbound.state], "outcome": result.outcome},
    )
    return result


@transaction.atomic
def process_inbound_email(*, inbound_email_id: int) -> IngestResult:
    """Parse a received message and thread it; a message in any other state is left alone.

    The row stays locked until the outcome commits, so concurrent runs make one ticket message.
    """
    inbound = (
        InboundEmail.objects.select_for_update(of=("self",))
        .select_related("mailbox")
        .get(pk=inbound_email_id)
    )
    if inbound.state != InboundEmail.State.RECEIVED:
        return IngestResult(IngestOutcome.DUPLICATE, inbound, _ticket_of(inbound))
    try:
        parsed = mime.parse_email(
            bytes(inbound.raw), max_attachment_bytes=settings.EMAIL_ATTACHMENT_MAX_BYTES
        )
    except mime.UnparseableEmail as exc:
        return _finish(inbound, IngestOutcome.REJECTED, error=str(exc))
    earlier = Message.objects.filter(message_id=parsed.message_id).first()
    if earlier is not None:
        error = f"already in ticket #{earlier.ticket_id} through another mailbox"
        return _finish(inbound, IngestOutcome.DUPLICATE, error=error, ticket=earlier.ticket)
    reason = parsed.automatic_reason or _loop_reason(parsed)
    if reason:
        return _finish(inbound, IngestOutcome.IGNORED, error=reason)
    message, outcome = _record_message(parsed, inbound.mailbox)
    return _finish(inbound, outcome, message=message, ticket=message.ticket)


_STATE_BY_OUTCOME = {
    IngestOutcome.CREATED: InboundEmail.State.PROCESSED,
    IngestOutcome.THREADED: InboundEmail.State.PROCESSED,
    IngestOutcome.DUPLICATE: InboundEmail.State.IGNORED,
    IngestOutcome.IGNORED: InboundEmail.State.IGNORED,
    IngestOutcome.REJECTED: InboundEmail.State.FAILED,
}


def _finish(
    inbound: InboundEmail,
    outcome: IngestOutcome,
    *,
    error: str = "",
    message: Message | None = None,
    ticket: Ticket | None = None,
) -> IngestResult:
    inbound.state = _STATE_BY_OUTCOME[outcome]
    inbound.error = error
    inbound.message = message
    inbound.save(update_fields=["state", "error", "message"])
    return IngestResult(outcome, inbound, ticket)


def _ticket_of(inbound: InboundEmail) -> Ticket | None:
    message = Message.objects.select_related("ticket").filter(inbound_email=inbound).first()
    return message.ticket if message else None


def _loop_reason(parsed: mime.ParsedEmail) -> str:
    if OUR_MESSAGE_ID_RE.match(parsed.message_id):
        return "our own outbound message came back"
    sender = parsed.from_address
    if sender.lower() == settings.DEFAULT_FROM_EMAIL.lower():
        return f"sent from our own address {sender}"
    if Mailbox.objects.filter(address__iexact=sender).exists():
        return f"sent from our own mailbox {sender}"
    return ""


def _record_message(parsed: mime.ParsedEmail, mailbox: Mailbox) -> tuple[Message, IngestOutcome]:
    customer, _ = find_or_create_customer(email=parsed.from_address, name=parsed.from_name)
    headers = dict(parsed.headers)
    if parsed.skipped_attachments:
        headers["skipped_attachments"] = parsed.skipped_attachments
    fields = {
        "body_text": parsed.text,
        "body_html": parsed.html,
        "headers": headers,
        "message_id": parsed.message_id,
        "mailbox": mailbox,
    }
    ticket = _thread_target(parsed, customer)
    if ticket is not None:
        message = record_inbound_message(ticket=ticket, **fields)
        outcome = IngestOutcome.THREADED
    else:
        ticket = create_ticket(customer=customer, subject=parsed.subject, **fields)
        message = ticket.messages.get()
        outcome = IngestOutcome.CREATED
    _save_attachments(message, parsed.attachments)
    return message, outcome


def _thread_target(parsed: mime.ParsedEmail, customer) -> Ticket | None:
    ticket = _ticket_by_message_ids(parsed.thread_ids) or _ticket_by_subject_token(
        parsed.subject, customer
    )
    if ticket is None or ticket.status == Ticket.Status.CLOSED:
        return None
    return ticket


def _ticket_by_message_ids(ids: list[str]) -> Ticket | None:
    """Our own Message-IDs first, then the others, each most recent first.

    Every id must belong to a stored message: a made-up id in our format threads nowhere.
    """
    if not ids:
        return None
    known = dict(Message.objects.filter(message_id__in=ids).values_list("message_id", "ticket_id"))
    ranked = sorted(
        (mid for mid in ids if mid in known), key=lambda mid: not OUR_MESSAGE_ID_RE.match(mid)
    )
    return Ticket.objects.filter(pk=known[ranked[0]]).first() if ranked else None


def _ticket_by_subject_token(subject: str, customer) -> Ticket | None:
    number = mime.ticket_number_in_subject(subject)
    if number is None:
        return None
    return Ticket.objects.filter(pk=number, customer=customer).first()


def _save_attachments(message: Message, attachments: list[mime.ParsedAttachment]) -> None:
    for attachment in attachments:
        Attachment.objects.create(
            message=message,
            file=ContentFile(attachment.content, name=attachment.filename),
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=len(attachment.content),
        )


def poll_mailbox(*, mailbox: Mailbox, limit: int = IMAP_BATCH) -> list[IngestResult]:
    """Ingest the mailbox's unseen mail; a message is flagged seen only once it is stored."""
    results = []
    with imap.imap_session(mailbox) as client:
        for uid in imap.unseen_uids(client)[:limit]:
            raw = imap.fetch_raw(client, uid)
            if raw is None:
                continue
            results.append(ingest_email(mailbox=mailbox, raw=raw))
            imap.mark_seen(client, uid)
    return results


@transaction.atomic
def queue_automatic_reply(*, ticket: Ticket, body_text: str) -> Message:
    """An outbound message written by the system (no author), marked as automatic so other
    systems do not answer it; delivered like an agent's reply."""
    message = Message.objects.create(
        ticket=ticket,
        kind=Message.Kind.OUTBOUND,
        body_text=body_text,
        headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
        mailbox=ticket.mailbox,
        delivery_status=Message.Delivery.PENDING,
        created_at=timezone.now(),
    )
    from tickets.tasks import deliver_message_task

    enqueue_on_commit(deliver_message_task, message.pk)
    return message


def outbound_message_id(message: Message) -> str:
    """Our own Message-ID encodes the ticket, so a reply threads even without a subject token."""
    token = secrets.token_hex(8)
    return f"<t{message.ticket_id}.m{message.pk}.{token}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


def subject_with_token(subject: str, ticket_number: int) -> str:
    token = f"[#{ticket_number}]"
    reply = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    return reply if token in reply else f"{reply} {token}"


def thread_references(message: Message) -> list[str]:
    earlier = (
        Message.objects.filter(ticket_id=message.ticket_id, created_at__lte=message.created_at)
        .exclude(pk=message.pk)
        .exclude(message_id=None)
        .order_by("-created_at", "-id")
        .values_list("message_id", flat=True)
    )
    return list(reversed(earlier[:MAX_REFERENCES]))


def deliver_message(*, message_id: int, final_attempt: bool = False) -> None:
    """Send a pending outbound message; a message already sent or failed is left alone.

    The Message-ID is committed before sending, and the row stays locked from the send until
    the new delivery state commits, so two workers never send it in parallel. One window
    remains: the server accepted the mail and the worker dies before the commit. The message
    is then still pending and is sent again, with the same Message-ID, which mail clients use
    to show it once (at-least-once delivery rather than a lost reply).

    A failure is recorded on the message and raised again for the task to retry; a permanent
    SMTP refusal (5xx) or the last attempt marks the message failed instead.
    """
    _assign_message_id(message_id)
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("ticket__customer", "mailbox")
            .filter(pk=message_id, delivery_status=Message.Delivery.PENDING)
            .first()
        )
        if message is None:
            return
        email = _outbound_email(message)
        try:
            email.send()
        except OSError as exc:  # smtplib.SMTPException is an OSError
            failure = exc
        else:
            message.delivery_status = Message.Delivery.SENT
            message.delivery_error = ""
            message.headers = {
                **message.headers,
                **email.extra_headers,
                "From": email.from_email,
                "To": ", ".join(email.to),
                "Subject": email.subject,
            }
            message.save(update_fields=["delivery_status", "delivery_error", "headers"])
            return
    final = final_attempt or _is_permanent(failure)
    _record_failure(message_id, failure, final=final)
    if not final:
        raise failure


def _assign_message_id(message_id: int) -> None:
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is not None and not message.message_id:
            message.message_id = outbound_message_id(message)
            message.save(update_fields=["message_id"])


def _outbound_email(message: Message) -> EmailMultiAlternatives:
    ticket = message.ticket
    references = thread_references(message)
    sender = message.mailbox.address if message.mailbox else settings.DEFAULT_FROM_EMAIL
    headers = {
        "Message-ID": message.message_id,
        "Reply-To": sender,
        **{k: v for k, v in message.headers.items() if k.startswith(("Auto-", "X-Auto"))},
    }
    if references:
        headers["In-Reply-To"] = references[-1]
        headers["References"] = " ".join(references)
    email = EmailMultiAlternatives(
        subject=subject_with_token(ticket.subject, ticket.number),
        body=message.body_text,
        from_email=sender,
        to=[ticket.customer.email],
        headers=headers,
    )
    email.attach_alternative(
        message.body_html or linebreaks(escape(message.body_text)), "text/html"
    )
    return email


def _record_failure(message_id: int, failure: OSError, *, final: bool) -> None:
    status = Message.Delivery.FAILED if final else Message.Delivery.PENDING
    Message.objects.filter(pk=message_id, delivery_status=Message.Delivery.PENDING).update(
        delivery_status=status, delivery_error=f"{type(failure).__name__}: {failure}"[:2000]
    )


def _is_permanent(failure: OSError) -> bool:
    if isinstance(failure, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in failure.recipients.values())
    return isinstance(failure, smtplib.SMTPResponseException) and failure.smtp_code >= 500
