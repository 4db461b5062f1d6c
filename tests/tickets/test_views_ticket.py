import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from tests import factories
from tests.tickets.views_support import (
    count_queries,
    only_test_extensions,
    segment_badges,
    warm,
)
from tickets import extensions, services
from tickets.extensions import Panel
from tickets.models import Message, Ticket
from tickets.presence import Viewer

__all__ = ["only_test_extensions"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_test_extensions")]

TICKET_MAX_QUERIES = 11
HTMX = {"HX-Request": "true"}


def _url(name, ticket):
    return reverse(f"tickets:{name}", args=[ticket.pk])


@pytest.mark.parametrize(
    "name", ["ticket", "properties", "reply", "note", "viewers", "stop_viewing"]
)
def test_anonymous_is_sent_to_login(client, ticket, name):
    response = client.post(_url(name, ticket))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_missing_ticket_is_a_404(agent_client):
    assert agent_client.get(reverse("tickets:ticket", args=[999_999])).status_code == 404
    assert agent_client.post(reverse("tickets:reply", args=[999_999])).status_code == 404


def test_thread_renders_sanitised_html_and_escapes_plain_text(agent_client, ticket, agent):
    factories.MessageFactory(ticket=ticket, body_text="", body_html="<p><b>bold</b> reply</p>")
    factories.MessageFactory(ticket=ticket, body_text="<script>alert(1)</script>")
    factories.MessageFactory(
        ticket=ticket, kind=Message.Kind.NOTE, author=agent, body_text="Only for us"
    )

    html = agent_client.get(_url("ticket", ticket)).content.decode()

    assert "<p><b>bold</b> reply</p>" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'class="msg msg-note"' in html and "Internal note" in html


def test_outbound_messages_show_their_delivery_state(agent_client, ticket, agent):
    factories.MessageFactory(
        ticket=ticket,
        kind=Message.Kind.OUTBOUND,
        author=agent,
        delivery_status=Message.Delivery.FAILED,
        delivery_error="550 mailbox unavailable",
    )

    html = agent_client.get(_url("ticket", ticket)).content.decode()

    assert "Not delivered" in html and "550 mailbox unavailable" in html


def test_sidebar_includes_badges_and_panels_from_other_apps(agent_client, ticket):
    extensions.register_badge_provider(segment_badges)
    extensions.register_ticket_panel(
        lambda t, user: Panel(
            title="Suggested replies",
            template="tickets/partials/viewers.html",
            context={"viewers": [Viewer(user_id=1, name=f"panel for #{t.pk}")]},
        )
    )
    extensions.register_customer_panel(lambda customer, user: None)

    html = agent_client.get(_url("ticket", ticket)).content.decode()

    assert "Big spender" in html
    assert "Suggested replies" in html and f"panel for #{ticket.pk}" in html


class TestReplyAndNote:
    def test_reply_is_saved_emailed_and_can_set_the_status(
        self, agent_client, ticket, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = agent_client.post(
                _url("reply", ticket), {"body_text": "Fixed it for you.", "status": "pending"}
            )

        assert response.status_code == 302 and response.url == _url("ticket", ticket)
        reply = ticket.messages.get(kind=Message.Kind.OUTBOUND)
        assert reply.body_text == "Fixed it for you."
        assert reply.delivery_status == Message.Delivery.SENT
        assert [m.to for m in mail.outbox] == [[ticket.customer.email]]
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.PENDING

    def test_an_empty_reply_is_a_400_with_the_error_and_nothing_sent(self, agent_client, ticket):
        response = agent_client.post(_url("reply", ticket), {"body_text": "   "})

        assert response.status_code == 400
        assert 'data-testid="reply-error"' in response.content.decode()
        assert not ticket.messages.filter(kind=Message.Kind.OUTBOUND).exists()

    def test_a_bad_status_after_reply_is_refused(self, agent_client, ticket):
        response = agent_client.post(_url("reply", ticket), {"body_text": "x", "status": "gone"})

        assert response.status_code == 400

    def test_internal_note_is_saved_and_not_emailed(self, agent_client, ticket, agent):
        response = agent_client.post(_url("note", ticket), {"body_text": "Call them back"})

        note = ticket.messages.get(kind=Message.Kind.NOTE)
        assert response.status_code == 302
        assert (note.author, note.body_text) == (agent, "Call them back")
        assert mail.outbox == []

    def test_an_empty_note_keeps_the_note_composer_open(self, agent_client, ticket):
        response = agent_client.post(_url("note", ticket), {"body_text": ""})

        assert response.status_code == 400
        assert response.context["composer"] == "note"


class TestPropertiesInPlace:
    def _post(self, client, ticket, **changes):
        data = {"status": ticket.status, "priority": ticket.priority, "tags": ""}
        data.update(changes)
        return client.post(_url("properties", ticket), data, headers=HTMX)

    def test_change_status_priority_assignee_team_and_tags(self, agent_client, ticket, agent):
        team = factories.TeamFactory(name="Billing")

        response = self._post(
            agent_client,
            ticket,
            status="pending",
            priority="high",
            assignee=agent.pk,
            team=team.pk,
            tags="Refund, vip",
        )

        ticket.refresh_from_db()
        assert response.status_code == 200
        assert (ticket.status, ticket.priority, ticket.assignee, ticket.team) == (
            "pending",
            "high",
            agent,
            team,
        )
        assert [t.name for t in ticket.tags.all()] == ["refund", "vip"]
        html = response.content.decode()
        assert 'id="ticket-timeline"' in html and 'hx-swap-oob="true"' in html
        assert "new → pending" in html and "Pending" in html

    def test_unassign_and_clear_team(self, agent_client, agent):
        ticket = factories.TicketFactory(assignee=agent, team=factories.TeamFactory())

        self._post(agent_client, ticket, assignee="", team="")

        ticket.refresh_from_db()
        assert ticket.assignee is None and ticket.team is None

    @pytest.mark.parametrize(
        "changes",
        [{"status": "melted"}, {"priority": ""}, {"assignee": "99999"}, {"tags": "x" * 51}],
    )
    def test_bad_values_are_a_400_and_change_nothing(self, agent_client, ticket, changes):
        before = (ticket.status, ticket.priority, ticket.assignee_id)

        response = self._post(agent_client, ticket, **changes)

        ticket.refresh_from_db()
        assert response.status_code == 400
        assert 'data-testid="properties-error"' in response.content.decode()
        assert (ticket.status, ticket.priority, ticket.assignee_id) == before

    def test_without_htmx_it_redirects_back_to_the_ticket(self, agent_client, ticket):
        response = agent_client.post(
            _url("properties", ticket), {"status": "solved", "priority": "normal"}
        )

        assert response.status_code == 302
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.SOLVED


class TestPresence:
    def setup_method(self):
        cache.clear()

    def test_agents_see_who_else_is_viewing(self, client, ticket):
        ann = factories.AgentFactory(first_name="Ann", last_name="Ash")
        bob = factories.AgentFactory(first_name="Bob", last_name="Birch")
        client.force_login(ann)
        client.get(_url("viewers", ticket), headers=HTMX)
        client.force_login(bob)

        seen_by_bob = client.get(_url("viewers", ticket), headers=HTMX).content.decode()
        client.force_login(ann)
        client.post(_url("stop_viewing", ticket))
        client.force_login(bob)
        after_ann_left = client.get(_url("viewers", ticket), headers=HTMX).content.decode()

        assert "Ann Ash" in seen_by_bob and "Bob Birch" not in seen_by_bob
        assert "Ann Ash" not in after_ann_left

    def test_the_page_polls_the_presence_indicator(self, agent_client, ticket):
        html = agent_client.get(_url("ticket", ticket)).content.decode()

        assert f'hx-get="{_url("viewers", ticket)}"' in html and "every 10s" in html


def _busy_ticket(agent, *, messages, extra_tickets):
    customer = factories.CustomerFactory()
    customer.tags.set([factories.TagFactory(name="vip"), factories.TagFactory(name="b2b")])
    ticket = services.create_ticket(customer=customer, subject="Busy", body_text="Hello")
    for i in range(messages):
        kind = [Message.Kind.INBOUND, Message.Kind.OUTBOUND, Message.Kind.NOTE][i % 3]
        factories.MessageFactory(ticket=ticket, kind=kind, author=agent)
        services.update_ticket(ticket=ticket, actor=agent, tags=[f"t{i}"])
    for _ in range(extra_tickets):
        factories.TicketFactory(customer=customer, assignee=agent)
        factories.PurchaseFactory(customer=customer)
    return ticket


def test_ticket_page_query_count_does_not_grow_with_the_thread(
    agent_client, agent, django_assert_max_num_queries
):
    # given
    extensions.register_badge_provider(segment_badges)
    small = _busy_ticket(agent, messages=1, extra_tickets=1)
    big = _busy_ticket(agent, messages=30, extra_tickets=15)

    # when
    few = count_queries(agent_client, _url("ticket", small))
    warm(agent_client, _url("ticket", big))
    with django_assert_max_num_queries(TICKET_MAX_QUERIES):
        response = agent_client.get(_url("ticket", big))

    # then
    assert len(response.context["detail"].thread) == 31
    assert count_queries(agent_client, _url("ticket", big)) == few
