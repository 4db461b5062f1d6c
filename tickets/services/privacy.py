"""The customer's right of access (export everything held) and to erasure (anonymise).

Other apps add their own data through ``tickets.extensions.register_customer_export`` and
``register_customer_eraser``. Erasure keeps tickets, messages and purchases as anonymised rows
so that counts, timings and revenue in the reports do not change.
"""

import re

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import CharField, Prefetch, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from helpdesk.audit import record_change
from helpdesk.models import AuditLog, User
from tickets.extensions import customer_export_sections, erase_customer_elsewhere
from tickets.models import Attachment, Customer, InboundEmail, Message, Purchase, Ticket

ERASED_EMAIL_SUFFIX = "@invalid"  # RFC 2606: a domain that can never receive mail
ERASED_TEXT = "[erased]"
PROFILE_FIELDS = (
    "email",
    "name",
    "phone",
    "country",
    "city",
    "language",
    "timezone",
    "age",
    "gender",
    "plan",
    "signup_date",
    "external_id",
    "custom_fields",
    "marketing_consent",
    "unsubscribed_at",
    "created_at",
    "updated_at",
)
ERASED_PROFILE = {
    "name": "",
    "phone": "",
    "city": "",
    "age": None,
    "gender": "",
    "external_id": None,
    "custom_fields": {},
}


def erased_email(customer_id: int) -> str:
    return f"erased-{customer_id}{ERASED_EMAIL_SUFFIX}"


def is_erased(customer: Customer) -> bool:
    return customer.email == erased_email(customer.pk)


@transaction.atomic
def export_customer_data(*, customer: Customer, actor: User) -> dict:
    """Everything held about the customer, ready for JSON (DjangoJSONEncoder); audited."""
    customer = (
        Customer.objects.select_related("organisation")
        .prefetch_related("tags", "organisation__domains")
        .get(pk=customer.pk)
    )
    messages = Message.objects.select_related("author", "inbound_email").prefetch_related(
        "attachments"
    )
    tickets = (
        Ticket.objects.filter(customer=customer)
        .select_related("team", "assignee")
        .prefetch_related("tags", Prefetch("messages", queryset=messages))
        .order_by("created_at", "id")
    )
    data = {
        "exported_at": timezone.now(),
        "customer": _profile(customer),
        "organisation": _organisation(customer.organisation),
        "tickets": [_ticket(ticket) for ticket in tickets],
        "purchases": [_purchase(purchase) for purchase in customer.purchases.order_by("id")],
        **customer_export_sections(customer),
    }
    record_change(
        target=customer, action="customer_exported", actor=actor, changes={"sections": list(data)}
    )
    return data


def _profile(customer: Customer) -> dict:
    profile = {"id": customer.pk, **{field: getattr(customer, field) for field in PROFILE_FIELDS}}
    profile["tags"] = sorted(tag.name for tag in customer.tags.all())
    return profile


def _organisation(organisation) -> dict | None:
    if organisation is None:
        return None
    return {
        "id": organisation.pk,
        "name": organisation.name,
        "industry": organisation.industry,
        "size": organisation.size,
        "domains": sorted(domain.domain for domain in organisation.domains.all()),
    }


def _ticket(ticket: Ticket) -> dict:
    return {
        "id": ticket.pk,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "team": ticket.team.name if ticket.team else None,
        "assignee": ticket.assignee.display_name if ticket.assignee else None,
        "tags": sorted(tag.name for tag in ticket.tags.all()),
        "external_id": ticket.external_id,
        "created_at": ticket.created_at,
        "first_response_at": ticket.first_response_at,
        "solved_at": ticket.solved_at,
        "closed_at": ticket.closed_at,
        "messages": [_message(message) for message in ticket.messages.all()],
    }


def _message(message: Message) -> dict:
    inbound_email = getattr(message, "inbound_email", None)
    return {
        "id": message.pk,
        "kind": message.kind,
        "author": message.author.display_name if message.author else None,
        "created_at": message.created_at,
        "body_text": message.body_text,
        "body_html": message.body_html,
        "headers": message.headers,
        "message_id": message.message_id,
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in message.attachments.all()
        ],
        "raw_email": None
        if inbound_email is None
        else {
            "message_id": inbound_email.message_id_header,
            "received_at": inbound_email.received_at,
            "size": len(inbound_email.raw),
        },
    }


