"""Every staff page that reads or acts on tickets keeps a private team's tickets from agents
outside it: 404 where one ticket is asked for (as for a missing one), absent from lists."""

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.tickets.test_views_inbox import INBOX_MAX_QUERIES
from tests.tickets.views_support import count_queries, only_test_extensions, warm
from tests.tickets.visibility_support import hidden_ticket, member, open_ticket, private_team
from tickets import services
from tickets.models import Article, CannedReply, Ticket

__all__ = ["hidden_ticket", "member", "only_test_extensions", "open_ticket", "private_team"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_test_extensions")]

INBOX = reverse("tickets:inbox")
HTMX = {"HX-Request": "true"}
TICKET_ACTIONS = [
    "ticket",
    "reply",
    "note",
    "properties",
    "viewers",
    "stop_viewing",
    "reply_suggestions",
    "insert_canned_reply",
    "insert_article_link",
]


def _request(client, action: str, ticket: Ticket):
    """One request of ``action`` on ``ticket`` with valid input."""
    args = [ticket.pk]
    if action == "insert_canned_reply":
        args.append(CannedReply.objects.create(title="Hi", body="Hello").pk)
    if action == "insert_article_link":
        args.append(Article.objects.create(title="A", slug="a", body="b", published=True).pk)
    url = reverse(f"tickets:{action}", args=args)
    if action in {"ticket", "viewers", "reply_suggestions"}:
        return client.get(url)
    data = {"body_text": "On it."}
    if action == "properties":
        data = {"status": "solved", "priority": "high", "team": ticket.team_id or ""}
    return client.post(url, data)


def _login(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("action", TICKET_ACTIONS)
def test_an_agent_outside_the_private_team_gets_a_404_and_changes_nothing(
    agent_client, hidden_ticket, action
):
    response = _request(agent_client, action, hidden_ticket)

    assert response.status_code == 404
    hidden_ticket.refresh_from_db()
    assert hidden_ticket.status == Ticket.Status.NEW
    assert hidden_ticket.messages.count() == 1


@pytest.mark.parametrize("action", TICKET_ACTIONS)
def test_a_member_of_the_private_team_works_its_ticket(client, member, hidden_ticket, action):
    response = _request(_login(client, member), action, hidden_ticket)

    assert response.status_code in {200, 204, 302}


@pytest.mark.parametrize("role", [factories.LeadFactory, factories.AdminFactory])
def test_team_leads_and_admins_open_and_answer_it(client, role, hidden_ticket):
    client = _login(client, role())

    assert _request(client, "ticket", hidden_ticket).status_code == 200
    assert _request(client, "reply", hidden_ticket).status_code == 302


@pytest.mark.parametrize("action", TICKET_ACTIONS)
def test_a_ticket_of_a_team_that_is_not_private_is_worked_by_every_agent(
    agent_client, private_team, open_ticket, action
):
    assert _request(agent_client, action, open_ticket).status_code in {200, 204, 302}


def test_the_assigned_agent_opens_it_though_outside_the_team(agent_client, agent, hidden_ticket):
    hidden_ticket.assignee = agent
    hidden_ticket.save(update_fields=["assignee"])

    assert _request(agent_client, "ticket", hidden_ticket).status_code == 200


def test_presence_answers_a_missing_ticket_as_a_hidden_one(agent_client, hidden_ticket):
    assert agent_client.get(reverse("tickets:viewers", args=[999_999])).status_code == 404


class TestInbox:
    def test_lists_and_searches_only_what_the_agent_may_see(
        self, agent_client, lead, hidden_ticket, open_ticket
    ):
        lead_client = Client()
        lead_client.force_login(lead)

        everything = agent_client.get(INBOX, {"status": "any"})
        searched = agent_client.get(INBOX, {"status": "any", "q": "Chargeback"})
        searched_by_lead = lead_client.get(INBOX, {"status": "any", "q": "Chargeback"})

        assert [row.pk for row in everything.context["page"].rows] == [open_ticket.pk]
        assert searched.context["page"].rows == []
        assert [row.pk for row in searched_by_lead.context["page"].rows] == [hidden_ticket.pk]

    def test_a_saved_view_of_the_private_team_shows_an_outsider_nothing(
        self, agent_client, agent, private_team, hidden_ticket
    ):
        view = services.save_view(owner=agent, name="Escalations", query=f"team={private_team.pk}")

        response = agent_client.get(f"{INBOX}?{view.query}")

        assert response.status_code == 200
        assert response.context["page"].rows == []

    @pytest.mark.parametrize("role", ["member", "lead", "admin_user"])
    def test_members_leads_and_admins_see_it(
        self, client, request, role, hidden_ticket, open_ticket
    ):
        client = _login(client, request.getfixturevalue(role))

        rows = client.get(INBOX, {"status": "any"}).context["page"].rows

        assert {row.pk for row in rows} == {hidden_ticket.pk, open_ticket.pk}

    def test_the_query_count_is_the_same_with_and_without_private_teams(
        self, agent_client, agent, open_ticket, django_assert_max_num_queries
    ):
        team = factories.TeamFactory()
        factories.TicketFactory(team=team)
        without = count_queries(agent_client, INBOX)

        team.private = True
        team.save(update_fields=["private"])
        warm(agent_client, INBOX)
        with django_assert_max_num_queries(INBOX_MAX_QUERIES):
            response = agent_client.get(INBOX)

        assert [row.pk for row in response.context["page"].rows] == [open_ticket.pk]
        assert count_queries(agent_client, INBOX) == without

    def test_the_ticket_page_query_count_is_the_same_with_private_teams(
        self, agent_client, open_ticket
    ):
        url = reverse("tickets:ticket", args=[open_ticket.pk])
        without = count_queries(agent_client, url)

        factories.TeamFactory(private=True)

        assert count_queries(agent_client, url) == without


class TestBulkActions:
    def _close(self, client, *tickets):
        data = {"bulk-ticket": [t.pk for t in tickets], "bulk-action": "close"}
        return client.post(reverse("tickets:bulk"), data, follow=True)

    def test_hidden_tickets_are_left_alone_and_the_notice_says_so(
        self, agent_client, hidden_ticket, open_ticket
    ):
        response = self._close(agent_client, open_ticket, hidden_ticket)

        assert "Updated 1 ticket. 1 selected ticket was not found." in response.content.decode()
        hidden_ticket.refresh_from_db()
        open_ticket.refresh_from_db()
        assert hidden_ticket.status == Ticket.Status.NEW
        assert open_ticket.status == Ticket.Status.CLOSED

    def test_a_member_closes_both(self, client, member, hidden_ticket, open_ticket):
        response = self._close(_login(client, member), open_ticket, hidden_ticket)

        assert "Updated 2 tickets." in response.content.decode()
        assert "not found" not in response.content.decode()


class TestHandingATicketToAPrivateTeam:
    def _give(self, client, ticket, team, **headers):
        data = {"status": "open", "priority": "normal", "team": team.pk}
        return client.post(reverse("tickets:properties", args=[ticket.pk]), data, headers=headers)

    def test_returns_an_outsider_to_the_inbox_with_a_notice(
        self, agent_client, private_team, open_ticket
    ):
        response = self._give(agent_client, open_ticket, private_team, **HTMX)

        assert response.headers["HX-Redirect"] == INBOX
        open_ticket.refresh_from_db()
        assert open_ticket.team == private_team
        inbox = agent_client.get(INBOX).content.decode()
        assert f"You can no longer see ticket #{open_ticket.pk}: it belongs to a private" in inbox

    def test_without_htmx_it_redirects_to_the_inbox(self, agent_client, private_team, open_ticket):
        response = self._give(agent_client, open_ticket, private_team)

        assert response.status_code == 302 and response.url == INBOX

    def test_unassigning_yourself_from_a_hidden_teams_ticket_returns_you_too(
        self, agent_client, agent, private_team, hidden_ticket
    ):
        hidden_ticket.assignee = agent
        hidden_ticket.save(update_fields=["assignee"])
        data = {"status": "open", "priority": "normal", "team": private_team.pk, "assignee": ""}

        response = agent_client.post(reverse("tickets:properties", args=[hidden_ticket.pk]), data)

        assert response.status_code == 302 and response.url == INBOX
        hidden_ticket.refresh_from_db()
        assert hidden_ticket.assignee is None

    def test_a_member_stays_on_the_ticket(self, client, member, private_team, open_ticket):
        response = self._give(_login(client, member), open_ticket, private_team, **HTMX)

        assert response.status_code == 200 and "HX-Redirect" not in response.headers


class TestCustomerAndOrganisationPages:
    @pytest.fixture
    def organisation(self, customer):
        customer.organisation = factories.OrganisationFactory()
        customer.save(update_fields=["organisation"])
        return customer.organisation

    def test_the_customer_page_lists_and_counts_only_visible_tickets(
        self, agent_client, customer, hidden_ticket, open_ticket
    ):
        profile = agent_client.get(reverse("tickets:customer", args=[customer.pk])).context[
            "profile"
        ]

        assert [t.pk for t in profile.tickets] == [open_ticket.pk]
        assert profile.ticket_count == 1

    def test_a_member_sees_both_on_the_customer_page(
        self, client, member, customer, hidden_ticket, open_ticket
    ):
        response = _login(client, member).get(reverse("tickets:customer", args=[customer.pk]))

        assert response.context["profile"].ticket_count == 2

    def test_the_customer_list_counts_only_visible_tickets(
        self, agent_client, customer, hidden_ticket, open_ticket
    ):
        rows = agent_client.get(reverse("tickets:customers")).context["page"].rows

        assert [(row.pk, row.ticket_count) for row in rows] == [(customer.pk, 1)]

    def test_the_organisation_page_lists_and_counts_only_visible_tickets(
        self, agent_client, organisation, hidden_ticket, open_ticket
    ):
        page = agent_client.get(reverse("tickets:organisation", args=[organisation.pk])).context[
            "org"
        ]

        assert [t.pk for t in page.tickets] == [open_ticket.pk]
        assert [c.ticket_count for c in page.customers.rows] == [1]

    def test_the_ticket_pages_past_tickets_leave_out_hidden_ones(
        self, agent_client, hidden_ticket, open_ticket
    ):
        response = agent_client.get(reverse("tickets:ticket", args=[open_ticket.pk]))

        assert response.context["detail"].recent_tickets == []


class TestTeamAdmin:
    def test_an_admin_makes_a_team_private(self, client, open_ticket):
        admin_client = _login(client, factories.AdminFactory(is_staff=True, is_superuser=True))
        team = open_ticket.team
        url = reverse("admin:tickets_team_change", args=[team.pk])

        page = admin_client.get(url)
        response = admin_client.post(
            url, {"name": team.name, "slug": team.slug, "lead": "", "private": "on"}
        )

        assert "Only members of this team, team leads and admins see its tickets." in (
            page.content.decode()
        )
        assert response.status_code == 302
        team.refresh_from_db()
        assert team.private
