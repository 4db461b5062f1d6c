"""Every write of the surveys app: invitations, sending, answers, and their consequences."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import islice

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from helpdesk.jobs import enqueue_on_commit
from surveys.models import SurveyInvitation, SurveyResponse, new_nonce
from surveys.scales import ZERO_TO_TEN, scale_named
from surveys.selectors import can_change
from surveys.tokens import make_token
from tickets.models import Customer, Ticket
from tickets.services import update_ticket
from tickets.services.privacy import ERASED_EMAIL_SUFFIX

BATCH_SIZE = 1000
# Tickets solved longer ago than this are not surveyed: the feature going live, or a bulk
# import of historical tickets, must not email customers about long-forgotten conversations.
INVITE_LOOKBACK = timedelta(days=7)


class SurveyClosed(Exception):
    """The invitation was answered and the window for changing the answer has passed."""

    def __init__(self, response: SurveyResponse):
        super().__init__(f"survey #{response.invitation_id} can no longer be changed")
        self.response = response


def invite_solved_tickets(*, now: datetime | None = None) -> int:
    """Create a CSAT invitation for every recently solved ticket without one; safe to rerun."""
    now = now or timezone.now()
    scale = scale_named(settings.SURVEY_CSAT_SCALE).slug
    solved = Ticket.objects.filter(
        status__in=(Ticket.Status.SOLVED, Ticket.Status.CLOSED),
        solved_at__lte=now - timedelta(minutes=settings.SURVEY_DELAY_MINUTES),
        solved_at__gte=now - INVITE_LOOKBACK,
    ).exclude(customer__email__endswith=ERASED_EMAIL_SUFFIX)
    already_invited = SurveyInvitation.objects.filter(
        ticket=OuterRef("pk"), kind=SurveyInvitation.Kind.CSAT
    )
    rows = solved.exclude(Exists(already_invited)).values_list("pk", "customer_id")
    invitations = (
        SurveyInvitation(
            kind=SurveyInvitation.Kind.CSAT, scale=scale, ticket_id=ticket_id, customer_id=cid
        )
        for ticket_id, cid in rows
    )
    return _insert_ignoring_duplicates(invitations)


def invite_nps(*, now: datetime | None = None) -> int:
    """Invite every customer helped within the NPS period who was not asked within it."""
    if not settings.NPS_ENABLED:
        return 0
    now = now or timezone.now()
    period = timedelta(days=settings.NPS_PERIOD_DAYS)
    period_key = f"{settings.NPS_PERIOD_DAYS}d:{int(now.timestamp() // period.total_seconds())}"
    helped = Ticket.objects.filter(
        customer=OuterRef("pk"),
        solved_at__gte=now - period,
        solved_at__lte=now - timedelta(minutes=settings.SURVEY_DELAY_MINUTES),
    )
    asked = SurveyInvitation.objects.filter(
        customer=OuterRef("pk"), kind=SurveyInvitation.Kind.NPS, created_at__gte=now - period
    )
    customer_ids = (
        Customer.objects.filter(Exists(helped))
        .exclude(Exists(asked))
        .exclude(email__endswith=ERASED_EMAIL_SUFFIX)
        .values_list("pk", flat=True)
    )
    invitations = (
        SurveyInvitation(
            kind=SurveyInvitation.Kind.NPS,
            scale=ZERO_TO_TEN.slug,
            customer_id=customer_id,
            period_key=period_key,
        )
        for customer_id in customer_ids
    )
    return _insert_ignoring_duplicates(invitations)


def _insert_ignoring_duplicates(invitations: Iterator[SurveyInvitation]) -> int:
    """Bulk insert in batches; a row another run inserted meanwhile is skipped by its unique
    constraint. Returns how many were offered."""
    offered = 0
    while batch := list(islice(invitations, BATCH_SIZE)):
        with transaction.atomic():
            SurveyInvitation.objects.bulk_create(batch, ignore_conflicts=True)
        offered += len(batch)
    return offered


def survey_link(invitation: SurveyInvitation) -> str:
    token = make_token(invitation_id=invitation.pk, nonce=invitation.nonce)
    return settings.SITE_URL.rstrip("/") + reverse("surveys:answer", args=[token])


def send_invitation(*, invitation_id: int) -> bool:
    """Email the survey at most once. ``sent_at`` is committed before the mail goes out, so a
    duplicate or redelivered task finds it set, even when the worker died after the SMTP server
    accepted the mail; an SMTP error clears it again for the task's retry. The trade-off: a
    worker killed during the send loses that survey rather than sending it twice.
    Returns whether an email was sent."""
    invitation = _mark_invitation_sent(invitation_id)
    if invitation is None:
        return False
    try:
        _invitation_email(invitation).send()
    except Exception:
        SurveyInvitation.objects.filter(pk=invitation.pk).update(sent_at=None)
        raise
    return True


@transaction.atomic
def _mark_invitation_sent(invitation_id: int) -> SurveyInvitation | None:
    """The invitation, claimed for sending; None when it was sent already or cannot be."""
    invitation = (
        SurveyInvitation.objects.select_for_update(of=("self",))
        .select_related("customer", "ticket")
        .filter(pk=invitation_id, sent_at__isnull=True)
        .first()
    )
    if invitation is None or invitation.customer.email.endswith(ERASED_EMAIL_SUFFIX):
        return None
    if invitation.ticket is not None:
        invitation.agent_id = invitation.ticket.assignee_id
        invitation.team_id = invitation.ticket.team_id
    invitation.sent_at = timezone.now()
    invitation.save(update_fields=["agent", "team", "sent_at"])
    return invitation


def _invitation_email(invitation: SurveyInvitation) -> EmailMultiAlternatives:
    context = {
        "invitation": invitation,
        "customer": invitation.customer,
        "ticket": invitation.ticket,
        "link": survey_link(invitation),
        "question": scale_named(invitation.scale).question,
        "max_age_days": settings.SURVEY_LINK_MAX_AGE_DAYS,
    }
    subject = render_to_string("surveys/email/invitation_subject.txt", context)
    email = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string("surveys/email/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.customer.email],
    )
    email.attach_alternative(
        render_to_string("surveys/email/invitation.html", context), "text/html"
    )
    return email


@transaction.atomic
def record_survey_response(
    *, invitation_id: int, score: int, comment: str = "", now: datetime | None = None
) -> SurveyResponse:
    """Record the answer, or change it within the change window; never a second response.

    Raises ValidationError for a score off the scale or a bad rating without a reason, and
    SurveyClosed once the answer can no longer be changed.
    """
    now = now or timezone.now()
    invitation = SurveyInvitation.objects.select_for_update().get(pk=invitation_id)
    response = SurveyResponse.objects.filter(invitation=invitation).first()
    if response is not None and not can_change(response, now=now):
        raise SurveyClosed(response)
    scale = scale_named(invitation.scale)
    comment = comment.strip()
    if score not in scale.scores:
        raise ValidationError({"score": "Please choose one of the offered answers."})
    if invitation.kind == SurveyInvitation.Kind.CSAT and scale.is_bad(score) and not comment:
        raise ValidationError({"comment": "Please tell us what went wrong."})
    if response is None:
        response = SurveyResponse.objects.create(
            invitation=invitation, score=score, comment=comment, answered_at=now
        )
    else:
        response.score, response.comment, response.changed_at = score, comment, now
        response.save(update_fields=["score", "comment", "changed_at"])
    if _needs_bad_rating_follow_up(invitation, response):
        from surveys.tasks import handle_bad_rating_task

        enqueue_on_commit(handle_bad_rating_task, response.pk)
    return response


def _needs_bad_rating_follow_up(invitation: SurveyInvitation, response: SurveyResponse) -> bool:
    return (
        invitation.kind == SurveyInvitation.Kind.CSAT
        and bool(settings.SURVEY_BAD_RATING_ACTIONS)
        and response.bad_rating_handled_at is None
        and scale_named(invitation.scale).is_bad(response.score)
    )


def handle_bad_rating(*, response_id: int) -> bool:
    """Reopen the ticket and/or email the team lead, once per response, as configured."""
    with transaction.atomic():
        response = (
            SurveyResponse.objects.select_for_update(of=("self",))
            .select_related("invitation__ticket", "invitation__team__lead", "invitation__customer")
            .filter(pk=response_id, bad_rating_handled_at__isnull=True)
            .first()
        )
        if response is None or not _needs_bad_rating_follow_up(response.invitation, response):
            return False
        response.bad_rating_handled_at = timezone.now()
        response.save(update_fields=["bad_rating_handled_at"])
        actions = set(settings.SURVEY_BAD_RATING_ACTIONS)
        ticket = response.invitation.ticket
        if "reopen" in actions and ticket.status in (Ticket.Status.SOLVED, Ticket.Status.CLOSED):
            update_ticket(
                ticket=ticket, actor=None, status=Ticket.Status.OPEN, cause="bad survey rating"
            )
        if "notify_lead" in actions:
            _notify_lead(response)
    return True


def _notify_lead(response: SurveyResponse) -> None:
    team = response.invitation.team
    lead = team.lead if team else None
    if lead is None or not lead.email:
        return
    context = {
        "response": response,
        "ticket": response.invitation.ticket,
        "label": scale_named(response.invitation.scale).label(response.score),
        "ticket_url": settings.SITE_URL.rstrip("/")
        + reverse("tickets:ticket", args=[response.invitation.ticket_id]),
    }
    EmailMultiAlternatives(
        subject=f"Bad rating on ticket [#{response.invitation.ticket_id}]",
        body=render_to_string("surveys/email/bad_rating.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[lead.email],
    ).send()


def export_customer_surveys(customer: Customer) -> dict:
    """The privacy export's surveys section."""
    invitations = SurveyInvitation.objects.filter(customer=customer).select_related("response")
    return {"survey_invitations": [_invitation_export(inv) for inv in invitations]}


def _invitation_export(invitation: SurveyInvitation) -> dict:
    response = getattr(invitation, "response", None)
    return {
        "id": invitation.pk,
        "kind": invitation.kind,
        "scale": invitation.scale,
        "ticket_id": invitation.ticket_id,
        "created_at": invitation.created_at,
        "sent_at": invitation.sent_at,
        "response": None
        if response is None
        else {
            "score": response.score,
            "comment": response.comment,
            "answered_at": response.answered_at,
            "changed_at": response.changed_at,
        },
    }


def erase_customer_surveys(customer: Customer) -> dict:
    """Clear comments, kill every outstanding link, and drop surveys not yet sent."""
    invitations = SurveyInvitation.objects.filter(customer=customer)
    comments = SurveyResponse.objects.filter(invitation__customer=customer).exclude(comment="")
    cleared = comments.update(comment="")
    unsent, _ = invitations.filter(sent_at__isnull=True).delete()
    rotated = [
        SurveyInvitation(pk=pk, nonce=new_nonce())
        for pk in invitations.values_list("pk", flat=True)
    ]
    SurveyInvitation.objects.bulk_update(rotated, ["nonce"])
    return {"survey_comments_cleared": cleared, "unsent_surveys_deleted": unsent}
