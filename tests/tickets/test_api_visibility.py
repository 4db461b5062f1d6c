"""The tickets API keeps a private team's tickets from agents outside it: absent from the
list, 404 for reading, changing, replying, noting and the thread (as for a missing ticket)."""

import pytest
from rest_framework.authtoken.models import Token

from tests import factories
from tests.api_clients import token_client
from tests.tickets.visibility_support import hidden_ticket, member, open_ticket, private_team
from tickets.models import Ticket

__all__ = ["hidden_ticket", "member", "open_ticket", "private_team"]

pytestmark = pytest.mark.django_db

TICKETS = "/api/tickets/"
# method, path suffix, body
SINGLE_TICKET_CALLS = [
    ("get", "", None),
    ("patch", "", {"status": "solved"}),
    ("post", "reply/", {"body_text": "On it."}),
    ("post", "notes/", {"body_text": "Checked."}),
    ("get", "messages/", None),
]


def _call(client, ticket: Ticket, method: str, suffix: str, body):
    return getattr(client, method)(f"{TICKETS}{ticket.pk}/{suffix}", body, format="json")


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def _client_of(user):
    return token_client(Token.objects.create(user=user))


def test_the_list_leaves_out_an_outsiders_hidden_tickets(api, lead, hidden_ticket, open_ticket):
    assert _ids(api.get(TICKETS)) == {open_ticket.pk}
    assert _ids(api.get(TICKETS, {"q": "Chargeback"})) == set()
    assert _ids(_client_of(lead).get(TICKETS, {"q": "Chargeback"})) == {hidden_ticket.pk}


@pytest.mark.parametrize(("method", "suffix", "body"), SINGLE_TICKET_CALLS)
def test_an_outsider_gets_a_404_and_changes_nothing(api, hidden_ticket, method, suffix, body):
    response = _call(api, hidden_ticket, method, suffix, body)

    assert response.status_code == 404
    hidden_ticket.refresh_from_db()
    assert hidden_ticket.status == Ticket.Status.NEW
    assert hidden_ticket.messages.count() == 1


@pytest.mark.parametrize(("method", "suffix", "body"), SINGLE_TICKET_CALLS)
def test_a_member_works_the_ticket(member, hidden_ticket, method, suffix, body):
    response = _call(_client_of(member), hidden_ticket, method, suffix, body)

    assert response.status_code in {200, 201}


@pytest.mark.parametrize("role", [factories.LeadFactory, factories.AdminFactory])
def test_team_leads_and_admins_list_and_read_it(role, hidden_ticket, open_ticket):
    client = _client_of(role())

    assert _ids(client.get(TICKETS)) == {hidden_ticket.pk, open_ticket.pk}
    assert _call(client, hidden_ticket, "get", "", None).status_code == 200


@pytest.mark.parametrize(("method", "suffix", "body"), SINGLE_TICKET_CALLS)
def test_a_ticket_of_a_team_that_is_not_private_is_open_to_every_agent(
    api, private_team, open_ticket, method, suffix, body
):
    assert _call(api, open_ticket, method, suffix, body).status_code in {200, 201}


def test_the_assigned_agent_reads_it_though_outside_the_team(api, agent, hidden_ticket):
    hidden_ticket.assignee = agent
    hidden_ticket.save(update_fields=["assignee"])

    assert _ids(api.get(TICKETS)) == {hidden_ticket.pk}
    assert _call(api, hidden_ticket, "get", "", None).status_code == 200
