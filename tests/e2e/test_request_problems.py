"""A change made in place (htmx) that the server refuses says so instead of doing nothing."""

import pytest
from playwright.sync_api import expect

from tests.factories import CustomerFactory
from tickets import services
from tickets.models import Ticket


@pytest.fixture
def ticket():
    return services.create_ticket(
        customer=CustomerFactory(name="Ann Lee"),
        subject="Where is my parcel?",
        body_text="It was due on Monday.",
    )


def test_an_expired_form_says_so_and_a_later_success_clears_the_notice(
    page, login, screenshot, agent, ticket
):
    login(page, agent)
    page.goto(f"/tickets/{ticket.pk}/")
    [csrf_cookie] = [c for c in page.context.cookies() if c["name"] == "csrftoken"]
    notice = page.get_by_test_id("request-problem")

    # when: the CSRF cookie is gone (another tab signed out and in) and the agent changes status
    page.context.clear_cookies(name="csrftoken")
    page.get_by_test_id("ticket-status-select").select_option("solved")

    # then: the page says the change was not saved, shows the saved status again, and it was not
    expect(notice).to_contain_text("Not saved: this page has expired")
    expect(page.get_by_test_id("ticket-status-select")).to_have_value("new")
    screenshot(page, "ticket-change-refused")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW

    # when: a background refresh (who else is viewing) succeeds meanwhile
    viewers_url = page.locator("#viewers").get_attribute("hx-get")
    with page.expect_response(lambda response: response.url.endswith(viewers_url)):
        page.evaluate("(url) => htmx.ajax('GET', url, '#viewers')", viewers_url)

    # then: the notice about the refused change stays
    expect(notice).to_be_visible()

    # when: the cookie is back and the agent tries again
    page.context.add_cookies([csrf_cookie])
    page.get_by_test_id("ticket-status-select").select_option("open")

    # then: the change is saved and the notice is gone
    expect(page.get_by_test_id("ticket-status")).to_have_text("Open")
    expect(notice).to_have_count(0)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
