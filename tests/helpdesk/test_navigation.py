"""The main navigation: daily pages for everyone, the "Manage" menu by role, the current section
highlighted."""

import re

import pytest
from django.urls import resolve, reverse

from helpdesk.context_processors import nav_section

AGENT_LINKS = {"nav-inbox", "nav-customers", "nav-organisations", "nav-segments", "nav-kb"} | {
    "nav-canned",
    "nav-api-docs",
}
LEAD_LINKS = {
    "nav-help-centre",
    "nav-rules",
    "nav-sla",
    "nav-imports",
    "nav-reports",
    "nav-outreach",
    "nav-csat",
}
ADMIN_LINKS = {"nav-failed-emails"}


def _nav_links(response) -> dict[str, str]:
    """data-testid -> href of every link in the main navigation."""
    nav = re.search(r'<nav class="mainnav".*?</nav>', response.content.decode(), re.S).group()
    return dict(
        (testid, href)
        for href, testid in re.findall(r'<a href="([^"]+)" data-testid="([^"]+)"', nav)
    )


def _current(response) -> list[str]:
    return re.findall(r'data-testid="(nav-[\w-]+)" aria-current="page"', response.content.decode())


@pytest.mark.parametrize(
    ("client_fixture", "expected"),
    [
        ("agent_client", AGENT_LINKS),
        ("lead_client", AGENT_LINKS | LEAD_LINKS),
        ("admin_client", AGENT_LINKS | LEAD_LINKS | ADMIN_LINKS),
    ],
)
def test_each_role_sees_the_links_it_may_open(request, client_fixture, expected):
    client = request.getfixturevalue(client_fixture)

    links = _nav_links(client.get(reverse("tickets:inbox")))

    assert set(links) == expected
    for href in links.values():
        assert client.get(href).status_code == 200, href


@pytest.mark.parametrize(
    ("client_fixture", "kb_url"),
    [("agent_client", "tickets:help_centre"), ("lead_client", "tickets:articles")],
)
def test_agents_reach_the_help_centre_and_leads_the_article_editor(request, client_fixture, kb_url):
    client = request.getfixturevalue(client_fixture)

    links = _nav_links(client.get(reverse("tickets:inbox")))

    assert links["nav-kb"] == reverse(kb_url)


def test_the_admin_site_is_linked_for_admins_with_staff_status(admin_client, admin_user):
    # given: the Django admin lets in staff users only
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])

    # when
    links = _nav_links(admin_client.get(reverse("tickets:inbox")))

    # then
    assert links["nav-admin"] == reverse("admin:index")
    assert admin_client.get(links["nav-admin"]).status_code == 200


def test_a_daily_page_highlights_its_link_and_leaves_the_menu_plain(agent_client, customer):
    response = agent_client.get(reverse("tickets:customer", args=[customer.pk]))

    assert _current(response) == ["nav-customers"]
    assert "<summary>Manage</summary>" in response.content.decode()


def test_a_page_in_the_menu_highlights_the_menu_and_its_link(lead_client):
    response = lead_client.get(reverse("tickets:sla_policy_new"))

    assert _current(response) == ["nav-sla"]
    assert '<summary class="is-current">Manage</summary>' in response.content.decode()


@pytest.mark.parametrize(
    ("url", "section"),
    [
        ("/", "inbox"),
        ("/tickets/1/", "inbox"),
        ("/segments/", "segments"),
        ("/segments/behaviour/", "segments"),
        ("/segments/segment/3/edit/", "segments"),
        ("/segments/reports/", "reports"),
        ("/segments/outreach/7/", "outreach"),
        ("/surveys/csat/", "csat"),
        ("/kb/4/", "kb"),
        ("/imports/2/", "imports"),
        ("/admin-tools/email/unprocessed/", "email"),
        ("/help/", ""),
    ],
)
def test_pages_belong_to_sections(url, section):
    assert nav_section(resolve(url)) == section


def test_visitors_who_are_not_signed_in_get_no_navigation(client):
    response = client.get(reverse("login"))

    assert 'class="mainnav"' not in response.content.decode()
