import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from helpdesk.roles import Role, has_role
from surveys import panels, services
from surveys.models import SurveyInvitation, SurveyResponse
from tests import factories
from tickets import extensions
from tickets.directory import directory


def _render(panel) -> str:
    return render_to_string(panel.template, panel.context)


def _answered_history(customer, count: int) -> None:
    for score in range(count):
        ticket = factories.TicketFactory(customer=customer)
        invitation = SurveyInvitation.objects.create(
            kind="csat", scale="stars", customer=customer, ticket=ticket
        )
        SurveyResponse.objects.create(
            invitation=invitation, score=score % 5 + 1, comment="ok", answered_at=ticket.created_at
        )


@pytest.fixture
def viewer(agent):
    """The agent as a page hands it to the panels: the view's role check has loaded its role,
    and the process's directory of teams is warm."""
    assert has_role(agent, Role.AGENT) and directory()
    return agent


def test_the_panels_are_registered_with_tickets():
    assert panels.ticket_panel in extensions._ticket_panel_providers
    assert panels.customer_panel in extensions._customer_panel_providers


def test_the_ticket_panel_shows_the_answer_and_the_credit(sent_invitation, agent, team):
    services.record_survey_response(invitation_id=sent_invitation.pk, score=2, comment="Slow")

    html = _render(panels.ticket_panel(sent_invitation.ticket, agent))

    assert "★★" in html and "★★★" not in html
    assert "Slow" in html
    assert agent.display_name in html and team.name in html


def test_a_ticket_without_a_survey_has_no_panel(ticket, agent):
    assert panels.ticket_panel(ticket, agent) is None


def test_the_ticket_panel_uses_one_query(sent_invitation, agent, django_assert_num_queries):
    services.record_survey_response(invitation_id=sent_invitation.pk, score=5)
    ticket = sent_invitation.ticket

    with django_assert_num_queries(1):
        _render(panels.ticket_panel(ticket, agent))


def test_the_customer_panel_query_count_does_not_grow_with_history(
    customer, viewer, django_assert_max_num_queries
):
    _answered_history(customer, 2)
    with django_assert_max_num_queries(2):
        _render(panels.customer_panel(customer, viewer))
    _answered_history(customer, 20)

    with django_assert_max_num_queries(2):
        html = _render(panels.customer_panel(customer, viewer))

    assert "22 answers" in html


def test_the_ticket_and_customer_pages_show_the_rating(agent_client, sent_invitation):
    services.record_survey_response(
        invitation_id=sent_invitation.pk, score=2, comment="Took three days"
    )
    ticket = sent_invitation.ticket

    ticket_page = agent_client.get(reverse("tickets:ticket", args=[ticket.pk]))
    customer_page = agent_client.get(reverse("tickets:customer", args=[ticket.customer_id]))

    for page in (ticket_page, customer_page):
        assert page.status_code == 200
        assert "Took three days" in page.content.decode()
