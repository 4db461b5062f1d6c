"""Canned replies: a small placeholder language over a whitelist, never a template engine.

``{{ customer.first_name }}`` and friends are replaced by plain text; anything else between
double braces is refused when the reply is saved, so a reply can never run code or leak data.
"""

import re
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

from helpdesk.audit import record_change
from helpdesk.models import User
from tickets.extensions import Badge, badges_for_customers
from tickets.models import CannedReply, Ticket
from tickets.services.email import queue_automatic_reply
from tickets.services.tickets import reply_to_ticket

PLACEHOLDERS = (
    "customer.first_name",
    "customer.name",
    "customer.email",
    "ticket.number",
    "ticket.subject",
    "agent.name",
    "agent.first_name",
    "segment.name",
)
_BRACES = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_CUSTOM = re.compile(r"custom\.[A-Za-z0-9_-]+")
_SEGMENT_SLUG = re.compile(r"[a-z0-9_-]+/[a-z0-9_-]+")


def unknown_placeholders(body: str, *, known: Iterable[str] = PLACEHOLDERS) -> list[str]:
    names = (match.strip() for match in _BRACES.findall(body))
    return [name for name in names if name not in known and not _CUSTOM.fullmatch(name)]


def placeholder_list(known: Iterable[str] = PLACEHOLDERS) -> str:
    """The placeholders a text may use, written as in the text, for help texts and errors."""
    return ", ".join(_braced(name) for name in (*known, "custom.<field>"))


def render_placeholders(body: str, values: Mapping[str, str]) -> str:
    """Replace each known placeholder by its value; custom fields missing render empty."""
    return _BRACES.sub(lambda match: values.get(match.group(1).strip(), ""), body)


def placeholder_values(*, ticket: Ticket, agent: User | None, segment: Badge | None) -> dict:
    customer = ticket.customer
    agent_name = (agent.get_full_name() or agent.username) if agent else ""
    values = {
        "customer.first_name": customer.first_name,
        "customer.name": customer.name or customer.email,
        "customer.email": customer.email,
        "ticket.number": str(ticket.number),
        "ticket.subject": ticket.subject,
        "agent.name": agent_name,
        "agent.first_name": agent_name.split()[0] if agent_name else "",
        "segment.name": segment.label if segment else "",
    }
    custom = customer.custom_fields if isinstance(customer.custom_fields, dict) else {}
    values.update({f"custom.{key}": str(value) for key, value in custom.items()})
    return values


def segment_slugs_of(badges: Iterable[Badge]) -> list[str]:
    return [f"{badge.group_slug}/{badge.slug}" for badge in badges]


def render_canned_reply(
    *, canned_reply: CannedReply, ticket: Ticket, agent: User | None, badges: list[Badge]
) -> str:
    """The reply's text for this ticket; ``segment.name`` is the customer's segment the reply
    is scoped to, else their first segment."""
    scoped = [b for b in badges if f"{b.group_slug}/{b.slug}" in canned_reply.segment_slugs]
    segment = (scoped or badges or [None])[0]
    values = placeholder_values(ticket=ticket, agent=agent, segment=segment)
    return render_placeholders(canned_reply.body, values)


def _braced(name: str) -> str:
    return "{{ " + name + " }}"


def clean_segment_slugs(segment_slugs: Iterable[str]) -> list[str]:
    slugs = sorted({slug.strip() for slug in segment_slugs if slug.strip()})
    bad = [slug for slug in slugs if not _SEGMENT_SLUG.fullmatch(slug)]
    if bad:
        raise ValidationError(
            {"segment_slugs": f"Segments are named segmentation/segment: {', '.join(bad)}."}
        )
    return slugs


