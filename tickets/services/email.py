"""Email out: every agent reply leaves with headers that thread it back to its ticket."""

import secrets

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils.html import escape, linebreaks

from tickets.models import Message


def outbound_message_id(message: Message) -> str:
    """Our own Message-ID encodes the ticket, so a reply threads even without a subject token."""
    token = secrets.token_hex(6)
    return f"<t{message.ticket_id}.m{message.pk}.{token}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


def subject_with_token(subject: str, ticket_number: int) -> str:
    token = f"[#{ticket_number}]"
    return subject if token in subject else f"{subject} {token}"


def thread_references(message: Message) -> list[str]:
    earlier = (
        Message.objects.filter(ticket_id=message.ticket_id, created_at__lte=message.created_at)
        .exclude(pk=message.pk)
        .exclude(message_id=None)
        .order_by("created_at", "id")
        .values_list("message_id", flat=True)
    )
    return list(earlier)


def deliver_message(*, message_id: int) -> None:
    """Send an outbound message once; a retry after success does nothing."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("ticket__customer", "mailbox", "author")
            .get(pk=message_id)
        )
        if message.delivery_status != Message.Delivery.PENDING:
            return
        if not message.message_id:
            message.message_id = outbound_message_id(message)
            message.save(update_fields=["message_id"])
    ticket = message.ticket
    references = thread_references(message)
    headers = {"Message-ID": message.message_id}
    if references:
        headers["In-Reply-To"] = references[-1]
        headers["References"] = " ".join(references)
    sender = message.mailbox.address if message.mailbox else settings.DEFAULT_FROM_EMAIL
    email = EmailMultiAlternatives(
        subject=subject_with_token(f"Re: {ticket.subject}", ticket.number),
        body=message.body_text,
        from_email=sender,
        to=[ticket.customer.email],
        headers=headers,
    )
    html = message.body_html or linebreaks(escape(message.body_text))
    email.attach_alternative(html, "text/html")
    email.send()
    Message.objects.filter(pk=message.pk).update(
        delivery_status=Message.Delivery.SENT, headers=headers, delivery_error=""
    )
