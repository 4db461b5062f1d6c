"""Knowledge base: safe Markdown, suggestions, the editor and the public help centre."""

import pytest
from django.urls import reverse

from tests import factories
from tests.tickets.views_support import only_test_extensions
from tickets.models import Article
from tickets.services.kb import render_markdown, save_article, suggested_articles, ticket_words

__all__ = ["only_test_extensions"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_test_extensions")]


def _article(title, body="text", *, published=True, segments=(), slug="", category=""):
    return Article.objects.create(
        title=title,
        category=category,
        slug=slug or title.lower().replace(" ", "-"),
        body=body,
        published=published,
        segment_slugs=list(segments),
    )


def test_markdown_is_rendered_and_sanitised():
    html = render_markdown(
        "# Reset\n\n**Hold** the button. <script>alert(1)</script>"
        "[x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    assert "<h1>Reset</h1>" in html and "<strong>Hold</strong>" in html
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html


def test_save_article_makes_a_slug_and_refuses_bad_segments(lead):
    article = save_article(
        article=None,
        title="Reset your password",
        slug="",
        body="Steps",
        category="Account",
        published=True,
        segment_slugs=["plan/pro"],
        actor=lead,
    )
    assert article.slug == "reset-your-password"
    with pytest.raises(Exception, match="segmentation/segment"):
        save_article(
            article=None,
            title="x",
            slug="x",
            body="x",
            category="",
            published=False,
            segment_slugs=["pro"],
            actor=lead,
        )


def test_ticket_words_skip_short_and_common_words():
    ticket = factories.TicketFactory.build(subject="Hello, my printer jammed again, please help!")
    assert ticket_words(ticket) == ["printer", "jammed"]


def test_suggestions_rank_segment_articles_then_word_matches_and_skip_the_rest():
    # given
    ticket = factories.TicketFactory(subject="Printer jammed")
    segment = _article("Onboarding for pros", segments=["plan/pro"])
    both_words = _article("Printer jammed", "Open the printer tray")
    one_word = _article("Printer drivers")
    _article("Shipping times")
    _article("Printer jammed draft", published=False)
    _article("Printer for others", segments=["plan/free"])

    # when
    found = suggested_articles(ticket=ticket, segment_slugs=["plan/pro"])

    # then
    assert found[0] == segment
    assert found[1:3] == [both_words, one_word]
    titles = [a.title for a in found]
    assert "Shipping times" not in titles and "Printer jammed draft" not in titles
    assert "Printer for others" in titles  # a word match, ranked after unscoped matches
    assert titles.index("Printer for others") > titles.index("Printer drivers")


def test_suggestions_cost_one_query(django_assert_num_queries):
    ticket = factories.TicketFactory(subject="Printer jammed refund")
    for n in range(10):
        _article(f"Printer {n}")
    with django_assert_num_queries(1):
        suggested_articles(ticket=ticket, segment_slugs=["a/b", "c/d"])


class TestEditor:
    def test_agents_cannot_open_or_edit_the_knowledge_base(self, agent_client):
        article = _article("Secret draft", published=False)
        for url in (
            reverse("tickets:articles"),
            reverse("tickets:article_new"),
            reverse("tickets:article_edit", args=[article.pk]),
        ):
            assert agent_client.get(url).status_code == 403
        assert (
            agent_client.post(reverse("tickets:article_delete", args=[article.pk])).status_code
            == 403
        )
        assert Article.objects.filter(pk=article.pk).exists()

    def test_a_lead_creates_edits_and_deletes_an_article(self, lead_client):
        response = lead_client.post(
            reverse("tickets:article_new"),
            {"title": "Reset", "body": "# Steps", "category": "Account", "published": "on"},
        )
        assert response.status_code == 302
        article = Article.objects.get()
        assert (article.slug, article.published) == ("reset", True)

        lead_client.post(
            reverse("tickets:article_edit", args=[article.pk]),
            {"title": "Reset", "slug": "reset", "body": "new", "segments": "plan/pro"},
        )
        article.refresh_from_db()
        assert (article.body, article.published, article.segment_slugs) == (
            "new",
            False,
            ["plan/pro"],
        )

        lead_client.post(reverse("tickets:article_delete", args=[article.pk]))
        assert not Article.objects.exists()

    def test_a_duplicate_slug_is_a_form_error(self, lead_client):
        _article("Reset", slug="reset")
        response = lead_client.post(
            reverse("tickets:article_new"), {"title": "Reset", "slug": "reset", "body": "x"}
        )
        assert response.status_code == 400
        assert 'data-testid="error-slug"' in response.content.decode()

    def test_the_list_has_a_constant_query_count(self, lead_client, django_assert_max_num_queries):
        for n in range(20):
            _article(f"Article {n}", segments=["plan/pro"])
        with django_assert_max_num_queries(5):
            response = lead_client.get(reverse("tickets:articles"))
        assert response.content.decode().count('data-testid="article-row"') == 20


class TestHelpCentre:
    def test_customers_see_published_articles_by_category_without_login(self, client):
        _article("Reset password", category="Account")
        _article("Draft", published=False)

        html = client.get(reverse("tickets:help_centre")).content.decode()

        assert "Reset password" in html and "Account" in html and "Draft" not in html

    def test_search_finds_published_articles(self, client):
        _article("Reset password", "Click forgot")
        _article("Shipping", "Couriers")
        _article("Forgot draft", published=False)

        html = client.get(reverse("tickets:help_centre"), {"q": "forgot"}).content.decode()

        assert "Reset password" in html and "Shipping" not in html and "Forgot draft" not in html

    def test_an_article_page_renders_safe_html_and_drafts_are_404(self, client):
        _article("Reset", "**Bold** <script>x()</script>", slug="reset")
        _article("Draft", slug="draft", published=False)

        page = client.get(reverse("tickets:help_article", args=["reset"]))

        assert page.status_code == 200
        assert "<strong>Bold</strong>" in page.content.decode()
        assert "<script>x()" not in page.content.decode()
        assert client.get(reverse("tickets:help_article", args=["draft"])).status_code == 404

    def test_the_index_has_a_constant_query_count(self, client, django_assert_max_num_queries):
        for n in range(30):
            _article(f"Article {n}")
        with django_assert_max_num_queries(2):
            client.get(reverse("tickets:help_centre"))
