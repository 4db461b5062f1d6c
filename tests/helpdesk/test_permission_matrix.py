"""Every URL of the project lets in exactly the roles it names.

The walk covers every pattern in the URLconf, so a view added later without ``role_required`` /
``public_view`` (HTML) or role permission classes (API) fails here, named by its URL. The Django
admin is staff-only by its own check and counts as admin-only; its login page is public.
"""

import re
import re._parser as regex_parser
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, Group
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, path, resolve, reverse
from django.urls.resolvers import RoutePattern
from factory.django import DjangoModelFactory

from helpdesk.models import User
from helpdesk.roles import Role, has_role, role_of
from tests import factories

# The primary key (and slug) of one object per factory, and the value of every URL argument.
OBJECT_KEY = "4242"
PUBLIC = "public"
ROLES = (None, Role.AGENT, Role.LEAD, Role.ADMIN)


@dataclass(frozen=True)
class Endpoint:
    url: str
    kind: str  # "html", "api" or "admin"
    callback: object
    access: dict = field(hash=False)  # method -> minimum Role, PUBLIC, or None when unmarked


# Building a URL for a pattern


_ROUTE_PARAMETER = re.compile(r"<(?:[^>:]+:)?(?P<name>[^>]+)>")
_CLASS_CANDIDATES = "xa0-_"


def _example_for(pattern) -> str:
    """A path segment the pattern matches, using OBJECT_KEY wherever an argument accepts it."""
    if isinstance(pattern, RoutePattern):
        return _ROUTE_PARAMETER.sub(
            lambda match: _fitting(pattern.converters[match["name"]].regex), str(pattern)
        )
    return _regex_example(str(pattern))


def _fitting(regex: str) -> str:
    return OBJECT_KEY if re.fullmatch(regex, OBJECT_KEY) else _regex_example(regex)


def _regex_example(regex: str) -> str:
    parsed = regex_parser.parse(regex)
    chosen: dict[int, str] = {}
    for group in parsed.state.groupdict.values():
        trial = {**chosen, group: OBJECT_KEY}
        if re.fullmatch(regex, _render(parsed, trial)):
            chosen = trial
    return _render(parsed, chosen)


def _render(items, chosen: dict[int, str]) -> str:
    text = []
    for op, arg in items:
        match str(op):
            case "LITERAL":
                text.append(chr(arg))
            case "NOT_LITERAL":
                text.append("y" if chr(arg) == "x" else "x")
            case "ANY":
                text.append("x")
            case "IN":
                text.append(next(c for c in _CLASS_CANDIDATES if _in_class(c, arg)))
            case "BRANCH":
                text.append(_render(arg[1][0], chosen))
            case "SUBPATTERN":
                group, _, _, sub = arg
                text.append(chosen.get(group) or _render(sub, chosen))
            case "MAX_REPEAT" | "MIN_REPEAT":
                low, _, sub = arg
                text.append(_render(sub, chosen) * max(low, 1))
            case "AT":
                pass
            case unknown:
                raise ValueError(f"no example for {unknown} in URL pattern {items}")
    return "".join(text)


def _in_class(char: str, items) -> bool:
    negated = bool(items) and str(items[0][0]) == "NEGATE"
    tests = {
        "LITERAL": lambda value: char == chr(value),
        "RANGE": lambda bounds: bounds[0] <= ord(char) <= bounds[1],
        "CATEGORY": lambda category: bool(re.fullmatch(_CATEGORIES[str(category)], char)),
    }
    found = any(tests[str(op)](arg) for op, arg in items if str(op) in tests)
    return found != negated


_CATEGORIES = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
}


# What each pattern requires


def _html_access(callback) -> Role | str | None:
    if hasattr(callback, "minimum_role"):
        return callback.minimum_role
    if hasattr(callback, "public_reason"):
        return PUBLIC
    return None


def _api_access(callback, method: str) -> Role | str | None:
    if hasattr(callback, "public_reason") or hasattr(callback.cls, "public_reason"):
        return PUBLIC
    view = callback.cls(**callback.initkwargs)
    view.action = (getattr(callback, "actions", None) or {}).get(method)
    roles = [getattr(permission, "minimum", None) for permission in view.get_permissions()]
    return max((role for role in roles if isinstance(role, Role)), default=None)


