"""A customer's rating travels from a solved ticket through a real SMTP server and the survey page
to the ticket, the customer profile and the per-segment report."""

import re
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.urls import reverse
from playwright.sync_api import expect

from surveys.models import SurveyResponse
from surveys.tasks import invite_solved_tickets
from tests.factories import CustomerFactory, LeadFactory, TeamFactory
from tests.segments.test_selectors import make_current_run
from tickets import services

SURVEY_LINK = re.compile(r"https?://\S+/surveys/s/\S+/")


@pytest.fixture
def ticket_in_segment(agent, settings):
    settings.SURVEY_DELAY_MINUTES = 0
    team = TeamFactory(name="Support")
    team.members.add(agent)
    customer = CustomerFactory(name="Cleo Parker", email="cleo@example.com")
    make_current_run("behaviour", [customer], segment_names=("Big spenders",))
    ticket = services.create_ticket(
        customer=customer,
        subject="The app logs me out",
        body_text="Every few minutes I have to sign in again.",
        team=team,
        assignee=agent,
    )
    cache.clear()
    return ticket


def test_a_rating_reaches_the_ticket_the_profile_and_the_segment_report(
    page, login, screenshot, agent, ticket_in_segment, smtp_server, wait_for
):
    ticket = ticket_in_segment

    # when: the agent solves the ticket in the browser
    login(page, agent)
    page.goto(reverse("tickets:ticket", args=[ticket.pk]))
    page.get_by_test_id("ticket-status-select").select_option("solved")
    expect(page.get_by_test_id("ticket-status")).to_have_text("Solved")
    screenshot(page, "survey-01-ticket-solved")

    # and the periodic job invites and emails the customer
    invite_solved_tickets.delay()
    email = wait_for(lambda: smtp_server.messages, what="the survey email")[0]

    # then: the survey email arrived at the SMTP server, with a link
    assert email["To"] == "cleo@example.com"
    text = email.get_body(preferencelist=("plain",)).get_content()
    link = SURVEY_LINK.search(text)[0]

    # when: the customer opens the link, rates 2 of 5 and says why
    page.context.clear_cookies()
    page.goto(urlsplit(link).path)
    expect(page.get_by_text("The app logs me out")).to_be_visible()
    page.locator("input[name=score][value='2']").check()
    page.locator("textarea[name=comment]").fill("Still logged out every hour.")
    screenshot(page, "survey-02-answer")
    page.get_by_role("button", name="Send").click()

    # then: it is thanked and recorded once
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    screenshot(page, "survey-03-thanks")
    response = SurveyResponse.objects.get()
    assert (response.score, response.comment) == (2, "Still logged out every hour.")

    # then: the ticket shows the rating
    login(page, agent)
    page.goto(reverse("tickets:ticket", args=[ticket.pk]))
    panel = page.locator(".survey-panel").filter(has_text="Answered")
    expect(panel).to_contain_text("★★")
    expect(panel).to_contain_text("Still logged out every hour.")
    screenshot(page, "survey-04-ticket-rating")

    # and the customer profile
    page.goto(reverse("tickets:customer", args=[ticket.customer_id]))
    expect(page.locator(".survey-history")).to_contain_text("Still logged out every hour.")
    expect(page.locator(".survey-panel").first).to_contain_text("mean 2.0/5")
    screenshot(page, "survey-05-customer-rating")

    # and the per-segment report, beside the overall figure
    page.context.clear_cookies()
    login(page, LeadFactory(username="lead"))
    page.goto(reverse("segments:report"))
    rows = page.get_by_test_id("report-table-segments").get_by_test_id("report-row")
    segment_row = rows.filter(has_text="Big spenders")
    expect(segment_row).to_have_count(1)
    cells = segment_row.locator("td")
    columns = page.get_by_test_id("report-table-segments").locator("thead th")
    names = [name.strip() for name in columns.all_text_contents()][1:]
    values = dict(zip(names, cells.all_text_contents(), strict=True))
    assert values["CSAT responses"] == "1"
    assert values["CSAT satisfied (%)"] == "0.0"
    assert values["CSAT mean (1-5)"] == "2.0"
    assert values["Tickets"] == "1"
    expect(page.get_by_test_id("chart-csat")).to_contain_text("CSAT mean per week")
    screenshot(page, "survey-06-segment-report")
