"""Security controls: the Content-Security-Policy, sign-in throttling, cookie flags, API token
scopes and the 503 page while the database is unreachable."""

import json
import secrets
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token

from helpdesk.models import TokenScope
from tests.api_clients import token_client
from tests.helpdesk.test_settings import run_python

SIGN_IN_FAILURE_LIMIT = 5

pytestmark = pytest.mark.usefixtures("empty_cache")


def _sign_in(client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


@pytest.mark.parametrize(
    "path",
    ["/login/", "/contact/", "/api/tickets/", "/no-such-page/", "/static/css/app.css", "/healthz/"],
)
def test_every_response_carries_the_content_security_policy(agent_client, path):
    response = agent_client.get(path)

    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy.split("style-src-attr")[0]


def test_the_staff_pages_have_no_inline_scripts_or_event_handlers(agent_client, ticket):
    for url in (reverse("tickets:inbox"), reverse("tickets:ticket", args=[ticket.pk])):
        page = agent_client.get(url).content.decode()

        assert "<script>" not in page and "<style" not in page
        assert " onsubmit=" not in page and " onclick=" not in page


def test_sign_in_locks_after_repeated_failures_even_with_the_right_password(client, agent):
    for _ in range(SIGN_IN_FAILURE_LIMIT):
        assert _sign_in(client, "agent", "wrong").status_code == 200

    locked = _sign_in(client, "agent", "password")

    assert locked.status_code == 429
    assert "locked for 15 minutes" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_username_and_address(client, agent):
    for _ in range(SIGN_IN_FAILURE_LIMIT):
        _sign_in(client, "Agent", "wrong", ip="10.0.0.1")

    from_elsewhere = _sign_in(client, "agent", "password", ip="10.0.0.2")

    assert from_elsewhere.status_code == 302
    assert client.session["_auth_user_id"] == str(agent.pk)


def test_a_successful_sign_in_clears_the_failures(client, agent):
    for _ in range(SIGN_IN_FAILURE_LIMIT - 1):
        _sign_in(client, "agent", "wrong")
    assert _sign_in(client, "agent", "password").status_code == 302
    client.logout()

    for _ in range(SIGN_IN_FAILURE_LIMIT - 1):
        _sign_in(client, "agent", "wrong")

    assert _sign_in(client, "agent", "password").status_code == 302


COOKIE_FLAGS = """
import json, django
django.setup()
from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings, setup_test_environment
setup_test_environment()
# No collectstatic here: the pages' asset URLs need no manifest for this check.
override_settings(STORAGES={"staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
call_command("migrate", verbosity=0)
from tests.factories import AgentFactory
AgentFactory(username="agent")
client = Client(enforce_csrf_checks=True)
page = client.get("/login/", secure=True)
token = page.cookies["csrftoken"]
signed_in = client.post("/login/", {"username": "agent", "password": "password",
    "csrfmiddlewaretoken": token.value}, secure=True, HTTP_REFERER="https://testserver/login/")
def flags(morsel):
    return {"secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"]),
            "samesite": morsel["samesite"]}
print(json.dumps({"status": signed_in.status_code, "csrf": flags(token),
                  "session": flags(signed_in.cookies["sessionid"])}))
"""


def test_production_cookies_are_secure_http_only_and_same_site(tmp_path):
    result = run_python(
        ["-c", COOKIE_FLAGS],
        DJANGO_SETTINGS_MODULE="helpdesk.settings.production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="testserver",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )

    assert result.returncode == 0, result.stderr
    cookies = json.loads(result.stdout.splitlines()[-1])
    assert cookies["status"] == 302
    expected = {"secure": True, "httponly": True, "samesite": "Lax"}
    assert cookies["csrf"] == expected
    assert cookies["session"] == expected


def test_a_read_only_token_reads_but_cannot_write(agent, ticket):
    call_command("issue_api_token", "agent", "--access", "read", stdout=mock.Mock())
    api = token_client(Token.objects.get(user=agent))

    assert api.get(reverse("api:ticket-list")).status_code == 200
    refused = api.post(reverse("api:tag-list"), {"name": "vip"}, format="json")

    assert refused.status_code == 403
    assert refused.json() == {"detail": "This API token is read-only."}


def test_a_read_write_token_and_an_unscoped_token_write(agent, lead):
    call_command("issue_api_token", "agent", "--access", "write", stdout=mock.Mock())
    scoped = token_client(Token.objects.get(user=agent))
    unscoped = token_client(Token.objects.create(user=lead))

    assert scoped.post(reverse("api:tag-list"), {"name": "a"}, format="json").status_code == 201
    assert unscoped.post(reverse("api:tag-list"), {"name": "b"}, format="json").status_code == 201
    assert TokenScope.objects.get(token__user=agent).access == TokenScope.Access.WRITE


def test_the_token_its_scope_and_its_user_are_loaded_in_one_query(agent):
    api = token_client(Token.objects.create(user=agent))

    with CaptureQueriesContext(connection) as queries:
        assert api.get(reverse("api:tag-list")).status_code == 200

    token_queries = [q["sql"] for q in queries if "authtoken_token" in q["sql"]]
    assert len(token_queries) == 1
    assert "helpdesk_tokenscope" in token_queries[0]


def _database_down(*args, **kwargs):
    raise OperationalError("connection refused")


def test_an_unreachable_database_gives_a_503_page_with_retry_after(client):
    with mock.patch("helpdesk.views.connection.cursor", _database_down):
        response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "cannot reach its database" in response.content.decode()


def test_an_unreachable_database_gives_the_api_a_json_503(agent):
    api = token_client(Token.objects.create(user=agent))

    with mock.patch("tickets.api.views.TagViewSet.get_queryset", _database_down):
        response = api.get(reverse("api:tag-list"))

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "temporarily unavailable" in response.json()["detail"]
