"""A lead builds a routing rule in the editor; an email from a customer in the rule's segment
arrives at the inbound endpoint, is routed by the rule, and its automatic reply goes out
through a real SMTP server (tests/smtp.py)."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from playwright.sync_api import expect

from segments import services as segment_services
from segments.models import Segmentation
from tests.factories import MailboxFactory, TeamFactory
from tests.tickets.emails import raw_email
from tickets.models import InboundEmail, Message, RoutingRule, RuleFiring, Ticket
from tickets.services import create_customer
from tickets.services.canned import save_canned_reply

CUSTOMER_MESSAGE_ID = "<order-42@mail.example.com>"
SUBJECT = "Where is my order?"


@pytest.fixture
def vip_customer(lead):
    """Vera, a member of the rule-based segment "plans/vip" after a real segment run; Otto,
    on another plan, is not."""
    vera = create_customer(
        actor=lead, data={"name": "Vera Vip", "email": "vera@example.com", "plan": "vip"}
    )
    create_customer(
        actor=lead, data={"name": "Otto Other", "email": "otto@example.com", "plan": "free"}
    )
    plans = Segmentation.objects.create(
        name="Plans", slug="plans", kind=Segmentation.Kind.RULE, schedule="manual"
    )
    segment = segment_services.save_rule_segment(
        segmentation=plans,
        name="VIP",
        criteria=[{"field": "plan", "op": "=", "value": "vip"}],
        match="all",
        editor=lead,
    )
    run = segment_services.start_segment_run(segmentation=plans, enqueue=False)
    segment_services.execute_segment_run(run_id=run.pk)
    assert list(segment.memberships.filter(run=run).values_list("customer", flat=True)) == [vera.pk]
    cache.clear()
    return vera


@pytest.fixture
def tier_2(agent):
    team = TeamFactory(name="Tier 2", slug="tier-2")
    team.members.add(agent)
    return team


@pytest.fixture
def welcome_back(lead):
    return save_canned_reply(
        canned_reply=None,
        title="Welcome back",
        body="Welcome back, {{ customer.first_name }}! Your {{ segment.name }} line is on it.",
        folder="Greetings",
        owner=None,
        segment_slugs=[],
        actor=lead,
    )


@pytest.fixture
def mailbox():
    return MailboxFactory(slug="support", address="support@helpdesk.example.com")


def rerendered(page, act) -> None:
    """Do ``act()``, which makes the editor post the form, and wait until htmx has swapped in
    the new form and wired it up (what is done to the old form before that is lost)."""
    with page.expect_response(lambda response: response.request.method == "POST"):
        act()
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def choose(page, row, test_id: str, value: str) -> None:
    """Pick an option in a row's select; the editor re-renders the form for it."""
    rerendered(page, lambda: row.get_by_test_id(test_id).select_option(value))
    expect(row.get_by_test_id(test_id)).to_have_value(value)


def build_rule_in_the_editor(page, *, canned_reply_id: int) -> None:
    page.get_by_test_id("new-rule").click()
    page.wait_for_load_state()  # htmx wires the editor up once the page has loaded
    page.fill("#id_name", "VIP to Tier 2")
    page.get_by_label("Ticket created").check()

    condition = page.get_by_test_id("condition-row").nth(0)
    choose(page, condition, "condition-field", "segment")
    expect(condition.get_by_test_id("condition-operator")).to_have_value("equals")
    condition.get_by_test_id("condition-value").fill("plans/vip")

    actions = page.get_by_test_id("action-row")
    expect(actions.nth(0).get_by_test_id("action-name")).to_have_value("assign_team")
    actions.nth(0).get_by_test_id("action-value").select_option(label="Tier 2")
    rerendered(page, page.get_by_test_id("add-action").click)
    expect(actions).to_have_count(2)
    choose(page, actions.nth(1), "action-name", "set_priority")
    actions.nth(1).get_by_test_id("action-value").select_option("high")
    rerendered(page, page.get_by_test_id("add-action").click)
    expect(actions).to_have_count(3)
    choose(page, actions.nth(2), "action-name", "send_canned_reply")
    actions.nth(2).get_by_test_id("action-value").select_option(str(canned_reply_id))


