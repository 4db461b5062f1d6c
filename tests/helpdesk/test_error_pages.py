"""Errors render the app's own pages: a message that says what happened and a way back."""

import re

from django.template.loader import get_template
from django.test import Client, override_settings
from django.urls import path, reverse

from tests.factories import TicketFactory


def test_an_agent_on_a_lead_page_gets_the_403_page_with_navigation(agent_client):
    response = agent_client.get(reverse("tickets:sla"))

    assert response.status_code == 403
    page = response.content.decode()
    assert 'data-testid="error-page" data-status="403"' in page
    assert "It needs a role you do not have" in page
    assert 'class="mainnav"' in page
    assert f'href="{reverse("tickets:inbox")}" data-testid="error-back"' in page


def test_a_missing_ticket_gets_the_404_page(agent_client):
    response = agent_client.get(reverse("tickets:ticket", args=[987654]))

    assert response.status_code == 404
    assert 'data-status="404"' in response.content.decode()


def test_a_visitor_on_a_missing_page_is_sent_to_the_help_centre(db, client):
    response = client.get("/help/no-such-article/")

    assert response.status_code == 404
    page = response.content.decode()
    assert 'data-status="404"' in page
    assert 'class="mainnav"' not in page
    assert f'href="{reverse("tickets:help_centre")}" data-testid="error-back"' in page


def test_the_500_page_renders_without_any_context():
    page = get_template("500.html").render()

    assert 'data-status="500"' in page
    assert "Something went wrong on our side" in page


class TestExpiredForm:
    """A post that fails the CSRF check gets a plain-language "form expired" page."""

    def test_an_agent_gets_the_page_in_the_app_layout_with_a_link_back(self, agent):
        client = Client(enforce_csrf_checks=True)
        client.force_login(agent)
        ticket = TicketFactory()
        ticket_url = reverse("tickets:ticket", args=[ticket.pk])

        response = client.post(
            reverse("tickets:reply", args=[ticket.pk]),
            {"body_text": "Hello"},
            headers={"referer": f"http://testserver{ticket_url}"},
        )

        assert response.status_code == 403
        page = response.content.decode()
        assert 'data-status="403" data-reason="csrf"' in page
        assert "This form has expired" in page
        assert "reload the page and try again" in page
        section = page[page.index('<section class="error-page"') : page.index("</section>")]
        words = re.sub(r"<[^>]+>", " ", section).lower()
        assert not [jargon for jargon in ("csrf", "token", "referer", "cookie") if jargon in words]
        assert 'class="mainnav"' in page
        assert f'href="http://testserver{ticket_url}" data-testid="error-back"' in page
        assert not ticket.messages.filter(body_text="Hello").exists()

    def test_a_link_from_another_site_is_not_offered_back(self, agent):
        client = Client(enforce_csrf_checks=True)
        client.force_login(agent)

        response = client.post(
            reverse("tickets:save_view"), headers={"referer": "https://evil.example/form"}
        )

        assert response.status_code == 403
        page = response.content.decode()
        assert "evil.example" not in page
        assert f'href="{reverse("tickets:inbox")}" data-testid="error-back"' in page

    def test_a_visitor_gets_the_public_layout(self, db):
        client = Client(enforce_csrf_checks=True)

        response = client.post(reverse("login"), {"username": "a", "password": "b"})

        assert response.status_code == 403
        page = response.content.decode()
        assert "This form has expired" in page
        assert 'class="mainnav"' not in page
        assert f'href="{reverse("tickets:help_centre")}" data-testid="error-back"' in page


def test_a_request_for_a_host_we_do_not_serve_gets_the_400_page(db, client):
    response = client.get(reverse("login"), headers={"host": "evil.example"})

    assert response.status_code == 400
    assert 'data-status="400"' in response.content.decode()


def test_the_400_page_renders_without_any_context():
    page = get_template("400.html").render()

    assert 'data-status="400"' in page
    assert "We could not understand that request" in page


def _fail(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", _fail)]


@override_settings(ROOT_URLCONF=__name__)
def test_an_unhandled_error_gets_the_500_page(db, client):
    client.raise_request_exception = False

    response = client.get("/boom/")

    assert response.status_code == 500
    assert 'data-status="500"' in response.content.decode()
