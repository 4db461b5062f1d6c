"""Hostile text in every free-text field that a page shows back is escaped or sanitised: no page
ever carries a script, an event handler or an injected image from stored data."""

from datetime import date
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from segments.models import Membership, Segment, Segmentation, SegmentRun
from tests import factories
from tickets.models import Article, CannedReply, SavedView

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(1)>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"


class _ActiveContent(HTMLParser):
    """Collects what a browser would run or fetch: scripts, on* attributes, images."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}={value}>")
        if tag == "img" and dict(attrs).get("src") == "x":
            self.found.append("<img src=x>")

    def handle_data(self, data):
        if self._in_script and "alert(1)" in data:
            self.found.append(f"<script>{data}</script>")

    def handle_endtag(self, tag):
        self._in_script = False


def active_content(html: str) -> list[str]:
    parser = _ActiveContent()
    parser.feed(html)
    return parser.found


def test_the_detector_finds_the_payload_when_it_is_not_escaped():
    assert active_content(f"<p>{PAYLOAD}</p>") == [
        "<script>alert(1)</script>",
        "<img onerror=alert(1)>",
        "<img src=x>",
    ]
    assert active_content(f"<p>{ESCAPED}</p>") == []


@pytest.fixture
def hostile(lead):
    """One record of every kind, each free-text field holding the payload."""
    organisation = factories.OrganisationFactory(name=f"Org {PAYLOAD}")
    customer = factories.CustomerFactory(name=f"Ann {PAYLOAD}", organisation=organisation)
    ticket = factories.TicketFactory(customer=customer, subject=f"Help {PAYLOAD}")
    ticket.tags.add(factories.TagFactory(name=PAYLOAD[:50]))
    factories.MessageFactory(ticket=ticket, body_text=f"Hello {PAYLOAD}")
    SavedView.objects.create(owner=lead, name=f"View {PAYLOAD}"[:100], query="status=open")
    segmentation = Segmentation.objects.get(slug="behaviour")
    segment = Segment.objects.create(
        segmentation=segmentation,
        slug="hostile",
        name=f"Seg {PAYLOAD}"[:100],
        description=f"Description {PAYLOAD}",
        needs=f"Needs {PAYLOAD}",
        value_to_business=f"Value {PAYLOAD}",
        notes=f"Notes {PAYLOAD}",
        key_traits=[f"Trait {PAYLOAD}"],
    )
    run = SegmentRun.objects.create(
        segmentation=segmentation,
        as_of=date(2025, 6, 30),
        state=SegmentRun.State.SUCCEEDED,
        progress=100,
        customer_count=1,
        quality={"sizes": {str(segment.pk): 1}, "shares": {str(segment.pk): 1.0}},
        explanation={str(segment.pk): {"rules": [], "traits": []}},
    )
    Membership.objects.create(run=run, segment=segment, customer=customer)
    segmentation.current_run = run
    segmentation.save(update_fields=["current_run"])
    canned = CannedReply.objects.create(title=f"Reply {PAYLOAD}", body=f"Body {PAYLOAD}")
    article = Article.objects.create(
        title=f"Article {PAYLOAD}", slug="hostile", body=f"Body {PAYLOAD}", published=True
    )
    return {
        "ticket": ticket,
        "customer": customer,
        "organisation": organisation,
        "segment": segment,
        "canned": canned,
        "article": article,
    }


def staff_pages(objects) -> list[str]:
    return [
        reverse("tickets:inbox"),
        reverse("tickets:ticket", args=[objects["ticket"].pk]),
        reverse("tickets:customers"),
        reverse("tickets:customer", args=[objects["customer"].pk]),
        reverse("tickets:organisations"),
        reverse("tickets:organisation", args=[objects["organisation"].pk]),
        reverse("segments:segment", args=[objects["segment"].pk]),
        reverse("tickets:canned_replies"),
        reverse("tickets:canned_edit", args=[objects["canned"].pk]),
        reverse("tickets:articles"),
        reverse("tickets:article_edit", args=[objects["article"].pk]),
    ]


def test_every_staff_page_shows_the_stored_payload_escaped_only(lead_client, hostile):
    for url in staff_pages(hostile):
        response = lead_client.get(url)
        page = response.content.decode()

        assert response.status_code == 200, url
        assert ESCAPED in page or "&lt;script&gt;" in page, f"{url} does not show the field"
        assert active_content(page) == [], url


def test_the_ticket_page_escapes_every_field_it_shows(lead_client, hostile):
    page = lead_client.get(reverse("tickets:ticket", args=[hostile["ticket"].pk])).content.decode()

    for shown in ("Help ", "Hello ", "Ann ", "Notes "):
        assert f"{shown}{ESCAPED}" in page, shown


def test_the_public_help_article_renders_markdown_without_active_content(client, hostile):
    page = client.get(reverse("tickets:help_article", args=["hostile"])).content.decode()

    assert "Body" in page
    assert PAYLOAD not in page
    assert active_content(page) == []


def test_the_saved_view_name_is_escaped_in_the_inbox(lead_client, hostile):
    page = lead_client.get(reverse("tickets:inbox")).content.decode()

    assert f"View {ESCAPED}"[:60] in page