def test_a_rule_built_in_the_editor_routes_a_vip_email_and_sends_the_auto_reply(
    page,
    login,
    screenshot,
    lead,
    agent,
    vip_customer,
    tier_2,
    welcome_back,
    mailbox,
    smtp_server,
    wait_for,
):
    # given: the lead builds "segment is plans/vip → Tier 2, high, Welcome back" in the editor
    login(page, lead)
    page.goto(reverse("tickets:rules"))
    build_rule_in_the_editor(page, canned_reply_id=welcome_back.pk)
    screenshot(page, "routing-01-rule-editor")

    # when: the lead saves it
    page.get_by_test_id("save-rule").click()
    row = page.get_by_test_id("rule-row").filter(has_text="VIP to Tier 2")
    expect(row).to_contain_text("Customer segment is Plans: VIP")
    expect(row).to_contain_text("Assign to team Tier 2")
    expect(row).to_contain_text("Set priority High")
    expect(row).to_contain_text("Reply with canned reply 'Welcome back'")
    screenshot(page, "routing-02-rule-list")
    rule = RoutingRule.objects.get(name="VIP to Tier 2")
    assert (rule.active, rule.events, rule.match) == (True, ["ticket_created"], "all")
    assert rule.conditions == [{"field": "segment", "operator": "equals", "value": "plans/vip"}]
    assert rule.actions == [
        {"action": "assign_team", "value": "tier-2"},
        {"action": "set_priority", "value": "high"},
        {"action": "send_canned_reply", "value": str(welcome_back.pk)},
    ]

    # when: Vera's email reaches the inbound endpoint of the live server
    response = page.request.post(
        reverse("tickets:inbound_email", args=[mailbox.slug]),
        data=raw_email(
            sender="Vera Vip <vera@example.com>",
            subject=SUBJECT,
            body="It was due on Monday.",
            message_id=CUSTOMER_MESSAGE_ID,
        ),
        headers={"Authorization": f"Bearer {mailbox.inbound_token}"},
    )
    assert response.status == 202, response.text()
    assert response.json()["status"] == "accepted"
    ticket = InboundEmail.objects.get(pk=response.json()["id"]).message.ticket

    # then: the rule fired once and the ticket is Tier 2's, high priority
    assert list(RuleFiring.objects.filter(ticket=ticket).values_list("rule_name", flat=True)) == [
        "VIP to Tier 2"
    ]
    ticket.refresh_from_db()
    assert (ticket.team, ticket.priority) == (tier_2, Ticket.Priority.HIGH)

    # and the SMTP server received the automatic reply, threaded to Vera's message
    [envelope] = wait_for(lambda: smtp_server.envelopes, what="the automatic reply")
    assert (envelope.mail_from, envelope.rcpt_tos) == (mailbox.address, ["vera@example.com"])
    [sent] = smtp_server.messages
    reply = Message.objects.get(ticket=ticket, kind=Message.Kind.OUTBOUND)
    assert reply.delivery_status == Message.Delivery.SENT
    assert sent["Subject"] == f"Re: {SUBJECT} [#{ticket.number}]"
    assert sent["Message-ID"] == reply.message_id
    assert sent["In-Reply-To"] == CUSTOMER_MESSAGE_ID
    assert sent["References"] == CUSTOMER_MESSAGE_ID
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent.get_body(("plain",)).get_content().strip() == (
        "Welcome back, Vera! Your VIP line is on it."
    )

    # when: the agent opens the inbox
    page.context.clear_cookies()
    login(page, agent)
    page.goto("/")

    # then: the ticket is listed for Tier 2 with a high-priority pill
    inbox_row = page.get_by_test_id("inbox-row").filter(has_text=SUBJECT)
    expect(inbox_row).to_have_count(1)
    expect(inbox_row.locator(".team")).to_have_text("Tier 2")
    expect(inbox_row.locator(".prio-pill-high")).to_have_text("High")
    screenshot(page, "routing-03-inbox")

    # when: the agent opens the ticket
    inbox_row.get_by_test_id("row-subject").click()

    # then: the timeline shows the rule routing it, the changes, and the reply it sent
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text(re.compile(r"routed by 'VIP to Tier 2'", re.IGNORECASE))
    changed = timeline.locator(".timeline-entry").filter(has_text="(rule: VIP to Tier 2)")
    expect(changed.filter(has_text="priority")).to_contain_text("Tier 2")
    expect(changed.filter(has_text="canned_reply")).to_contain_text("Welcome back")
    expect(page.get_by_text("Welcome back, Vera! Your VIP line is on it.")).to_be_visible()
    screenshot(page, "routing-04-ticket-timeline")