def _endpoint(entry: URLPattern, url: str, in_admin: bool) -> Endpoint:
    callback = entry.callback
    if in_admin:
        access = PUBLIC if entry.name == "login" else Role.ADMIN
        return Endpoint(url, "admin", callback, {"get": access})
    if hasattr(callback, "cls"):
        return Endpoint(
            url, "api", callback, {m: _api_access(callback, m) for m in ("get", "post")}
        )
    access = _html_access(callback)
    return Endpoint(url, "html", callback, {"get": access, "post": access})


def walk(patterns, prefix: str = "/", in_admin: bool = False) -> Iterator[Endpoint]:
    for entry in patterns:
        url = prefix + _example_for(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, url, in_admin or entry.app_name == "admin")
        else:
            yield _endpoint(entry, url, in_admin)


ENDPOINTS = list(walk(get_resolver().url_patterns))


# Fixtures: one user per role, one object per factory at OBJECT_KEY


@pytest.fixture
def users(db) -> dict:
    return {
        None: None,
        Role.AGENT: factories.AgentFactory(),
        Role.LEAD: factories.LeadFactory(),
        # Like the demo's admin: the Django admin needs staff status on top of the role.
        Role.ADMIN: factories.AdminFactory(is_staff=True, is_superuser=True),
    }


@pytest.fixture
def objects_at_the_key(db) -> None:
    """Detail pages find their object: every factory's model gets one row with pk OBJECT_KEY."""
    built = set()
    for factory in vars(factories).values():
        if not (isinstance(factory, type) and issubclass(factory, DjangoModelFactory)):
            continue
        model = factory._meta.get_model_class()
        if model is None or model in built:
            continue
        built.add(model)
        values = {model._meta.pk.attname: model._meta.pk.to_python(OBJECT_KEY)}
        if any(model_field.name == "slug" for model_field in model._meta.fields):
            values["slug"] = OBJECT_KEY
        factory(**values)


# The checks


def _sent_to_login(response, endpoint: Endpoint) -> bool:
    login = reverse("admin:login") if endpoint.kind == "admin" else resolve_url(settings.LOGIN_URL)
    hops = [url for url, _ in getattr(response, "redirect_chain", [])]
    if response.status_code == 302:
        hops.append(response["Location"])
    return any(urlsplit(hop).path == login for hop in hops)


def problem_with(response, endpoint: Endpoint, method: str, role: Role | None) -> str | None:
    """What is wrong with ``response`` for a user of ``role``, or None when it is right."""
    access = endpoint.access[method]
    status = response.status_code
    if access is None:
        return "carries neither a role (role_required / role permission class) nor public_view"
    if status >= 500:
        return f"server error {status}"
    if access == PUBLIC:
        return None
    if role is None and endpoint.kind == "api":
        return None if status in (401, 403) else f"anonymous got {status}, not 401/403"
    if role is None or (endpoint.kind == "admin" and role < access):
        # Django's admin sends every non-staff user to its login page.
        return None if _sent_to_login(response, endpoint) else f"got {status}, not sent to login"
    if role < access:
        return None if status == 403 else f"below {access.name} but got {status}"
    if _sent_to_login(response, endpoint):
        return "allowed role sent to login"
    # Inside the admin a 403 comes from a model admin's own permissions, after the staff check.
    if status in (401, 403) and endpoint.kind != "admin":
        return f"allowed role refused with {status}"
    return None


def _respond(endpoint: Endpoint, method: str, user):
    client = Client()
    if user is not None:
        client.force_login(user)
    # Inside the admin, refusals may take a detour (logout sends non-staff users to the index).
    return getattr(client, method)(endpoint.url, follow=endpoint.kind == "admin")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.url)
