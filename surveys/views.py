from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from helpdesk.permissions import lead_required, public_view
from surveys import selectors, services
from surveys.forms import AnswerForm, DateRangeForm
from surveys.models import SurveyInvitation, SurveyResponse
from surveys.scales import scale_named
from surveys.tokens import ExpiredToken, InvalidToken

REFUSALS = {
    InvalidToken: (
        400,
        "This survey link is not valid",
        "The link may have been shortened or changed when it was copied. Please open it "
        "straight from the email we sent you.",
    ),
    ExpiredToken: (
        410,
        "This survey has expired",
        "Survey links work for a limited time and this one has run out. Thank you anyway!",
    ),
}


@public_view("customers answer surveys through a signed link")
@require_http_methods(["GET", "POST"])
def answer(request, token: str):
    try:
        invitation = selectors.invitation_for_token(token)
    except (InvalidToken, ExpiredToken) as error:
        status, title, text = REFUSALS[type(error)]
        return render(
            request, "surveys/refused.html", {"title": title, "text": text}, status=status
        )
    response = getattr(invitation, "response", None)
    if response is not None and not selectors.can_change(response):
        return _closed(request, invitation, response)
    scale = scale_named(invitation.scale)
    initial = {"score": response.score, "comment": response.comment} if response else None
    data = request.POST if request.method == "POST" else None
    form = AnswerForm(data, initial=initial, scale=scale)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                response = services.record_survey_response(
                    invitation_id=invitation.pk,
                    score=form.cleaned_data["score"],
                    comment=form.cleaned_data["comment"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            except services.SurveyClosed as closed:
                return _closed(request, invitation, closed.response)
            else:
                return render(request, "surveys/thanks.html", _answer_context(invitation, response))
    context = {
        "form": form,
        "invitation": invitation,
        "response": response,
        "deadline": selectors.change_deadline(response) if response else None,
        "is_nps": invitation.kind == SurveyInvitation.Kind.NPS,
        "choices": _choices(scale, form["score"].value()),
    }
    return render(request, "surveys/answer.html", context, status=status)


def _choices(scale, current) -> list[dict]:
    return [
        {
            "value": score,
            "label": label,
            "bad": scale.is_bad(score),
            "checked": str(score) == str(current),
        }
        for score, label in scale.choices
    ]


def _closed(request, invitation: SurveyInvitation, response: SurveyResponse):
    """Answered and past the change window: show the recorded answer, refuse a new one."""
    context = _answer_context(invitation, response)
    return render(request, "surveys/closed.html", context, status=410)


def _answer_context(invitation: SurveyInvitation, response: SurveyResponse) -> dict:
    scale = scale_named(invitation.scale)
    return {
        "invitation": invitation,
        "response": response,
        "label": scale.label(response.score),
        "deadline": selectors.change_deadline(response),
        "can_change": selectors.can_change(response),
    }


@lead_required
@require_GET
def csat_overview(request):
    form = DateRangeForm(request.GET)
    if not form.is_valid():
        return render(request, "surveys/csat_overview.html", {"form": form}, status=400)
    start, end = form.range()
    overview = selectors.csat_by_agent_and_team(start=start, end=end)
    context = {
        "form": form,
        "overview": overview,
        "tables": [("Agents", overview.agents), ("Teams", overview.teams)],
    }
    return render(request, "surveys/csat_overview.html", context)