def _purchase(purchase: Purchase) -> dict:
    return {
        "order_id": purchase.order_id,
        "ordered_at": purchase.ordered_at,
        "amount": purchase.amount,
        "currency": purchase.currency,
        "product": purchase.product,
        "category": purchase.category,
        "quantity": purchase.quantity,
    }


@transaction.atomic
def erase_customer(*, customer: Customer, actor: User) -> dict:
    """Remove or anonymise the customer's personal data, keep the anonymised rows; audited.

    Returns counts of what was changed (they go into the audit log too).
    """
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    pattern = _identifier_pattern(customer)
    ticket_ids = list(Ticket.objects.filter(customer=customer).values_list("pk", flat=True))
    messages = Message.objects.filter(ticket_id__in=ticket_ids)
    counts = {
        "tickets": Ticket.objects.filter(pk__in=ticket_ids).update(
            subject=ERASED_TEXT, search_document=""
        ),
        "attachments": _delete_attachments(Attachment.objects.filter(message__in=messages)),
        "raw_emails": InboundEmail.objects.filter(message__in=messages).update(raw=b"", error=""),
        "inbound_messages": messages.filter(kind=Message.Kind.INBOUND).update(
            body_text=ERASED_TEXT, body_html="", headers={}
        ),
        "staff_messages_redacted": _redact_staff_messages(messages, pattern),
        "purchases": Purchase.objects.filter(customer=customer).update(
            order_id=Concat(Value("erased-"), Cast("pk", CharField()))
        ),
        "audit_entries_redacted": _redact_audit_log(customer, ticket_ids, pattern),
    }
    for field, value in ERASED_PROFILE.items():
        setattr(customer, field, value)
    customer.email = erased_email(customer.pk)
    customer.save(update_fields=[*ERASED_PROFILE, "email", "updated_at"])
    counts.update(erase_customer_elsewhere(customer))
    record_change(target=customer, action="customer_erased", actor=actor, changes=counts)
    return counts


def _identifier_pattern(customer: Customer) -> re.Pattern | None:
    """Matches the customer's address, phone, full name and each word of the name."""
    words = [customer.email, customer.phone, customer.name, *customer.name.split()]
    needles = sorted({word for word in words if len(word.strip()) >= 2}, key=len, reverse=True)
    if not needles:
        return None
    alternatives = "|".join(map(re.escape, needles))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _redact(value, pattern: re.Pattern | None):
    if pattern is None:
        return value
    if isinstance(value, str):
        return pattern.sub(ERASED_TEXT, value)
    if isinstance(value, list):
        return [_redact(item, pattern) for item in value]
    if isinstance(value, dict):
        return {key: _redact(item, pattern) for key, item in value.items()}
    return value


def _redact_staff_messages(messages, pattern: re.Pattern | None) -> int:
    """Agents' replies and notes stay (they are the team's work) minus the customer's
    identifiers, which replies quote ("Hi Ann") and notes mention."""
    changed = []
    for message in messages.exclude(kind=Message.Kind.INBOUND).only(
        "body_text", "body_html", "headers"
    ):
        redacted = [_redact(getattr(message, f), pattern) for f in ("body_text", "body_html")]
        if redacted != [message.body_text, message.body_html]:
            message.body_text, message.body_html = redacted
            changed.append(message)
    Message.objects.bulk_update(changed, ["body_text", "body_html"], batch_size=500)
    return len(changed)


def _redact_audit_log(customer: Customer, ticket_ids: list[int], pattern) -> int:
    """Old values of erased fields go entirely; other values lose the customer's identifiers."""
    entries = AuditLog.objects.filter(
        target_type=Customer._meta.model_name, target_id=customer.pk
    ) | AuditLog.objects.filter(target_type=Ticket._meta.model_name, target_id__in=ticket_ids)
    erased_fields = {*ERASED_PROFILE, "email", "subject"}
    changed = []
    for entry in entries.only("changes"):
        redacted = {
            field: ERASED_TEXT if field in erased_fields else _redact(value, pattern)
            for field, value in entry.changes.items()
        }
        if redacted != entry.changes:
            entry.changes = redacted
            changed.append(entry)
    AuditLog.objects.bulk_update(changed, ["changes"], batch_size=500)
    return len(changed)


def _delete_attachments(attachments) -> int:
    """Delete the rows now and the files once the erasure has committed."""
    names = [name for name in attachments.values_list("file", flat=True) if name]
    count, _ = attachments.delete()
    transaction.on_commit(lambda: [default_storage.delete(name) for name in names])
    return count
