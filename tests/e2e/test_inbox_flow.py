"""An agent works a ticket in the browser: sign in, filter the inbox, open, reply, solve."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import CustomerFactory, TeamFactory
from tickets import services
from tickets.models import Message, Ticket
from tickets.services.sla import apply_sla_policy, save_sla_policy


@pytest.fixture
def two_tickets(agent):
    team = TeamFactory(name="Billing")
    team.members.add(agent)
    ann = CustomerFactory(name="Ann Lee", email="ann@example.com")
    bob = CustomerFactory(name="Bob Stone", email="bob@example.com")
    urgent = services.create_ticket(
        customer=ann,
        subject="Charged twice for my order",
        body_text="My card was charged twice for order 1042. Please refund one.",
        priority=Ticket.Priority.URGENT,
        team=team,
    )
    policy = save_sla_policy(
        policy=None,
        name="Priority support",
        description="",
        calendar=None,
        is_default=False,
        targets={Ticket.Priority.URGENT: (120, 8 * 60)},
        actor=agent,
    )
    apply_sla_policy(ticket=urgent, policy=policy, cause="test")
    services.create_ticket(
        customer=bob,
        subject="How do I export invoices?",
        body_text="Is there a CSV export of all invoices?",
        team=team,
    )
    return urgent


def sla_clock(page, target: str):
    return page.locator(f'[data-testid="sla-clock"][data-target="{target}"]')


def test_agent_filters_opens_replies_and_solves(
    page, login, screenshot, agent, two_tickets, mailoutbox
):
    rows = page.get_by_test_id("inbox-row")

    # when: the agent signs in
    login(page, agent)

    # then: the inbox lists both active tickets
    expect(rows).to_have_count(2)
    screenshot(page, "01-inbox")

    # when: the agent filters on urgent priority
    page.get_by_test_id("filter-priority").select_option("urgent")

    # then: only the urgent ticket is left, and the filter is in the address
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_test_id("row-subject")).to_have_text("Charged twice for my order")
    expect(page).to_have_url(re.compile(r"priority=urgent"))
    screenshot(page, "02-inbox-filtered")

    # when: the agent opens it
    rows.first.get_by_test_id("row-subject").click()

    # then: the ticket page shows the subject, the customer's message and the status
    expect(page.get_by_test_id("ticket-subject")).to_have_text("Charged twice for my order")
    messages = page.get_by_test_id("message")
    expect(messages).to_have_count(1)
    expect(messages.first).to_contain_text("charged twice for order 1042")
    expect(page.get_by_test_id("ticket-status")).to_have_text("New")
    expect(page.get_by_test_id("sla-policy")).to_have_text("Priority support")
    expect(sla_clock(page, "first response")).to_have_attribute("data-sla-state", "on_track")
    expect(sla_clock(page, "first response")).to_contain_text(re.compile(r"due in (1 h 59|2 h)"))
    expect(sla_clock(page, "resolution")).to_have_attribute("data-sla-state", "on_track")
    screenshot(page, "03-ticket")

    # when: the agent replies
    page.get_by_test_id("reply-body").fill("Sorry about that, Ann. The duplicate is refunded.")
    page.get_by_test_id("reply-submit").click()

    # then: the reply is in the thread, delivered by email, and the ticket is open
    expect(messages).to_have_count(2)
    reply = messages.last
    expect(reply).to_have_attribute("data-kind", "outbound")
    expect(reply).to_contain_text("The duplicate is refunded.")
    expect(reply.get_by_test_id("delivery-status")).to_have_text("Delivered")
    expect(page.get_by_test_id("ticket-status")).to_have_text("Open")
    expect(sla_clock(page, "first response")).to_have_attribute("data-sla-state", "met")
    assert [m.to for m in mailoutbox] == [["ann@example.com"]]
    assert f"[#{two_tickets.number}]" in mailoutbox[0].subject
    screenshot(page, "04-ticket-replied")

    # when: the agent sets the status to solved
    page.get_by_test_id("ticket-status-select").select_option("solved")

    # then: the page shows it without a reload, and it is saved
    expect(page.get_by_test_id("ticket-status")).to_have_text("Solved")
    expect(sla_clock(page, "resolution")).to_have_attribute("data-sla-state", "met")
    screenshot(page, "05-ticket-solved")
    two_tickets.refresh_from_db()
    assert two_tickets.status == Ticket.Status.SOLVED
    assert two_tickets.solved_at is not None
    assert two_tickets.messages.filter(kind=Message.Kind.OUTBOUND, author=agent).count() == 1

    # when: the agent goes back to the inbox
    page.get_by_test_id("back-to-inbox").click()

    # then: the solved ticket has left the active view
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_test_id("row-subject")).to_have_text("How do I export invoices?")
