import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from surveys.scales import SCALES
from tickets.models import Customer, Team, Ticket


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


class SurveyInvitation(models.Model):
    """One survey sent to one customer; its link carries a signed token bound to the nonce."""

    class Kind(models.TextChoices):
        CSAT = "csat", "CSAT"
        NPS = "nps", "NPS"

    kind = models.CharField(max_length=4, choices=Kind.choices)
    scale = models.CharField(max_length=12, choices=[(slug, slug) for slug in SCALES])
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="surveys")
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="surveys"
    )
    # Credit for the answer goes to whoever had the ticket when the survey was sent.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_invitations",
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_invitations"
    )
    # NPS only: "<period days>d:<period number>", so two runs cannot both invite in one period.
    period_key = models.CharField(max_length=32, null=True, blank=True)
    nonce = models.CharField(max_length=32, default=new_nonce)
    # A default rather than auto_now_add: imported historical surveys keep their own time.
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "kind"],
                condition=Q(ticket__isnull=False),
                name="survey_one_invitation_per_ticket_and_kind",
            ),
            models.UniqueConstraint(
                fields=["customer", "period_key"],
                condition=Q(kind="nps"),
                name="survey_one_nps_per_customer_and_period",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "kind", "-created_at"], name="survey_customer_kind"),
            models.Index(fields=["sent_at", "created_at"], name="survey_unsent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} survey #{self.pk}"


class SurveyResponse(models.Model):
    """The customer's answer; the one-to-one key is the one-response-per-invitation rule."""

    invitation = models.OneToOneField(
        SurveyInvitation, on_delete=models.CASCADE, related_name="response"
    )
    score = models.SmallIntegerField()
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField(db_index=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    bad_rating_handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-answered_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=10), name="survey_response_score_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.score} for survey #{self.invitation_id}"
