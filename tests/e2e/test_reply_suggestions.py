"""An agent answers a ticket with the reply box's suggestions: the canned reply written for the
customer's segment comes first, a help-centre article matching the ticket's words is offered, and
both go into the reply that is sent."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from segments import services as segment_services
from segments.models import Segmentation, SegmentRun
from tests.factories import CustomerFactory, PurchaseFactory, TeamFactory
from tickets import services
from tickets.models import CannedReply
from tickets.services.canned import save_canned_reply
from tickets.services.kb import save_article


@pytest.fixture
def loyal_customer(lead):
    """Ann, a member of the rule-based segment "Value / Loyal" after a real segment run."""
    ann = CustomerFactory(name="Ann Lee", email="ann@example.com")
    for days_ago in (40, 20, 5):
        PurchaseFactory(customer=ann, ordered_at=timezone.now() - timedelta(days=days_ago))
    segmentation = Segmentation.objects.create(
        name="Value", slug="value", kind="rule", schedule="manual"
    )
    segment_services.save_rule_segment(
        segmentation=segmentation,
        name="Loyal",
        criteria=[{"field": "frequency", "op": ">=", "value": 3}],
        match="all",
        editor=lead,
    )
    run = segment_services.start_segment_run(segmentation=segmentation, enqueue=False)
    run = segment_services.execute_segment_run(run_id=run.pk)
    assert run.state == SegmentRun.State.SUCCEEDED, run.error
    return ann


@pytest.fixture
def suggestions(lead):
    """A shared reply for loyal customers, a more used one for nobody in particular, an article
    on the ticket's subject and one on something else."""
    for_loyal = save_canned_reply(
        canned_reply=None,
        title="Loyal customer refund",
        body="Hi {{ customer.first_name }}, thank you for ordering with us so often. "
        "The duplicate charge is refunded.",
        folder="Billing",
        owner=None,
        segment_slugs=["value/loyal"],
        actor=lead,
    )
    general = save_canned_reply(
        canned_reply=None,
        title="General refund",
        body="Hello, your refund is on its way.",
        folder="Billing",
        owner=None,
        segment_slugs=[],
        actor=lead,
    )
    CannedReply.objects.filter(pk=general.pk).update(usage_count=50)
    article = save_article(
        article=None,
        title="Refunds for a duplicate charge",
        slug="",
        body="When a card is charged twice, we refund the duplicate within 3 days.",
        category="Billing",
        published=True,
        segment_slugs=[],
        actor=lead,
    )
    save_article(
        article=None,
        title="Changing your password",
        slug="",
        body="Open Settings, then Security.",
        category="Account",
        published=True,
        segment_slugs=[],
        actor=lead,
    )
    return for_loyal, article


@pytest.fixture
def duplicate_charge_ticket(agent, loyal_customer):
    team = TeamFactory(name="Billing")
    team.members.add(agent)
    return services.create_ticket(
        customer=loyal_customer,
        subject="Duplicate charge on my card",
        body_text="I was charged twice for my last order.",
        team=team,
    )


def test_an_agent_answers_with_the_segments_canned_reply_and_a_matching_article(
    page, login, screenshot, agent, suggestions, duplicate_charge_ticket, mailoutbox
):
    for_loyal, article = suggestions
    article_url = f"{page.base_url}/help/{article.slug}/"
    replies = page.get_by_test_id("suggested-reply")
    articles = page.get_by_test_id("suggested-article")
    reply_body = page.get_by_test_id("reply-body")

    # when: the agent opens Ann's ticket
    login(page, agent)
    page.goto(f"/tickets/{duplicate_charge_ticket.pk}/")

    # then: the loyal customers' reply is suggested before the more used general one, and only
    # the article on the ticket's words is offered
    expect(replies).to_have_text(["Loyal customer refund", "General refund"])
    expect(articles).to_have_text(["Refunds for a duplicate charge"])
    screenshot(page, "suggest-01-ticket")

    # when: the agent picks the reply, then the article
    replies.first.click()
    expect(reply_body).to_have_value(
        "Hi Ann, thank you for ordering with us so often. The duplicate charge is refunded."
    )
    page.get_by_test_id("suggested-article").click()

    # then: the reply box holds the rendered reply followed by the article's public link
    expect(reply_body).to_have_value(
        "Hi Ann, thank you for ordering with us so often. The duplicate charge is refunded.\n\n"
        f"Refunds for a duplicate charge: {article_url}"
    )
    screenshot(page, "suggest-02-reply-filled")

    # when: the agent sends it
    page.get_by_test_id("reply-submit").click()

    # then: the thread shows the reply with the link, and Ann is emailed it
    messages = page.get_by_test_id("message")
    expect(messages).to_have_count(2)
    expect(messages.last).to_have_attribute("data-kind", "outbound")
    expect(messages.last).to_contain_text("Hi Ann, thank you for ordering with us so often.")
    expect(messages.last).to_contain_text(article_url)
    assert [m.to for m in mailoutbox] == [["ann@example.com"]]
    assert article_url in mailoutbox[0].body
    for_loyal.refresh_from_db()
    assert for_loyal.usage_count == 1
    screenshot(page, "suggest-03-sent")
