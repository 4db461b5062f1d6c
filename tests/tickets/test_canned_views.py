"""Canned reply pages and the reply box on the ticket page."""

import pytest
from django.urls import reverse

from tests import factories
from tests.tickets.views_support import only_test_extensions, segment_badges, warm
from tickets import extensions
from tickets.models import Article, CannedReply

__all__ = ["only_test_extensions"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_test_extensions")]

LIST = reverse("tickets:canned_replies")
NEW = reverse("tickets:canned_new")


def _shared(**fields):
    fields.setdefault("title", "Welcome")
    fields.setdefault("body", "Hi {{ customer.first_name }}")
    return CannedReply.objects.create(**fields)


def test_a_lead_creates_a_shared_reply(lead_client, lead):
    response = lead_client.post(
        NEW,
        {
            "title": "Refund",
            "body": "Hi",
            "folder": "Billing",
            "segments": "value/big",
            "shared": "on",
        },
    )

    assert response.status_code == 302
    reply = CannedReply.objects.get()
    assert (reply.owner, reply.folder, reply.segment_slugs) == (None, "Billing", ["value/big"])


def test_an_agent_creates_only_personal_replies(agent_client, agent):
    response = agent_client.post(NEW, {"title": "Mine", "body": "Hi", "shared": "on"})

    assert response.status_code == 302
    assert CannedReply.objects.get().owner == agent


def test_an_unknown_placeholder_is_a_form_error(agent_client):
    response = agent_client.post(NEW, {"title": "Bad", "body": "Hi {{ customer.age }}"})

    assert response.status_code == 400
    assert "Unknown placeholder {{ customer.age }}" in response.content.decode()
    assert 'data-testid="error-body"' in response.content.decode()
    assert not CannedReply.objects.exists()


def test_agents_cannot_edit_or_delete_shared_replies(agent_client):
    reply = _shared()

    edit = agent_client.post(
        reverse("tickets:canned_edit", args=[reply.pk]), {"title": "x", "body": "y"}
    )
    delete = agent_client.post(reverse("tickets:canned_delete", args=[reply.pk]))

    assert (edit.status_code, delete.status_code) == (403, 403)
    reply.refresh_from_db()
    assert reply.title == "Welcome"


def test_nobody_sees_someone_elses_personal_reply(lead_client, agent):
    theirs = _shared(owner=agent)

    response = lead_client.get(reverse("tickets:canned_edit", args=[theirs.pk]))

    assert response.status_code == 404
    assert "Welcome" not in lead_client.get(LIST).content.decode()


def test_a_lead_edits_and_deletes_a_shared_reply(lead_client):
    reply = _shared()
    url = reverse("tickets:canned_edit", args=[reply.pk])

    assert lead_client.get(url).status_code == 200
    lead_client.post(url, {"title": "Welcome back", "body": "Hello again", "shared": "on"})
    reply.refresh_from_db()
    assert (reply.title, reply.owner) == ("Welcome back", None)

    lead_client.post(reverse("tickets:canned_delete", args=[reply.pk]))
    assert not CannedReply.objects.exists()


def test_the_list_page_has_a_constant_query_count(
    agent_client, agent, django_assert_max_num_queries
):
    for n in range(20):
        _shared(title=f"Reply {n}", folder=f"F{n % 3}", owner=agent if n % 2 else None)
    with django_assert_max_num_queries(6):
        response = agent_client.get(LIST)
    assert response.content.decode().count('data-testid="canned-row"') == 20


class TestReplyBox:
    @pytest.fixture
    def ticket(self):
        customer = factories.CustomerFactory(name="Ann Smith")
        ticket = factories.TicketFactory(customer=customer, subject="Printer jammed again")
        factories.MessageFactory(ticket=ticket)
        return ticket

    def test_the_ticket_page_loads_the_suggestions_lazily(self, agent_client, ticket):
        html = agent_client.get(reverse("tickets:ticket", args=[ticket.pk])).content.decode()

        assert 'data-testid="reply-suggestions"' in html
        assert reverse("tickets:reply_suggestions", args=[ticket.pk]) in html

    def test_suggestions_list_segment_replies_and_matching_articles(self, agent_client, ticket):
        extensions.register_badge_provider(segment_badges)
        _shared(title="For big spenders", segment_slugs=["value/big"])
        _shared(title="For others", segment_slugs=["value/small"])
        Article.objects.create(
            title="Printer jams", slug="printer", body="Open the tray.", published=True
        )
        Article.objects.create(title="Draft printer", slug="draft", body="x", published=False)

        response = agent_client.get(reverse("tickets:reply_suggestions", args=[ticket.pk]))

        html = response.content.decode()
        assert html.index("For big spenders") < html.index("For others")
        assert "Printer jams" in html and "Draft printer" not in html

    def test_search_finds_replies_and_articles(self, agent_client, ticket):
        _shared(title="Refund policy", body="Refunds take 5 days")
        _shared(title="Shipping")
        Article.objects.create(title="Refunds", slug="refunds", body="How", published=True)

        response = agent_client.get(
            reverse("tickets:reply_suggestions", args=[ticket.pk]), {"q": "refund"}
        )

        html = response.content.decode()
        assert "Refund policy" in html and "Shipping" not in html
        assert html.count('data-testid="suggested-article"') == 1

    def test_picking_a_reply_appends_the_rendered_text_and_counts_the_use(
        self, agent_client, ticket
    ):
        reply = _shared(body="Hi {{ customer.first_name }}, about #{{ ticket.number }}")

        response = agent_client.post(
            reverse("tickets:insert_canned_reply", args=[ticket.pk, reply.pk]),
            {"body_text": "Already typed"},
            HTTP_HX_REQUEST="true",
        )

        html = response.content.decode()
        assert 'id="reply-body"' in html
        assert f"Already typed\n\nHi Ann, about #{ticket.pk}</textarea>" in html
        reply.refresh_from_db()
        assert reply.usage_count == 1

    def test_inserted_text_is_escaped_in_the_textarea(self, agent_client, ticket):
        ticket.customer.name = "</textarea><script>x</script>"
        ticket.customer.save(update_fields=["name"])
        reply = _shared(body="{{ customer.name }}")

        response = agent_client.post(
            reverse("tickets:insert_canned_reply", args=[ticket.pk, reply.pk])
        )

        assert "<script>" not in response.content.decode()

    def test_an_article_link_is_appended(self, agent_client, ticket):
        article = Article.objects.create(title="Jams", slug="jams", body="x", published=True)

        response = agent_client.post(
            reverse("tickets:insert_article_link", args=[ticket.pk, article.pk]), {"body_text": ""}
        )

        assert "Jams: http://testserver/help/jams/</textarea>" in response.content.decode()

    def test_an_unpublished_article_or_someone_elses_reply_cannot_be_inserted(
        self, agent_client, ticket, lead
    ):
        draft = Article.objects.create(title="Draft", slug="draft", body="x")
        private = _shared(owner=lead)

        assert (
            agent_client.post(
                reverse("tickets:insert_article_link", args=[ticket.pk, draft.pk])
            ).status_code
            == 404
        )
        assert (
            agent_client.post(
                reverse("tickets:insert_canned_reply", args=[ticket.pk, private.pk])
            ).status_code
            == 404
        )

    def test_the_suggestions_have_a_constant_query_count(
        self, agent_client, ticket, django_assert_max_num_queries
    ):
        extensions.register_badge_provider(segment_badges)
        for n in range(15):
            _shared(title=f"Printer {n}", segment_slugs=["value/big"] if n % 2 else [])
            Article.objects.create(
                title=f"Printer {n}", slug=f"printer-{n}", body="jammed", published=True
            )
        url = reverse("tickets:reply_suggestions", args=[ticket.pk])
        warm(agent_client, url)
        with django_assert_max_num_queries(7):
            response = agent_client.get(url)
        with django_assert_max_num_queries(7):
            agent_client.get(url, {"q": "printer"})
        html = response.content.decode()
        assert html.count('data-testid="suggested-reply"') == 8
        assert html.count('data-testid="suggested-article"') == 8
