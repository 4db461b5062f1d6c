"""The Satisfaction panel leaves out survey answers about tickets of a private team the viewer is
outside of (the ticket number, rating and comment would tell what the 404 hides), and counts its
CSAT summary over the answers it shows."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from surveys import panels
from surveys.models import SurveyInvitation, SurveyResponse
from tests import factories
from tests.tickets.views_support import count_queries
from tests.tickets.visibility_support import hidden_ticket, member, open_ticket, private_team
from tickets.selectors import hidden_team_ids

__all__ = ["hidden_ticket", "member", "open_ticket", "private_team"]

pytestmark = pytest.mark.django_db

HIDDEN_COMMENT = "The chargeback was handled rudely"
OPEN_COMMENT = "Printer works again"
# Both pages with every app's providers registered and the process's snapshots warm; filtering
# the panels for the viewer adds none.
TICKET_PAGE_QUERIES = 13
PROFILE_QUERIES = 10


def _answer(ticket, *, score: int, comment: str, kind: str = "csat", scale: str = "stars"):
    invitation = SurveyInvitation.objects.create(
        kind=kind, scale=scale, customer=ticket.customer, ticket=ticket, team=ticket.team
    )
    SurveyResponse.objects.create(
        invitation=invitation, score=score, comment=comment, answered_at=ticket.created_at
    )


@pytest.fixture
def answers(hidden_ticket, open_ticket):
    _answer(hidden_ticket, score=1, comment=HIDDEN_COMMENT)
    _answer(open_ticket, score=5, comment=OPEN_COMMENT)


def _pages(client, user, ticket) -> dict[str, str]:
    """The customer profile and, as the ticket page's sidebar, ``ticket``'s page."""
    client.force_login(user)
    pages = {
        "profile": client.get(reverse("tickets:customer", args=[ticket.customer_id])),
        "ticket": client.get(reverse("tickets:ticket", args=[ticket.pk])),
    }
    assert {name: page.status_code for name, page in pages.items()} == {
        "profile": 200,
        "ticket": 200,
    }
    return {name: page.content.decode() for name, page in pages.items()}


@pytest.mark.usefixtures("answers")
class TestAgentOutsideThePrivateTeam:
    def test_does_not_see_the_hidden_tickets_answer(
        self, client, agent, hidden_ticket, open_ticket
    ):
        for html in _pages(client, agent, open_ticket).values():
            assert OPEN_COMMENT in html
            assert HIDDEN_COMMENT not in html
            assert reverse("tickets:ticket", args=[hidden_ticket.pk]) not in html

    def test_the_csat_summary_counts_only_what_the_agent_sees(self, client, agent, open_ticket):
        for html in _pages(client, agent, open_ticket).values():
            assert "<strong>100.0%</strong> satisfied · mean 5.0/5 · 1 answer<" in html

    def test_sees_the_answer_when_the_ticket_is_assigned_to_them(
        self, client, agent, hidden_ticket, open_ticket
    ):
        hidden_ticket.assignee = agent
        hidden_ticket.save(update_fields=["assignee"])

        for html in _pages(client, agent, open_ticket).values():
            assert HIDDEN_COMMENT in html and "2 answers" in html


@pytest.mark.usefixtures("answers")
@pytest.mark.parametrize("viewer", ["member", "team_lead", "lead", "admin"])
def test_members_the_teams_lead_leads_and_admins_see_every_answer(
    client, request, private_team, open_ticket, viewer
):
    if viewer == "team_lead":
        private_team.lead = factories.AgentFactory(username="team-lead")
        private_team.save(update_fields=["lead"])
        user = private_team.lead
    elif viewer == "admin":
        user = factories.AdminFactory()
    else:
        user = request.getfixturevalue(viewer)

    for html in _pages(client, user, open_ticket).values():
        assert HIDDEN_COMMENT in html and OPEN_COMMENT in html
        assert "<strong>50.0%</strong> satisfied · mean 3.0/5 · 2 answers<" in html


@pytest.mark.parametrize("ids_loaded", [False, True], ids=["subquery", "cached_ids"])
def test_an_answer_about_no_ticket_stays_in_the_panel(
    agent, customer, hidden_ticket, open_ticket, ids_loaded
):
    # given: the hidden team's ids read by an earlier part of the request, or not yet
    if ids_loaded:
        assert hidden_team_ids(agent)
    _answer(hidden_ticket, score=1, comment=HIDDEN_COMMENT)
    _answer(open_ticket, score=5, comment=OPEN_COMMENT)
    nps = SurveyInvitation.objects.create(kind="nps", scale="zero_to_ten", customer=customer)
    SurveyResponse.objects.create(
        invitation=nps, score=9, comment="Would recommend", answered_at=nps.created_at
    )

    # when
    panel = panels.customer_panel(customer, agent)

    # then
    html = render_to_string(panel.template, panel.context)
    assert "Would recommend" in html and OPEN_COMMENT in html
    assert HIDDEN_COMMENT not in html


def test_no_panel_when_every_answer_is_hidden(agent, hidden_ticket):
    _answer(hidden_ticket, score=1, comment=HIDDEN_COMMENT)

    assert panels.customer_panel(hidden_ticket.customer, agent) is None


@pytest.mark.usefixtures("answers")
@pytest.mark.parametrize("viewer", ["agent", "member", "lead"])
def test_the_pages_query_counts_do_not_change(client, request, open_ticket, viewer):
    for _ in range(5):
        _answer(factories.TicketFactory(customer=open_ticket.customer), score=3, comment="ok")
    client.force_login(request.getfixturevalue(viewer))

    ticket_page = reverse("tickets:ticket", args=[open_ticket.pk])
    profile = reverse("tickets:customer", args=[open_ticket.customer_id])

    assert count_queries(client, ticket_page) <= TICKET_PAGE_QUERIES
    assert count_queries(client, profile) <= PROFILE_QUERIES
