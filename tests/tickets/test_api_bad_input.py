"""Bad input to the API gets a 4xx with a clear error, never a 500."""

import json

import pytest

from helpdesk.json_documents import MAX_DEPTH
from tests import factories
from tickets.models import Customer, Ticket

HUGE_ID = 10**30
HUGE_TEXT = "x" * 100_001


def _valid_ticket(**changes) -> dict:
    return {"customer_email": "ann@example.com", "subject": "S", "body_text": "B", **changes}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (_valid_ticket(subject=["a", "list"]), "subject"),
        (_valid_ticket(subject="s" * 256), "subject"),
        (_valid_ticket(body_text=HUGE_TEXT), "body_text"),
        (_valid_ticket(body_text={"an": "object"}), "body_text"),
        (_valid_ticket(customer_email="not-an-address"), "customer_email"),
        (_valid_ticket(priority="whenever"), "priority"),
        (_valid_ticket(channel="pigeon"), "channel"),
        (_valid_ticket(team=999999), "team"),
        (_valid_ticket(team=HUGE_ID), "team"),
        (_valid_ticket(team="first"), "team"),
        (_valid_ticket(assignee=-1), "assignee"),
        (_valid_ticket(tags="billing"), "tags"),
        (_valid_ticket(tags=["t" * 51]), "tags"),
        (_valid_ticket(tags=[{"name": "x"}]), "tags"),
    ],
)
def test_a_bad_new_ticket_is_a_field_error(api, payload, field):
    response = api.post("/api/tickets/", payload, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Ticket.objects.exists()
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "done"}, "status"),
        ({"status": None}, "status"),
        ({"assignee": "me"}, "assignee"),
        ({"assignee": HUGE_ID}, "assignee"),
        ({"team": 999999}, "team"),
        ({"subject": ""}, "subject"),
        ({"tags": None}, "tags"),
    ],
)
def test_a_bad_change_is_a_field_error(api, ticket, payload, field):
    response = api.patch(f"/api/tickets/{ticket.pk}/", payload, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/tickets/"),
        ("patch", "/api/tickets/{ticket}/"),
        ("post", "/api/tickets/{ticket}/reply/"),
        ("post", "/api/tickets/{ticket}/notes/"),
        ("post", "/api/customers/"),
        ("patch", "/api/customers/{customer}/"),
        ("post", "/api/purchases/"),
        ("post", "/api/tags/"),
    ],
)
def test_a_body_that_is_not_json_is_a_parse_error(api, ticket, method, path):
    path = path.format(ticket=ticket.pk, customer=ticket.customer_id)

    response = getattr(api, method)(path, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_an_unsupported_media_type_is_refused(api):
    response = api.post("/api/tickets/", "subject=x", content_type="text/plain")

    assert response.status_code == 415


@pytest.mark.parametrize(
    "query",
    [
        "status=bogus",
        "team=abc",
        "team=0",
        "assignee=42abc",
        "assignee=99999999999999999999",
        "customer=-3",
        "channel=pigeon",
        "priority=1",
        f"q={'q' * 201}",
    ],
)
def test_a_bad_ticket_filter_is_a_field_error(api, query):
    response = api.get(f"/api/tickets/?{query}")

    assert response.status_code == 400
    assert list(response.json()) == [query.split("=")[0]]


@pytest.mark.parametrize(
    "path", ["/api/tickets/?team=", "/api/tickets/?customer=", "/api/purchases/?customer="]
)
def test_a_huge_id_in_a_filter_is_a_field_error(api, ticket, path):
    response = api.get(f"{path}{HUGE_ID}")

    assert response.status_code == 400
    assert list(response.json()) == [path.rpartition("?")[2].rstrip("=")]


@pytest.mark.parametrize("page", ["abc", "0", "99", str(HUGE_ID)])
def test_a_page_that_does_not_exist_is_404(api, ticket, page):
    assert api.get(f"/api/tickets/?page={page}").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        f"/api/tickets/{HUGE_ID}/",
        f"/api/tickets/{HUGE_ID}/messages/",
        f"/api/customers/{HUGE_ID}/",
        "/api/customers/abc/",
        "/api/tickets/abc/",
    ],
)
def test_unknown_or_malformed_ids_in_the_path_are_404(api, path):
    assert api.get(path).status_code == 404


