"""Sidebar panels on the ticket and customer pages (registered in SurveysConfig.ready)."""

from surveys import selectors
from surveys.models import SurveyInvitation
from surveys.scales import scale_named
from tickets.extensions import Panel


def _answer(invitation: SurveyInvitation) -> dict:
    scale = scale_named(invitation.scale)
    response = invitation.response
    return {
        "invitation": invitation,
        "response": response,
        "label": scale.label(response.score),
        "bad": scale.is_bad(response.score),
    }


def ticket_panel(ticket, user) -> Panel | None:
    """The survey of ``ticket`` alone, which ``user`` may see (the ticket page checked)."""
    invitation = selectors.ticket_survey(ticket.pk)
    if invitation is None:
        return None
    answered = hasattr(invitation, "response")
    return Panel(
        title="Satisfaction",
        template="surveys/partials/ticket_panel.html",
        context={"invitation": invitation, "answer": _answer(invitation) if answered else None},
        order=40,
    )


def customer_panel(customer, user) -> Panel | None:
    history = selectors.customer_survey_history(customer.pk, user=user)
    if not history:
        return None
    return Panel(
        title="Satisfaction",
        template="surveys/partials/customer_panel.html",
        context={
            "csat": selectors.customer_csat(customer.pk, user=user),
            "answers": [_answer(invitation) for invitation in history],
        },
        order=40,
    )
