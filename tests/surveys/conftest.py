from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from surveys import services
from surveys.models import SurveyInvitation
from tests import factories
from tickets.models import Ticket


@pytest.fixture
def team(db, lead):
    return factories.TeamFactory(lead=lead)


@pytest.fixture
def solved_ticket(db, agent, team):
    """A ticket solved an hour ago, past the default survey delay."""
    solved_at = timezone.now() - timedelta(hours=1)
    return factories.TicketFactory(
        status=Ticket.Status.SOLVED,
        solved_at=solved_at,
        created_at=solved_at - timedelta(days=1),
        assignee=agent,
        team=team,
        customer=factories.CustomerFactory(name="Ann Example", email="ann@example.com"),
    )


@pytest.fixture
def sent_invitation(solved_ticket) -> SurveyInvitation:
    """A CSAT invitation for ``solved_ticket`` that has been emailed."""
    services.invite_solved_tickets()
    invitation = SurveyInvitation.objects.get(ticket=solved_ticket)
    services.send_invitation(invitation_id=invitation.pk)
    invitation.refresh_from_db()
    return invitation


@pytest.fixture
def answer_url():
    def url_for(invitation: SurveyInvitation) -> str:
        return urlsplit(services.survey_link(invitation)).path

    return url_for