def test_a_reply_to_a_huge_ticket_id_is_404(api):
    response = api.post(f"/api/tickets/{HUGE_ID}/reply/", {"body_text": "hi"}, format="json")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "nope"}, "email"),
        ({"email": "a@example.com", "age": -1}, "age"),
        ({"email": "a@example.com", "age": 10**6}, "age"),
        ({"email": "a@example.com", "gender": "robot"}, "gender"),
        ({"email": "a@example.com", "organisation": HUGE_ID}, "organisation"),
        ({"email": "a@example.com", "signup_date": "yesterday"}, "signup_date"),
        ({"email": "a@example.com", "country": "Germany"}, "country"),
        ({"email": "a@example.com", "name": "n" * 201}, "name"),
        ({"email": "a@example.com", "tags": [None]}, "tags"),
    ],
)
def test_a_bad_customer_is_a_field_error(api, payload, field):
    response = api.post("/api/customers/", payload, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    "custom_fields",
    [
        {"note": "a\x00b"},
        {"a\x00": 1},
        {"deep": [{"x": ["\x00"]}]},
        {"note": "\ud800 alone"},
    ],
)
def test_custom_fields_postgresql_cannot_store_are_a_field_error(api, custom_fields):
    # Sent as JSON escapes (\u0000, \ud800), as a client would: valid JSON, refused by jsonb.
    body = json.dumps({"email": "a@example.com", "custom_fields": custom_fields})

    response = api.post("/api/customers/", body, content_type="application/json")

    assert response.status_code == 400
    assert list(response.json()) == ["custom_fields"]
    assert not Customer.objects.exists()


@pytest.mark.parametrize("custom_fields", ['{"x": 1e400}', '{"deep": [{"x": [-1e400]}]}'])
def test_custom_fields_with_a_number_beyond_float_range_are_a_field_error(api, custom_fields):
    # Valid JSON that Python reads as infinity, which jsonb cannot store.
    body = f'{{"email": "a@example.com", "custom_fields": {custom_fields}}}'

    response = api.post("/api/customers/", body, content_type="application/json")

    assert response.status_code == 400
    assert list(response.json()) == ["custom_fields"]
    assert not Customer.objects.exists()


@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, 2000])
def test_a_body_nested_too_deeply_is_a_parse_error(api, depth):
    # Inside the body and custom_fields objects, MAX_DEPTH - 1 arrays are one level too many.
    deep = "[" * depth + "]" * depth
    body = f'{{"email": "a@example.com", "custom_fields": {{"x": {deep}}}}}'

    response = api.post("/api/customers/", body, content_type="application/json")

    assert response.status_code == 400
    assert "nested more than" in response.json()["detail"]
    assert not Customer.objects.exists()


def test_custom_fields_keep_any_other_text(api):
    custom_fields = {"nested": [{"emoji": "\U0001f600", "accents": "déjà vu"}], "n": 1}

    response = api.post(
        "/api/customers/",
        json.dumps({"email": "a@example.com", "custom_fields": custom_fields}),
        content_type="application/json",
    )

    assert response.status_code == 201
    assert Customer.objects.get().custom_fields == custom_fields


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"amount": "1" * 20}, "amount"),
        ({"amount": "-"}, "amount"),
        ({"quantity": -2}, "quantity"),
        ({"quantity": 2**40}, "quantity"),
        ({"ordered_at": "tomorrow"}, "ordered_at"),
        ({"currency": "EURO"}, "currency"),
        ({"customer": HUGE_ID}, "customer"),
        ({"customer": "first"}, "customer"),
        ({"order_id": "o" * 101}, "order_id"),
    ],
)
def test_a_bad_purchase_is_a_field_error_of_its_item(api, customer, item, field):
    good = {
        "order_id": "ORD-1",
        "customer": customer.pk,
        "ordered_at": "2024-05-01T10:00:00Z",
        "amount": "10.00",
    }

    response = api.post(
        "/api/purchases/", [good | {"order_id": "ORD-0"}, good | item], format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"1": {field: response.json()["1"][field]}}


def test_the_same_payload_twice_creates_nothing_the_second_time(api, customer):
    batch = [
        {
            "order_id": "ORD-1",
            "customer": customer.pk,
            "ordered_at": "2024-05-01T10:00:00Z",
            "amount": "10.00",
        }
    ]
    assert api.post("/api/purchases/", batch, format="json").status_code == 201

    again = api.post("/api/purchases/", batch, format="json")

    assert again.status_code == 400
    assert list(again.json()["0"]) == ["order_id"]
    assert customer.purchases.count() == 1


def test_a_customer_list_filter_that_is_too_long_is_a_field_error(api):
    factories.CustomerFactory()

    response = api.get(f"/api/customers/?q={'q' * 201}")

    assert response.status_code == 400
    assert list(response.json()) == ["q"]
