"""Reads of survey data shared by the views, the panels, the reports and the privacy export."""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.db.models import (
    Avg,
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from helpdesk.models import User
from surveys.models import SurveyInvitation, SurveyResponse
from surveys.scales import CSAT_SCALES, SCALES, ZERO_TO_TEN
from surveys.tokens import InvalidToken, read_token
from tickets.selectors import without_hidden_tickets


def invitation_for_token(token: str) -> SurveyInvitation:
    """The invitation a link was made for; raises InvalidToken or ExpiredToken."""
    invitation_id, nonce = read_token(token)
    invitation = (
        SurveyInvitation.objects.select_related("ticket", "response").filter(pk=invitation_id)
    ).first()
    if invitation is None or not secrets.compare_digest(invitation.nonce, nonce):
        raise InvalidToken
    return invitation


def change_deadline(response: SurveyResponse) -> datetime:
    return response.answered_at + timedelta(hours=settings.SURVEY_CHANGE_WINDOW_HOURS)


def can_change(response: SurveyResponse, *, now: datetime | None = None) -> bool:
    return (now or timezone.now()) < change_deadline(response)


def unsent_invitation_ids(*, now: datetime, limit: int) -> list[int]:
    """Invitations still to be emailed, skipping those too old to be worth sending."""
    fresh_since = now - timedelta(days=settings.SURVEY_LINK_MAX_AGE_DAYS)
    unsent = SurveyInvitation.objects.filter(sent_at__isnull=True, created_at__gte=fresh_since)
    return list(unsent.order_by("created_at").values_list("pk", flat=True)[:limit])


def unhandled_bad_rating_ids(*, since: datetime, limit: int) -> list[int]:
    """Bad CSAT answers given or changed since ``since`` whose follow-up has not run."""
    bad = reduce(
        or_,
        (Q(invitation__scale=slug, score__lte=SCALES[slug].bad_up_to) for slug in CSAT_SCALES),
    )
    recent = Q(answered_at__gte=since) | Q(changed_at__gte=since)
    unhandled = responses(kind=SurveyInvitation.Kind.CSAT).filter(
        bad, recent, bad_rating_handled_at__isnull=True
    )
    return list(unhandled.values_list("pk", flat=True)[:limit])


def responses(*, kind: str) -> QuerySet[SurveyResponse]:
    return SurveyResponse.objects.filter(invitation__kind=kind)


def _normalised_score():
    """The score on a 1-5 scale, so answers on a three-point scale average with star ratings."""
    whens = []
    for slug in CSAT_SCALES:
        low, high = min(SCALES[slug].scores), max(SCALES[slug].scores)
        rescaled = Value(1.0) + (F("score") - Value(low)) * Value(4.0 / (high - low))
        whens.append(When(invitation__scale=slug, then=rescaled))
    return ExpressionWrapper(Case(*whens), output_field=FloatField())


def _satisfied() -> Q:
    return reduce(
        or_,
        (Q(invitation__scale=slug, score__gte=SCALES[slug].satisfied_from) for slug in CSAT_SCALES),
    )


def csat_aggregates() -> dict:
    """Responses, satisfied responses and the mean on a 1-5 scale, for aggregate or annotate."""
    return {
        "responses": Count("pk"),
        "satisfied": Count("pk", filter=_satisfied()),
        "mean_score": Avg(_normalised_score()),
    }


@dataclass(frozen=True)
class CsatRow:
    """CSAT of one group: share satisfied in percent, mean on a 1-5 scale."""

    key: object
    label: str
    responses: int
    satisfied_percent: float | None
    mean_score: float | None


def _row(key, label: str, values: dict) -> CsatRow:
    count = values["responses"]
    return CsatRow(
        key=key,
        label=label,
        responses=count,
        satisfied_percent=round(100 * values["satisfied"] / count, 1) if count else None,
        mean_score=round(values["mean_score"], 2) if values["mean_score"] is not None else None,
    )


def csat_summary(csat_responses: QuerySet[SurveyResponse]) -> CsatRow:
    return _row(None, "All", csat_responses.aggregate(**csat_aggregates()))


def nps_score(nps_responses: QuerySet[SurveyResponse]) -> float | None:
    """% promoters (9-10) minus % detractors (0-6); None without responses."""
    counts = nps_responses.aggregate(
        total=Count("pk"),
        promoters=Count("pk", filter=Q(score__gte=ZERO_TO_TEN.satisfied_from)),
        detractors=Count("pk", filter=Q(score__lte=ZERO_TO_TEN.bad_up_to)),
    )
    if not counts["total"]:
        return None
    return round(100 * (counts["promoters"] - counts["detractors"]) / counts["total"], 1)


@dataclass(frozen=True)
class CsatOverview:
    start: date
    end: date
    overall: CsatRow
    agents: list[CsatRow]
    teams: list[CsatRow]


def csat_by_agent_and_team(*, start: date, end: date) -> CsatOverview:
    """CSAT answered from ``start`` to ``end`` (both inclusive), credited as recorded at send."""
    tz = timezone.get_current_timezone()
    answered = responses(kind=SurveyInvitation.Kind.CSAT).filter(
        answered_at__gte=datetime.combine(start, time.min, tzinfo=tz),
        answered_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )
    agents = answered.values(
        "invitation__agent_id",
        "invitation__agent__username",
        "invitation__agent__first_name",
        "invitation__agent__last_name",
    ).annotate(**csat_aggregates())
    teams = answered.values("invitation__team_id", "invitation__team__name").annotate(
        **csat_aggregates()
    )
    agent_rows = [
        _row(values["invitation__agent_id"], _agent_label(values), values) for values in agents
    ]
    team_rows = [
        _row(values["invitation__team_id"], values["invitation__team__name"] or "No team", values)
        for values in teams
    ]
    return CsatOverview(
        start=start,
        end=end,
        overall=csat_summary(answered),
        agents=sorted(agent_rows, key=lambda row: row.label.lower()),
        teams=sorted(team_rows, key=lambda row: row.label.lower()),
    )


def _agent_label(values: dict) -> str:
    if values["invitation__agent_id"] is None:
        return "Unassigned"
    first, last = values["invitation__agent__first_name"], values["invitation__agent__last_name"]
    return f"{first} {last}".strip() or values["invitation__agent__username"]


def ticket_survey(ticket_id: int) -> SurveyInvitation | None:
    return (
        SurveyInvitation.objects.select_related("response", "agent", "team")
        .filter(ticket_id=ticket_id, kind=SurveyInvitation.Kind.CSAT)
        .first()
    )


def customer_survey_history(
    customer_id: int, *, user: User, limit: int = 10
) -> list[SurveyInvitation]:
    """The customer's latest answered surveys ``user`` may see, newest first: those about a
    ticket hidden from the user are left out (surveys about no ticket, like NPS, stay)."""
    answered = without_hidden_tickets(
        user,
        SurveyInvitation.objects.filter(customer_id=customer_id, response__isnull=False),
        ticket_path="ticket",
    )
    return list(
        answered.select_related("response", "ticket", "agent").order_by(
            "-response__answered_at", "-id"
        )[:limit]
    )


def customer_csat(customer_id: int, *, user: User) -> CsatRow:
    """The customer's CSAT over the answers ``user`` may see, so that a hidden ticket's rating
    cannot be read off the totals."""
    answers = responses(kind=SurveyInvitation.Kind.CSAT).filter(invitation__customer_id=customer_id)
    return csat_summary(without_hidden_tickets(user, answers, ticket_path="invitation__ticket"))
