"""Every panel the apps register with ``tickets.extensions`` leaves out the tickets its viewer
may not see (those of a private team). The tests walk the registries, so a panel added later is
held to the rule without a test of its own: if it shows a hidden ticket's subject, number, link
or survey comment to an outsider, these fail."""

import re

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from surveys.models import SurveyInvitation, SurveyResponse
from tests import factories
from tickets import extensions

pytestmark = pytest.mark.django_db

HIDDEN_SUBJECT = "Merger paperwork for the board"
HIDDEN_COMMENT = "Please keep the acquisition quiet"
VISIBLE_COMMENT = "Quick and kind"


@pytest.fixture
def member():
    return factories.AgentFactory(username="member")


def _answered(ticket, *, score: int, comment: str) -> None:
    invitation = SurveyInvitation.objects.create(
        kind="csat", scale="stars", customer=ticket.customer, ticket=ticket
    )
    SurveyResponse.objects.create(
        invitation=invitation, score=score, comment=comment, answered_at=timezone.now()
    )


@pytest.fixture
def customer_with_a_hidden_ticket(member):
    """A customer with a ticket of a private team and an ordinary one, both rated."""
    customer = factories.CustomerFactory()
    private = factories.TeamFactory(name="Legal", private=True)
    private.members.add(member)
    hidden = factories.TicketFactory(customer=customer, team=private, subject=HIDDEN_SUBJECT)
    _answered(hidden, score=1, comment=HIDDEN_COMMENT)
    visible = factories.TicketFactory(customer=customer, subject="Where is my order")
    _answered(visible, score=5, comment=VISIBLE_COMMENT)
    return customer, hidden, visible


def _rendered(panels) -> str:
    assert panels, "the panels had something to show"
    return "".join(render_to_string(panel.template, panel.context) for panel in panels)


def _traces_of(ticket, html: str) -> list[str]:
    traces = [HIDDEN_SUBJECT, HIDDEN_COMMENT, f"/tickets/{ticket.pk}/"]
    found = [trace for trace in traces if trace in html]
    if re.search(rf"#{ticket.pk}\b", html):
        found.append(f"#{ticket.pk}")
    return found


def test_customer_panels_show_a_private_teams_ticket_to_its_members_only(
    customer_with_a_hidden_ticket, member, agent
):
    customer, hidden, _ = customer_with_a_hidden_ticket

    seen_by_member = _rendered(extensions.customer_panels(customer, member))
    seen_by_outsider = _rendered(extensions.customer_panels(customer, agent))

    assert _traces_of(hidden, seen_by_member), "the panels had the hidden ticket to show"
    assert "2 answers" in seen_by_member
    assert _traces_of(hidden, seen_by_outsider) == []
    assert VISIBLE_COMMENT in seen_by_outsider
    assert "1 answer" in seen_by_outsider  # the totals do not count the hidden rating


def test_ticket_panels_of_a_visible_ticket_show_nothing_of_a_hidden_one(
    customer_with_a_hidden_ticket, agent
):
    _, hidden, visible = customer_with_a_hidden_ticket

    html = _rendered(extensions.ticket_panels(visible, agent))

    assert VISIBLE_COMMENT in html
    assert _traces_of(hidden, html) == []
