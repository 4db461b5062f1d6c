"""Proactive outreach: a lead's email to the consenting members of a segment.

The text uses the canned-reply placeholder language (a whitelist, never a template engine).
Sending is at most once per customer and campaign: each recipient is a row, unique per
(campaign, customer), claimed under a row lock that other workers skip and marked sent in a
committed transaction before its email goes out, so a job redelivered after its worker died
mid-send never mails that customer again (the trade-off: that one email may be lost). An SMTP
error puts the row back to pending for the retry.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from helpdesk.jobs import enqueue_on_commit
from helpdesk.models import User
from segments.models import Campaign, CampaignRecipient, Segment
from tickets.models import Customer
from tickets.services.canned import placeholder_list, render_placeholders, unknown_placeholders
from tickets.services.privacy import ERASED_EMAIL_SUFFIX

BATCH_SIZE = 100
# A sending campaign with no email sent for this long lost its job (broker down, worker killed).
STALLED_AFTER = timedelta(minutes=10)
PLACEHOLDERS = ("customer.first_name", "customer.name", "customer.email", "segment.name")
UNSUBSCRIBE_SALT = "segments.outreach.unsubscribe"
TEST_PREFIX = "[Test] "


def audience(segment: Segment) -> QuerySet[Customer]:
    """Members of the segment in its segmentation's current run who may get outreach email."""
    return Customer.objects.filter(
        segment_memberships__run_id=segment.segmentation.current_run_id,
        segment_memberships__segment=segment,
        marketing_consent=True,
        unsubscribed_at__isnull=True,
    ).exclude(email__endswith=ERASED_EMAIL_SUFFIX)


def _check_placeholders(**texts: str) -> None:
    known = placeholder_list(PLACEHOLDERS)
    errors = {
        field: f"Unknown placeholder {', '.join(unknown)}. Use one of: {known}."
        for field, text in texts.items()
        if (unknown := unknown_placeholders(text, known=PLACEHOLDERS))
    }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_campaign(*, segment: Segment, subject: str, body: str, author: User) -> Campaign:
    subject, body = " ".join(subject.split()), body.strip()
    _check_placeholders(subject=subject, body=body)
    campaign = Campaign(segment=segment, subject=subject, body=body, created_by=author)
    campaign.full_clean()
    campaign.save()
    return campaign


def unsubscribe_token(customer_id: int) -> str:
    return signing.dumps(customer_id, salt=UNSUBSCRIBE_SALT, compress=True)


def customer_for_unsubscribe_token(token: str) -> Customer:
    """Raises signing.BadSignature for a forged or damaged token, Customer.DoesNotExist when
    the customer is gone."""
    return Customer.objects.get(pk=signing.loads(token, salt=UNSUBSCRIBE_SALT))


def unsubscribe_link(customer_id: int) -> str:
    path = reverse("segments:unsubscribe", args=[unsubscribe_token(customer_id)])
    return settings.SITE_URL.rstrip("/") + path


@transaction.atomic
def unsubscribe(*, customer: Customer) -> None:
    """Idempotent: the first time is the one recorded."""
    Customer.objects.filter(pk=customer.pk, unsubscribed_at__isnull=True).update(
        unsubscribed_at=timezone.now()
    )


@dataclass(frozen=True)
class RenderedEmail:
    to: str
    subject: str
    body: str
    unsubscribe_url: str


def render_email(*, campaign: Campaign, customer: Customer) -> RenderedEmail:
    values = {
        "customer.first_name": customer.first_name,
        "customer.name": customer.name or customer.email,
        "customer.email": customer.email,
        "segment.name": campaign.segment.label,
    }
    custom = customer.custom_fields if isinstance(customer.custom_fields, dict) else {}
    values.update({f"custom.{key}": str(value) for key, value in custom.items()})
    link = unsubscribe_link(customer.pk)
    body = render_placeholders(campaign.body, values)
    return RenderedEmail(
        to=customer.email,
        subject=" ".join(render_placeholders(campaign.subject, values).split()),
        body=f"{body}\n\n--\nYou get this because you agreed to hear from us. "
        f"Unsubscribe: {link}\n",
        unsubscribe_url=link,
    )


