"""Who sees which ticket: ``selectors.visible_tickets`` and what it costs."""

import pytest

from helpdesk.models import User
from tests import factories
from tests.tickets.visibility_support import hidden_ticket, member, open_ticket, private_team
from tickets.directory import directory
from tickets.selectors import filtered_tickets, hidden_team_ids, visible_tickets

__all__ = ["hidden_ticket", "member", "open_ticket", "private_team"]

pytestmark = pytest.mark.django_db


def _visible(user) -> set[int]:
    return set(visible_tickets(user).values_list("pk", flat=True))


class TestWhoSeesAPrivateTeamsTicket:
    def test_not_an_agent_outside_the_team(self, agent, hidden_ticket, open_ticket):
        assert _visible(agent) == {open_ticket.pk}

    def test_a_member_of_the_team(self, member, hidden_ticket, open_ticket):
        assert _visible(member) == {hidden_ticket.pk, open_ticket.pk}

    def test_the_teams_own_lead_even_with_the_agent_role(self, private_team, hidden_ticket):
        private_team.lead = factories.AgentFactory()
        private_team.save(update_fields=["lead"])

        assert _visible(private_team.lead) == {hidden_ticket.pk}

    @pytest.mark.parametrize("role", [factories.LeadFactory, factories.AdminFactory])
    def test_team_leads_and_admins(self, role, hidden_ticket, open_ticket):
        assert _visible(role()) == {hidden_ticket.pk, open_ticket.pk}

    def test_the_agent_it_is_assigned_to_though_outside_the_team(self, agent, hidden_ticket):
        hidden_ticket.assignee = agent
        hidden_ticket.save(update_fields=["assignee"])

        assert _visible(agent) == {hidden_ticket.pk}

    def test_not_an_outsider_when_it_is_assigned_to_someone_else(self, agent, hidden_ticket):
        hidden_ticket.assignee = factories.AgentFactory()
        hidden_ticket.save(update_fields=["assignee"])

        assert _visible(agent) == set()


def test_a_ticket_without_a_team_is_seen_by_every_agent(agent, private_team):
    teamless = factories.TicketFactory(team=None)

    assert _visible(agent) == {teamless.pk}


def test_a_team_that_is_not_private_hides_nothing_from_outsiders(agent):
    team = factories.TeamFactory()
    team.members.add(factories.AgentFactory())
    ticket = factories.TicketFactory(team=team)

    assert _visible(agent) == {ticket.pk}


class TestCost:
    """Users' roles are loaded first, as the view decorators do, and the process's directory of
    teams is warm, as on every page after the first."""

    def test_the_hidden_teams_cost_no_query(self, agent, private_team, django_assert_num_queries):
        assert agent.role and directory()
        with django_assert_num_queries(0):
            assert hidden_team_ids(agent) == {private_team.pk}

    def test_leads_cost_no_query(self, lead, private_team, django_assert_num_queries):
        assert lead.role and directory()
        with django_assert_num_queries(0):
            assert hidden_team_ids(lead) == frozenset()
            visible_tickets(lead)

    def test_without_a_private_team_the_inbox_query_is_a_leads_query(self, agent, lead):
        factories.TeamFactory()
        filters = {"status": "any", "q": "refund"}

        assert str(filtered_tickets(user=agent, filters=filters).query) == str(
            filtered_tickets(user=lead, filters=filters).query
        )

    def test_listing_visible_tickets_is_one_query(
        self, agent, hidden_ticket, open_ticket, django_assert_num_queries
    ):
        assert agent.role and directory()
        with django_assert_num_queries(1):
            assert [ticket.pk for ticket in visible_tickets(agent)] == [open_ticket.pk]


class TestChangesToTeamsTakeEffectAtOnce:
    """The hidden teams come from the process's directory snapshot, which every change to a
    team's privacy, members or lead replaces (a new request reads a new user object). Each
    test warms the directory just before the change."""

    def test_a_team_made_private(self, agent, open_ticket):
        assert _visible(_next_request(agent)) == {open_ticket.pk}

        open_ticket.team.private = True
        open_ticket.team.save(update_fields=["private"])

        assert _visible(_next_request(agent)) == set()

    def test_a_member_removed_from_the_team(self, member, private_team, hidden_ticket):
        assert _visible(_next_request(member)) == {hidden_ticket.pk}

        private_team.members.remove(member)

        assert _visible(_next_request(member)) == set()

    def test_an_agent_added_to_the_team(self, agent, private_team, hidden_ticket):
        assert _visible(_next_request(agent)) == set()

        private_team.members.add(agent)

        assert _visible(_next_request(agent)) == {hidden_ticket.pk}

    def test_the_teams_lead_replaced(self, agent, private_team, hidden_ticket):
        assert _visible(_next_request(agent)) == set()

        private_team.lead = agent
        private_team.save(update_fields=["lead"])

        assert _visible(_next_request(agent)) == {hidden_ticket.pk}


def _next_request(user: User) -> User:
    return User.objects.get(pk=user.pk)