@transaction.atomic
def save_canned_reply(
    *,
    canned_reply: CannedReply | None,
    title: str,
    body: str,
    folder: str,
    owner: User | None,
    segment_slugs: Iterable[str],
    actor: User,
) -> CannedReply:
    """Create (``canned_reply=None``) or update; ``owner=None`` shares it with every agent."""
    unknown = unknown_placeholders(body)
    if unknown:
        refused = ", ".join(_braced(name) for name in unknown)
        raise ValidationError(
            {"body": f"Unknown placeholder {refused}. Use one of: {placeholder_list()}."}
        )
    canned_reply = canned_reply or CannedReply()
    canned_reply.title = title.strip()
    canned_reply.body = body
    canned_reply.folder = folder.strip()
    canned_reply.owner = owner
    canned_reply.segment_slugs = clean_segment_slugs(segment_slugs)
    canned_reply.full_clean()
    canned_reply.save()
    record_change(
        target=canned_reply,
        action="canned_reply_saved",
        actor=actor,
        changes={"title": canned_reply.title, "shared": owner is None},
    )
    return canned_reply


@transaction.atomic
def delete_canned_reply(*, canned_reply: CannedReply, actor: User) -> None:
    record_change(
        target=canned_reply,
        action="canned_reply_deleted",
        actor=actor,
        changes={"title": canned_reply.title},
    )
    canned_reply.delete()


def _count_use(canned_reply: CannedReply) -> None:
    CannedReply.objects.filter(pk=canned_reply.pk).update(usage_count=F("usage_count") + 1)


def use_canned_reply(*, canned_reply: CannedReply, ticket: Ticket, agent: User) -> str:
    """The text an agent inserts into the reply box; counts as one use."""
    badges = badges_for_customers([ticket.customer_id])[ticket.customer_id]
    _count_use(canned_reply)
    return render_canned_reply(canned_reply=canned_reply, ticket=ticket, agent=agent, badges=badges)


@transaction.atomic
def send_canned_reply(
    *, ticket: Ticket, canned_reply: CannedReply, author: User | None = None, cause: str
):
    """Send the rendered reply to the customer: as ``author``'s reply, or as an automatic
    reply (no author, not a first response) when a rule sends it."""
    badges = badges_for_customers([ticket.customer_id])[ticket.customer_id]
    text = render_canned_reply(
        canned_reply=canned_reply, ticket=ticket, agent=author or ticket.assignee, badges=badges
    )
    if author is None:
        message = queue_automatic_reply(ticket=ticket, body_text=text)
    else:
        message = reply_to_ticket(ticket=ticket, author=author, body_text=text)
    _count_use(canned_reply)
    record_change(
        target=ticket,
        action="canned_reply_sent",
        actor=author,
        changes={"canned_reply": canned_reply.title},
        cause=cause,
    )
    return message


def segment_relevance(segment_slugs: list[str]) -> Case:
    """2 for rows scoped to one of the segments, 1 for unscoped rows, 0 for other segments."""
    # JSON text search: quoting the slug keeps "vip/gold" from matching "vip/gold-plus".
    matches_segment = Q(pk__in=[])
    for slug in segment_slugs:
        matches_segment |= Q(segment_slugs__icontains=f'"{slug}"')
    return Case(
        When(matches_segment, then=Value(2)),
        When(segment_slugs=[], then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


def canned_replies_visible_to(user: User) -> QuerySet:
    return CannedReply.objects.filter(Q(owner__isnull=True) | Q(owner=user))


def suggested_canned_replies(
    *, user: User, segment_slugs: list[str], query: str = "", limit: int = 8
) -> list[CannedReply]:
    """Replies for the customer's segments first, then unscoped ones, then the rest; by usage
    within each. One query."""
    replies = canned_replies_visible_to(user)
    if query.strip():
        text = query.strip()
        replies = replies.filter(
            Q(title__icontains=text) | Q(body__icontains=text) | Q(folder__icontains=text)
        )
    return list(
        replies.annotate(relevance=segment_relevance(segment_slugs)).order_by(
            "-relevance", "-usage_count", "title"
        )[:limit]
    )
