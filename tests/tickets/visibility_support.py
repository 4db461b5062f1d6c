"""A private team with one member and one ticket, for the visibility tests. The ``agent``
fixture is not in the team; ``open_ticket`` belongs to a team that is not private."""

import pytest

from tests import factories


@pytest.fixture
def private_team(db):
    return factories.TeamFactory(name="Billing escalations", slug="escalations", private=True)


@pytest.fixture
def member(private_team):
    user = factories.AgentFactory(username="member")
    private_team.members.add(user)
    return user


@pytest.fixture
def hidden_ticket(private_team, customer):
    subject = "Chargeback on invoice 77"
    ticket = factories.TicketFactory(
        customer=customer, team=private_team, subject=subject, search_document=subject
    )
    factories.MessageFactory(ticket=ticket)
    return ticket


@pytest.fixture
def open_ticket(customer):
    ticket = factories.TicketFactory(
        customer=customer, team=factories.TeamFactory(), subject="Printer jammed"
    )
    factories.MessageFactory(ticket=ticket)
    return ticket
