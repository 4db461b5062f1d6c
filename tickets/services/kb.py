"""Knowledge base: articles in Markdown, shown to customers once published, suggested to agents.

Markdown may contain raw HTML, so its output goes through the same sanitiser as inbound email.
"""

import re
from collections.abc import Iterable

import markdown
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, Q, QuerySet, Value, When
from django.utils.text import slugify

from helpdesk.audit import record_change
from helpdesk.models import User
from tickets.mime import sanitise_html
from tickets.models import Article, Ticket
from tickets.services.canned import clean_segment_slugs, segment_relevance

# Words too common to say what a ticket is about.
STOP_WORDS = frozenset(
    {
        "about",
        "after",
        "again",
        "also",
        "from",
        "have",
        "hello",
        "help",
        "here",
        "please",
        "problem",
        "question",
        "regards",
        "since",
        "thanks",
        "that",
        "their",
        "there",
        "this",
        "want",
        "what",
        "when",
        "where",
        "which",
        "with",
        "would",
        "your",
    }
)
MAX_TICKET_WORDS = 8
_WORD = re.compile(r"[^\W\d_]{4,}")


def render_markdown(body: str) -> str:
    """Safe HTML for a Markdown body."""
    return sanitise_html(markdown.markdown(body, extensions=["extra", "sane_lists"]))


@transaction.atomic
def save_article(
    *,
    article: Article | None,
    title: str,
    slug: str,
    body: str,
    category: str,
    published: bool,
    segment_slugs: Iterable[str],
    actor: User,
) -> Article:
    """Create (``article=None``) or update; an empty slug is made from the title."""
    article = article or Article(author=actor)
    article.title = title.strip()
    article.slug = slugify(slug or title)[:200]
    if not article.slug:
        raise ValidationError({"slug": "The title needs letters or digits to make a web address."})
    article.body = body
    article.category = category.strip()
    article.published = published
    article.segment_slugs = clean_segment_slugs(segment_slugs)
    article.full_clean()
    article.save()
    record_change(
        target=article,
        action="article_saved",
        actor=actor,
        changes={"title": article.title, "published": published},
    )
    return article


@transaction.atomic
def delete_article(*, article: Article, actor: User) -> None:
    record_change(
        target=article, action="article_deleted", actor=actor, changes={"title": article.title}
    )
    article.delete()


def search_articles(articles: QuerySet, text: str) -> QuerySet:
    """Full-text search ranked by relevance on PostgreSQL, a LIKE search elsewhere."""
    text = text.strip()
    if not text:
        return articles
    if connection.vendor == "postgresql":
        vector = SearchVector("title", weight="A", config="english") + SearchVector(
            "body", weight="B", config="english"
        )
        query = SearchQuery(text, config="english", search_type="websearch")
        return (
            articles.annotate(rank=SearchRank(vector, query))
            .filter(rank__gt=0)
            .order_by("-rank", "title")
        )
    return articles.filter(Q(title__icontains=text) | Q(body__icontains=text))


def ticket_words(ticket: Ticket) -> list[str]:
    """The distinctive words of the ticket's subject, in order, for finding articles."""
    words = [word.lower() for word in _WORD.findall(ticket.subject)]
    distinct = dict.fromkeys(word for word in words if word not in STOP_WORDS)
    return list(distinct)[:MAX_TICKET_WORDS]


def _word_score(words: list[str]):
    """How many of the words an article contains, as one SQL expression."""
    if not words:
        return Value(0)
    if connection.vendor == "postgresql":
        vector = SearchVector("title", "body", config="english")
        query = SearchQuery(" | ".join(words), config="english", search_type="raw")
        return SearchRank(vector, query)
    score = Value(0)
    for word in words:
        matches = Q(title__icontains=word) | Q(body__icontains=word)
        score = score + Case(When(matches, then=Value(1)), default=Value(0))
    return score


def suggested_articles(*, ticket: Ticket, segment_slugs: list[str], limit: int = 5) -> list:
    """Published articles for the customer's segments and the ticket's words, best first.

    One query; articles scoped to other segments and with no word in common are left out.
    """
    words = ticket_words(ticket)
    articles = Article.objects.filter(published=True).annotate(
        segment_rank=segment_relevance(segment_slugs),
        word_score=_word_score(words),
    )
    relevant = Q(word_score__gt=0) | Q(segment_rank=2)
    return list(
        articles.filter(relevant)
        .defer("body")
        .order_by("-segment_rank", "-word_score", "title")[:limit]
    )