def test_each_url_admits_exactly_the_roles_it_names(endpoint, users, objects_at_the_key):
    assert resolve(urlsplit(endpoint.url).path).func is endpoint.callback, (
        f"the URL built for this pattern reaches another view: {resolve(endpoint.url)}"
    )
    problems = []
    for method in endpoint.access:
        for role in ROLES:
            response = _respond(endpoint, method, users[role])
            problem = problem_with(response, endpoint, method, role)
            if problem:
                who = role.name if role else "anonymous"
                problems.append(f"{method.upper()} as {who}: {problem}")
    assert not problems, "\n".join(problems)


# The walk itself


def test_the_walk_reaches_html_api_and_admin_urls():
    by_url = {endpoint.url: endpoint for endpoint in ENDPOINTS}

    assert by_url["/api/tickets/"].kind == "api"
    assert by_url["/api/tickets/"].access == {"get": Role.AGENT, "post": Role.AGENT}
    assert by_url[f"/api/tickets/{OBJECT_KEY}/messages/"].kind == "api"
    assert by_url["/admin/"].access == {"get": Role.ADMIN}
    assert by_url["/admin/login/"].access == {"get": PUBLIC}
    assert by_url["/healthz/"].access == {"get": PUBLIC, "post": PUBLIC}
    assert by_url[reverse("admin:app_list", args=["auth"])].kind == "admin"
    assert len(ENDPOINTS) == len({endpoint.url for endpoint in ENDPOINTS})


def test_a_view_without_a_role_or_public_mark_is_reported(rf):
    def unmarked(request):
        return HttpResponse("open to all")

    endpoint = next(walk([path("unmarked/", unmarked)]))

    problem = problem_with(unmarked(rf.get("/unmarked/")), endpoint, "get", None)

    assert endpoint.url == "/unmarked/"
    assert problem.startswith("carries neither a role")


@pytest.mark.parametrize(
    ("regex", "example"),
    [
        (r"^(?P<app_label>auth|helpdesk)/$", "auth/"),
        (r"^tickets/(?P<pk>[^/.]+)/$", f"tickets/{OBJECT_KEY}/"),
        (r"(?P<url>.*)$", OBJECT_KEY),
        (r"^s/(?P<code>[a-f]{3})/$", "s/aaa/"),
    ],
)
def test_examples_for_regex_patterns_match_them(regex, example):
    assert _regex_example(regex) == example
    assert re.fullmatch(regex, example)


# Roles of users


@pytest.mark.parametrize("role", list(Role))
def test_the_role_of_a_group_member_is_that_group(db, role):
    user = factories.UserFactory()
    user.groups.add(Group.objects.get_or_create(name=role.group_name)[0])

    assert role_of(user) == role
    assert [has_role(user, minimum) for minimum in Role] == [minimum <= role for minimum in Role]


def test_the_highest_group_wins(db):
    user = factories.AgentFactory()
    user.groups.add(Group.objects.get_or_create(name=Role.LEAD.group_name)[0])

    assert role_of(user) == Role.LEAD


def test_a_superuser_is_an_admin_without_any_group(db):
    user = factories.UserFactory(is_superuser=True)

    assert role_of(user) == Role.ADMIN
    assert has_role(user, Role.ADMIN)


@pytest.mark.parametrize(
    "make_user",
    [
        lambda: factories.UserFactory(),
        lambda: factories.AdminFactory(is_active=False),
    ],
    ids=["no group", "inactive admin"],
)
def test_users_without_an_active_role_have_none(db, make_user):
    user = make_user()

    assert role_of(user) is None
    assert not has_role(user, Role.AGENT)


def test_anonymous_users_have_no_role():
    assert role_of(AnonymousUser()) is None
    assert not has_role(AnonymousUser(), Role.AGENT)


def test_a_role_costs_no_query_once_the_process_knows_the_groups(db, django_assert_num_queries):
    lead = factories.LeadFactory()
    assert role_of(User.objects.get(pk=lead.pk)) == Role.LEAD

    next_request = User.objects.get(pk=lead.pk)
    with django_assert_num_queries(0):
        assert role_of(next_request) == Role.LEAD


def test_a_role_taken_away_is_gone_on_the_next_request(lead_client, lead):
    assert lead_client.get(reverse("tickets:rules")).status_code == 200

    lead.groups.clear()

    assert lead_client.get(reverse("tickets:rules")).status_code == 403