def _email(rendered: RenderedEmail, *, to: str, subject_prefix: str = "") -> EmailMessage:
    return EmailMessage(
        subject=subject_prefix + rendered.subject,
        body=rendered.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            "List-Unsubscribe": f"<{rendered.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


@dataclass(frozen=True)
class Preview:
    recipients: int
    sample: RenderedEmail | None


def preview(campaign: Campaign) -> Preview:
    """How many customers would get it now, and the message the first of them would read."""
    customers = audience(campaign.segment)
    first = customers.order_by("pk").first()
    return Preview(
        recipients=customers.count(),
        sample=render_email(campaign=campaign, customer=first) if first else None,
    )


def send_test_email(*, campaign: Campaign, to: User) -> None:
    """The message as the first recipient would get it, to the lead's own address."""
    if not to.email:
        raise ValidationError("Your account has no email address to send the test to.")
    sample = preview(campaign).sample
    if sample is None:
        raise ValidationError(
            "Nobody in the segment can get this email yet, so there is no sample."
        )
    _email(sample, to=to.email, subject_prefix=TEST_PREFIX).send()


@transaction.atomic
def start_campaign(*, campaign: Campaign) -> int:
    """Fix the recipients (the audience now) and queue the sending; returns their number."""
    campaign = (
        Campaign.objects.select_for_update()
        .select_related("segment__segmentation")
        .get(pk=campaign.pk)
    )
    if campaign.state != Campaign.State.DRAFT:
        raise ValidationError("This campaign has already been sent.")
    customer_ids = audience(campaign.segment).values_list("pk", flat=True)
    recipients = CampaignRecipient.objects.bulk_create(
        (CampaignRecipient(campaign=campaign, customer_id=pk) for pk in customer_ids.iterator()),
        batch_size=1000,
        ignore_conflicts=True,
    )
    campaign.state, campaign.started_at = Campaign.State.SENDING, timezone.now()
    campaign.save(update_fields=["state", "started_at"])
    from segments.tasks import send_campaign_task

    enqueue_on_commit(send_campaign_task, campaign.pk)
    return len(recipients)


def send_campaign_batch(*, campaign_id: int, batch_size: int = BATCH_SIZE) -> bool:
    """Send up to ``batch_size`` pending emails; returns whether any are left (for another
    batch). The campaign is marked sent when none are."""
    campaign = Campaign.objects.select_related("segment").get(pk=campaign_id)
    for _ in range(batch_size):
        if not _send_next(campaign):
            break
    else:
        return True
    Campaign.objects.filter(pk=campaign_id, state=Campaign.State.SENDING).update(
        state=Campaign.State.SENT, finished_at=timezone.now()
    )
    return False


def stalled_campaign_ids(*, now: datetime) -> list[int]:
    """Campaigns still sending whose last email (or start) is older than ``STALLED_AFTER``."""
    cutoff = now - STALLED_AFTER
    sending = Campaign.objects.filter(state=Campaign.State.SENDING, started_at__lt=cutoff)
    stalled = sending.annotate(last_sent=Max("recipients__sent_at")).filter(
        Q(last_sent__isnull=True) | Q(last_sent__lt=cutoff)
    )
    return list(stalled.values_list("pk", flat=True))


def _send_next(campaign: Campaign) -> bool:
    """Claim one pending recipient no other worker holds and send to them; False when none."""
    recipient = _claim_next(campaign)
    if recipient is None:
        return False
    if recipient.state == CampaignRecipient.State.SENT:
        rendered = render_email(campaign=campaign, customer=recipient.customer)
        try:
            _email(rendered, to=recipient.customer.email).send()
        except Exception:
            CampaignRecipient.objects.filter(pk=recipient.pk).update(
                state=CampaignRecipient.State.PENDING, sent_at=None
            )
            raise
    return True


@transaction.atomic
def _claim_next(campaign: Campaign) -> CampaignRecipient | None:
    """The next pending recipient, marked sent (or skipped) and committed before any send."""
    recipient = (
        CampaignRecipient.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("customer")
        .filter(campaign=campaign, state=CampaignRecipient.State.PENDING)
        .order_by("pk")
        .first()
    )
    if recipient is None:
        return None
    customer = recipient.customer
    # Consent can be withdrawn between the start and this customer's turn.
    if not customer.marketing_consent or customer.unsubscribed_at is not None:
        recipient.state = CampaignRecipient.State.SKIPPED
        recipient.save(update_fields=["state"])
        return recipient
    recipient.state, recipient.sent_at = CampaignRecipient.State.SENT, timezone.now()
    recipient.save(update_fields=["state", "sent_at"])
    return recipient


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    skipped: int
    pending: int

    @property
    def percent(self) -> int:
        done = self.sent + self.skipped
        return round(100 * done / self.total) if self.total else 100


def progress(campaign: Campaign) -> Progress:
    states = CampaignRecipient.State
    counts = campaign.recipients.aggregate(
        total=Count("pk"),
        sent=Count("pk", filter=Q(state=states.SENT)),
        skipped=Count("pk", filter=Q(state=states.SKIPPED)),
        pending=Count("pk", filter=Q(state=states.PENDING)),
    )
    return Progress(**counts)
