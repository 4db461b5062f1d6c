"""Errors render the app's own pages: a message that says what happened and a way back."""

from django.template.loader import get_template
from django.urls import reverse


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
