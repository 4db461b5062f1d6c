"""The customers, purchases and tags API."""

from decimal import Decimal

import pytest

from helpdesk.models import AuditLog
from tests import factories
from tickets.models import Customer, Purchase, Tag

CUSTOMERS = "/api/customers/"
PURCHASES = "/api/purchases/"
TAGS = "/api/tags/"


def _customer_url(customer: Customer) -> str:
    return f"{CUSTOMERS}{customer.pk}/"


# Customers


def test_a_customer_is_created_with_tags_custom_fields_and_their_organisation(api, agent):
    domain = factories.OrganisationDomainFactory(domain="acme.example")

    response = api.post(
        CUSTOMERS,
        {
            "email": "Jo@Acme.example",
            "name": "Jo",
            "plan": "pro",
            "age": 41,
            "signup_date": "2023-04-01",
            "custom_fields": {"seats": 12, "region": "north"},
            "tags": ["B2B", "trial"],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    customer = Customer.objects.get(pk=body["id"])
    assert body["organisation"] == domain.organisation_id
    assert sorted(body["tags"]) == ["b2b", "trial"]
    assert customer.custom_fields == {"seats": 12, "region": "north"}
    assert AuditLog.objects.get(action="customer_created", target_id=customer.pk).actor == agent


def test_an_address_already_taken_in_another_case_is_a_field_error(api, customer):
    response = api.post(CUSTOMERS, {"email": customer.email.upper()}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["email"]
    assert Customer.objects.count() == 1


def test_changing_to_an_address_already_taken_is_a_field_error(api, customer):
    other = factories.CustomerFactory()

    response = api.patch(_customer_url(other), {"email": customer.email.title()}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["email"]


def test_an_external_id_already_taken_is_a_field_error(api):
    factories.CustomerFactory(external_id="crm-1")

    response = api.post(
        CUSTOMERS, {"email": "x@example.com", "external_id": "crm-1"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["external_id"]


def test_patch_replaces_the_tags_and_keeps_other_fields(api, customer):
    customer.tags.add(factories.TagFactory(name="old"))

    response = api.patch(
        _customer_url(customer), {"tags": ["new"], "city": "Berlin"}, format="json"
    )

    assert response.status_code == 200, response.content
    customer.refresh_from_db()
    assert [tag.name for tag in customer.tags.all()] == ["new"]
    assert (customer.city, customer.plan) == ("Berlin", "basic")
    assert AuditLog.objects.get(action="customer_updated").changes["tags"] == [["old"], ["new"]]


def test_put_replaces_the_profile(api, customer):
    response = api.put(
        _customer_url(customer), {"email": "renamed@example.com", "name": "Renamed"}, format="json"
    )

    assert response.status_code == 200, response.content
    customer.refresh_from_db()
    assert (customer.email, customer.name) == ("renamed@example.com", "Renamed")


@pytest.mark.parametrize("custom_fields", [["a"], "text", 3])
def test_custom_fields_must_be_an_object(api, customer, custom_fields):
    response = api.patch(_customer_url(customer), {"custom_fields": custom_fields}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["custom_fields"]


def test_a_customer_without_tickets_is_deleted_with_their_purchases(api, customer):
    factories.PurchaseFactory(customer=customer)

    response = api.delete(_customer_url(customer))

    assert response.status_code == 204
    assert not Customer.objects.exists()
    assert not Purchase.objects.exists()
    assert AuditLog.objects.filter(action="customer_deleted", target_id=customer.pk).exists()


def test_a_customer_with_tickets_is_not_deleted(api, ticket):
    response = api.delete(_customer_url(ticket.customer))

    assert response.status_code == 400
    assert "tickets" in response.json()["detail"][0]
    assert Customer.objects.filter(pk=ticket.customer_id).exists()


def test_customers_are_found_by_email_and_by_part_of_name(api):
    ann = factories.CustomerFactory(email="ann@example.com", name="Ann Lee")
    bob = factories.CustomerFactory(email="bob@example.com", name="Bob Stone")

    by_email = api.get(f"{CUSTOMERS}?email=ANN@example.com").json()["results"]
    by_name = api.get(f"{CUSTOMERS}?q=ston").json()["results"]

    assert [row["id"] for row in by_email] == [ann.pk]
    assert [row["id"] for row in by_name] == [bob.pk]


def test_the_customer_list_query_count_does_not_grow_with_rows(
    api, django_assert_max_num_queries, django_assert_num_queries
):
    def add_customers(count):
        for _ in range(count):
            factories.CustomerFactory().tags.add(factories.TagFactory())

    add_customers(2)
    api.get(CUSTOMERS)  # warms the process's snapshots, as every request after the first
    # token, groups, count, customers, tags, and one call to the badge providers (segments)
    with django_assert_max_num_queries(6) as queries:
        assert len(api.get(CUSTOMERS).json()["results"]) == 2
    few = len(queries.captured_queries)  # read before the next request resets the log
    add_customers(30)
    api.get(CUSTOMERS)

    with django_assert_num_queries(few):
        assert len(api.get(CUSTOMERS).json()["results"]) == 32


# Purchases


def _purchase(customer, order_id, **extra) -> dict:
    return {
        "order_id": order_id,
        "customer": customer.pk,
        "ordered_at": "2024-05-01T10:00:00Z",
        "amount": "19.99",
        "product": "Kettle",
        **extra,
    }


def test_purchases_are_created_in_bulk(api, customer):
    payload = [_purchase(customer, f"A-{n}", quantity=n + 1) for n in range(3)]

    response = api.post(PURCHASES, payload, format="json")

    assert response.status_code == 201, response.content
    assert [row["order_id"] for row in response.json()] == ["A-0", "A-1", "A-2"]
    assert all(row["id"] for row in response.json())
    saved = Purchase.objects.order_by("order_id")
    assert [(p.order_id, p.quantity, p.amount) for p in saved] == [
        ("A-0", 1, Decimal("19.99")),
        ("A-1", 2, Decimal("19.99")),
        ("A-2", 3, Decimal("19.99")),
    ]


def test_bulk_purchases_cost_the_same_queries_for_any_batch_size(
    api, customer, django_assert_max_num_queries, django_assert_num_queries
):
    api.get(PURCHASES)  # warms the process's snapshots, as every request after the first
    with django_assert_max_num_queries(8) as queries:
        api.post(PURCHASES, [_purchase(customer, f"S-{n}") for n in range(2)], format="json")
    few = len(queries.captured_queries)  # read before the next request resets the log

    # 120 rows: SQLite allows 999 parameters per statement, so Django splits above 124 there.
    with django_assert_num_queries(few):
        response = api.post(
            PURCHASES, [_purchase(customer, f"L-{n}") for n in range(120)], format="json"
        )
    assert response.status_code == 201
    assert Purchase.objects.count() == 122


def test_one_bad_purchase_rejects_the_whole_batch_with_errors_per_item(api, customer):
    # given
    factories.PurchaseFactory(order_id="TAKEN")
    payload = [
        _purchase(customer, "OK-1"),
        _purchase(customer, "BAD-AMOUNT", amount="lots"),
        _purchase(customer, "TAKEN"),
        {**_purchase(customer, "NOBODY"), "customer": 999999},
        _purchase(customer, "OK-1"),
        {"order_id": "MISSING"},
    ]

    # when
    response = api.post(PURCHASES, payload, format="json")

    # then
    assert response.status_code == 400
    errors = response.json()
    assert list(errors["1"]) == ["amount"]
    assert set(errors["5"]) == {"customer", "ordered_at", "amount"}
    assert set(errors) == {"1", "5"}
    assert Purchase.objects.count() == 1


def test_references_are_checked_once_the_items_are_well_formed(api, customer):
    factories.PurchaseFactory(order_id="TAKEN")
    payload = [
        _purchase(customer, "OK-1"),
        _purchase(customer, "TAKEN"),
        {**_purchase(customer, "NOBODY"), "customer": 999999},
        _purchase(customer, "OK-1"),
    ]

    response = api.post(PURCHASES, payload, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "1": {"order_id": ["A purchase with this order id already exists."]},
        "2": {"customer": ["No customer has this id."]},
        "3": {"order_id": ["This order id appears twice in the request."]},
    }
    assert Purchase.objects.count() == 1


@pytest.mark.parametrize("payload", [{"order_id": "X"}, "text", [], 5])
def test_the_bulk_endpoint_wants_a_non_empty_list(api, payload):
    response = api.post(PURCHASES, payload, format="json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_a_batch_over_the_limit_is_refused(api, customer):
    payload = [_purchase(customer, f"O-{n}") for n in range(1001)]

    response = api.post(PURCHASES, payload, format="json")

    assert response.status_code == 400
    assert not Purchase.objects.exists()


def test_purchases_are_listed_per_customer(api, customer):
    mine = factories.PurchaseFactory(customer=customer)
    factories.PurchaseFactory()

    rows = api.get(f"{PURCHASES}?customer={customer.pk}").json()["results"]

    assert [row["id"] for row in rows] == [mine.pk]
    assert api.get(PURCHASES).json()["count"] == 2


# Tags


def test_tags_are_listed_by_name(api):
    factories.TagFactory(name="zeta")
    factories.TagFactory(name="alpha")

    rows = api.get(TAGS).json()["results"]

    assert [row["name"] for row in rows] == ["alpha", "zeta"]


def test_a_tag_is_created_with_a_normalised_name(api):
    response = api.post(TAGS, {"name": " VIP ", "colour": "#ff0000"}, format="json")

    assert response.status_code == 201, response.content
    assert Tag.objects.get().name == "vip"
    assert response.json()["colour"] == "#ff0000"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "Billing"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 51}, "name"),
        ({"name": "ok", "colour": "red"}, "colour"),
    ],
)
def test_bad_tags_are_field_errors(api, payload, field):
    factories.TagFactory(name="billing")

    response = api.post(TAGS, payload, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert Tag.objects.count() == 1
