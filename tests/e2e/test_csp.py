"""Under the Content-Security-Policy, the main pages load in Chromium without a single
violation: no inline script, event handler or <style> element is blocked, and htmx works."""

from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from surveys.models import SurveyInvitation
from surveys.services import survey_link
from tests.factories import CustomerFactory, LeadFactory
from tests.segments.test_selectors import make_current_run
from tickets import services


@pytest.fixture
def violations(page):
    """CSP violations the page reports, as Chromium logs them."""
    found: list[str] = []
    page.on(
        "console",
        lambda message: found.append(message.text)
        if "Content Security Policy" in message.text
        else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e =>"
        " console.error('Content Security Policy violation: ' + e.violatedDirective"
        " + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber))"
    )
    return found


@pytest.fixture
def ticket(db):
    customer = CustomerFactory(name="Cleo Parker")
    make_current_run("behaviour", [customer], segment_names=("Big spenders",))
    return services.create_ticket(customer=customer, subject="Logged out", body_text="Help")


def test_the_main_pages_load_without_csp_violations(page, login, violations, ticket):
    lead = LeadFactory()
    login(page, lead)
    segment = ticket.customer.segment_memberships.get().segment
    for url in (
        reverse("tickets:inbox"),
        reverse("tickets:ticket", args=[ticket.pk]),
        reverse("tickets:customer", args=[ticket.customer_id]),
        reverse("segments:segmentations"),
        reverse("segments:segment", args=[segment.pk]),
        reverse("segments:report"),
    ):
        response = page.goto(url)
        assert response.status == 200, url
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")

    # htmx still works under the policy: changing the status posts and swaps the panel
    page.goto(reverse("tickets:ticket", args=[ticket.pk]))
    page.get_by_test_id("ticket-status-select").select_option("pending")
    expect(page.get_by_test_id("ticket-status")).to_have_text("Pending")

    page.context.clear_cookies()
    for url in (reverse("tickets:contact"), _survey_path(ticket), reverse("login")):
        assert page.goto(url).status == 200, url
        page.wait_for_load_state("networkidle")

    assert violations == []


def _survey_path(ticket) -> str:
    ticket.status, ticket.solved_at = "solved", timezone.now()
    ticket.save(update_fields=["status", "solved_at"])
    invitation = SurveyInvitation.objects.create(
        kind=SurveyInvitation.Kind.CSAT, scale="stars", ticket=ticket, customer=ticket.customer
    )
    return urlsplit(survey_link(invitation)).path


def test_a_violation_would_be_caught(page, login, violations, ticket, settings):
    settings.CONTENT_SECURITY_POLICY = "default-src 'self'; style-src-attr 'none'"
    login(page, LeadFactory())

    page.goto(reverse("tickets:ticket", args=[ticket.pk]))
    page.wait_for_load_state("networkidle")

    assert any("style-src-attr" in violation for violation in violations)
