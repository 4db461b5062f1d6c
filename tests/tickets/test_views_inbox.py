import pytest
from django.urls import reverse

from tests import factories
from tests.tickets.views_support import (
    count_queries,
    only_test_extensions,
    register_vip_segment_filter,
    segment_badges,
    warm,
)
from tickets import extensions
from tickets.models import SavedView, Ticket

__all__ = ["only_test_extensions"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_test_extensions")]

INBOX = reverse("tickets:inbox")
# Session, user, tickets, their tags, badges, saved views: roles, teams, agents, tags and the
# private teams come from the process's snapshots once warm.
INBOX_MAX_QUERIES = 6


def _rows(response) -> list[int]:
    return [ticket.pk for ticket in response.context["page"].rows]


@pytest.mark.parametrize(
    "url",
    [
        reverse("tickets:inbox"),
        reverse("tickets:bulk"),
        reverse("tickets:save_view"),
        reverse("tickets:delete_view", args=[1]),
    ],
)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_user_without_a_role_is_refused(client):
    client.force_login(factories.UserFactory())

    assert client.get(INBOX).status_code == 403


def test_inbox_lists_active_tickets_with_stable_test_ids(agent_client):
    ticket = factories.TicketFactory(subject="Printer on fire")
    factories.TicketFactory(status=Ticket.Status.CLOSED, subject="Old news")

    response = agent_client.get(INBOX)

    assert response.status_code == 200
    assert _rows(response) == [ticket.pk]
    html = response.content.decode()
    assert 'data-testid="inbox-row"' in html and "Printer on fire" in html
    assert "Old news" not in html


def test_filters_from_the_query_string(agent_client, agent):
    mine = factories.TicketFactory(assignee=agent, priority=Ticket.Priority.URGENT)
    factories.TicketFactory(priority=Ticket.Priority.URGENT)

    response = agent_client.get(INBOX, {"assignee": "mine", "priority": "urgent"})

    assert _rows(response) == [mine.pk]


@pytest.mark.parametrize(
    "params",
    [{"status": "exploded"}, {"page": "0"}, {"page": "abc"}, {"team": "x"}, {"sort": "random"}],
)
def test_bad_filters_give_400_with_the_error_shown(agent_client, params):
    response = agent_client.get(INBOX, params)

    assert response.status_code == 400
    assert 'data-testid="filter-errors"' in response.content.decode()


def test_htmx_filter_request_gets_only_the_results(agent_client):
    factories.TicketFactory(subject="Partial please")

    response = agent_client.get(
        INBOX, {"q": "partial"}, headers={"HX-Request": "true", "HX-Target": "inbox-results"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="inbox-results"')
    assert "<html" not in html


def test_next_page_link_appears_only_when_there_is_more(agent_client):
    for _ in range(51):
        factories.TicketFactory()

    first = agent_client.get(INBOX).content.decode()
    second = agent_client.get(INBOX, {"page": 2})

    assert 'data-testid="page-next"' in first
    assert len(_rows(second)) == 1
    assert 'data-testid="page-next"' not in second.content.decode()


def test_contributed_customer_filter_is_rendered_and_applied(agent_client):
    vip = factories.CustomerFactory()
    wanted = factories.TicketFactory(customer=vip)
    factories.TicketFactory()
    register_vip_segment_filter(vip)

    page = agent_client.get(INBOX).content.decode()
    response = agent_client.get(INBOX, {"segment": "vip"})

    assert 'data-testid="filter-segment"' in page and "Any segment" in page
    assert _rows(response) == [wanted.pk]
    assert agent_client.get(INBOX, {"segment": "nope"}).status_code == 400


def _inbox_data(agent, count):
    team = factories.TeamFactory()
    tags = [factories.TagFactory(name=f"t{i}") for i in range(3)]
    for i in range(count):
        ticket = factories.TicketFactory(
            assignee=agent if i % 2 else factories.AgentFactory(), team=team
        )
        ticket.tags.set(tags[: i % 3 + 1])
        factories.MessageFactory(ticket=ticket)


def test_inbox_query_count_does_not_grow_with_rows(
    agent_client, agent, django_assert_max_num_queries
):
    # given: badges that cost a query, and a saved view
    extensions.register_badge_provider(segment_badges)
    SavedView.objects.create(owner=agent, name="Mine", query="assignee=mine")
    _inbox_data(agent, 5)
    few = count_queries(agent_client, INBOX)

    # when
    _inbox_data(agent, 55)
    warm(agent_client, INBOX)
    with django_assert_max_num_queries(INBOX_MAX_QUERIES):
        response = agent_client.get(INBOX, {"status": "any"})

    # then
    assert len(response.context["page"].rows) == 50
    assert count_queries(agent_client, INBOX) == few


class TestBulkActions:
    def _post(self, client, **data):
        return client.post(reverse("tickets:bulk"), data)

    def test_assign_to_an_agent(self, agent_client, agent):
        first, second, untouched = factories.TicketFactory.create_batch(3)

        response = self._post(
            agent_client,
            **{"bulk-ticket": [first.pk, second.pk], "bulk-action": "assign"},
            **{"bulk-assignee": agent.pk},
        )

        assert response.status_code == 302
        assert set(Ticket.objects.filter(assignee=agent)) == {first, second}
        untouched.refresh_from_db()
        assert untouched.assignee is None

    def test_add_a_tag_and_close_with_htmx(self, agent_client):
        ticket = factories.TicketFactory()
        headers = {"HX-Request": "true", "HX-Target": "inbox-results"}

        tagged = agent_client.post(
            reverse("tickets:bulk"),
            {"bulk-ticket": [ticket.pk], "bulk-action": "tag", "bulk-tag": "Refund"},
            headers=headers,
        )
        closed = agent_client.post(
            reverse("tickets:bulk"),
            {"bulk-ticket": [ticket.pk], "bulk-action": "close"},
            headers=headers,
        )

        ticket.refresh_from_db()
        assert [t.name for t in ticket.tags.all()] == ["refund"]
        assert ticket.status == Ticket.Status.CLOSED
        assert tagged.status_code == closed.status_code == 200
        assert "Updated 1 ticket." in closed.content.decode()

    @pytest.mark.parametrize(
        "data",
        [
            {"bulk-action": "close"},
            {"bulk-ticket": ["abc"], "bulk-action": "close"},
            {"bulk-ticket": ["1"], "bulk-action": "explode"},
            {"bulk-ticket": ["1"], "bulk-action": "tag", "bulk-tag": " "},
            {"bulk-ticket": ["1"], "bulk-action": "assign", "bulk-assignee": "999999"},
        ],
    )
    def test_bad_input_is_a_400_with_the_errors(self, agent_client, data):
        response = self._post(agent_client, **data)

        assert response.status_code == 400
        assert 'data-testid="bulk-errors"' in response.content.decode()


class TestSavedViews:
    def test_save_the_current_filters_under_a_name(self, agent_client, agent):
        response = agent_client.post(
            reverse("tickets:save_view"),
            {"name": "Urgent mine", "assignee": "mine", "priority": "urgent", "page": "3"},
            headers={"HX-Request": "true"},
        )

        view = SavedView.objects.get(owner=agent)
        assert response.status_code == 200
        assert view.name == "Urgent mine"
        assert view.query == "assignee=mine&priority=urgent"
        assert "Urgent mine" in response.content.decode()

    def test_saving_an_existing_name_replaces_its_filter(self, agent_client, agent):
        SavedView.objects.create(owner=agent, name="Mine", query="assignee=mine")

        agent_client.post(reverse("tickets:save_view"), {"name": "Mine", "status": "pending"})

        assert list(SavedView.objects.values_list("name", "query")) == [("Mine", "status=pending")]

    def test_a_nameless_view_or_bad_filters_are_refused(self, agent_client):
        url = reverse("tickets:save_view")

        assert agent_client.post(url, {"name": ""}).status_code == 400
        assert agent_client.post(url, {"name": "x", "status": "bogus"}).status_code == 400
        assert not SavedView.objects.exists()

    def test_agents_see_and_delete_only_their_own_views(self, agent_client, agent):
        own = SavedView.objects.create(owner=agent, name="Own", query="status=new")
        other = SavedView.objects.create(
            owner=factories.AgentFactory(), name="Theirs", query="status=open"
        )

        page = agent_client.get(INBOX).content.decode()
        agent_client.post(reverse("tickets:delete_view", args=[other.pk]))
        agent_client.post(reverse("tickets:delete_view", args=[own.pk]))

        assert "Own" in page and "Theirs" not in page
        assert list(SavedView.objects.all()) == [other]
