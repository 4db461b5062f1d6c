"""Segments in the REST API: badges on customers; the segment filter of customers and tickets."""

import pytest

from segments.models import Membership, Segment, Segmentation
from tests.factories import CustomerFactory, TicketFactory
from tests.segments.test_views import current_run_with_members

CUSTOMERS = "/api/customers/"
TICKETS = "/api/tickets/"


def members_of(segment: Segment) -> list[int]:
    return sorted(Membership.objects.filter(segment=segment).values_list("customer_id", flat=True))


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


def test_customers_carry_their_current_segment_badges(api):
    _, segment = current_run_with_members(2)
    outsider = CustomerFactory()

    body = {row["id"]: row for row in api.get(CUSTOMERS).json()["results"]}
    member = members_of(segment)[0]

    assert body[member]["badges"] == [
        {
            "group": "Behaviour",
            "group_slug": "behaviour",
            "label": "Big spenders",
            "slug": "big-spenders",
            "colour": "#16a34a",
        }
    ]
    assert body[outsider.pk]["badges"] == []
    assert api.get(f"{CUSTOMERS}{member}/").json()["badges"][0]["label"] == "Big spenders"


def test_the_customer_list_filters_by_segment(api):
    _, segment = current_run_with_members(3)
    CustomerFactory.create_batch(2)

    response = api.get(CUSTOMERS, {"segment": "behaviour/big-spenders"})

    assert ids(response) == members_of(segment)


def test_the_ticket_list_filters_by_segment(api):
    _, segment = current_run_with_members(2)
    inside = [TicketFactory(customer_id=pk) for pk in members_of(segment)]
    TicketFactory()

    response = api.get(TICKETS, {"segment": "behaviour/big-spenders"})

    assert ids(response) == sorted(t.pk for t in inside)


@pytest.mark.parametrize("value", ["behaviour/nope", "nope", "rfm/big-spenders"])
def test_an_unknown_segment_matches_nobody(api, value):
    current_run_with_members(2)
    TicketFactory(customer_id=members_of(Segment.objects.get())[0])

    assert ids(api.get(CUSTOMERS, {"segment": value})) == []
    assert ids(api.get(TICKETS, {"segment": value})) == []


@pytest.mark.parametrize("url", [CUSTOMERS, TICKETS])
def test_an_overlong_segment_value_is_a_400(api, url):
    response = api.get(url, {"segment": "x" * 201})

    assert response.status_code == 400
    assert "segment" in response.json()


def test_the_customer_list_query_count_does_not_grow_with_badges(
    api, django_assert_max_num_queries, django_assert_num_queries
):
    _, segment = current_run_with_members(5)
    rfm = Segmentation.objects.get(slug="rfm")
    api.get(CUSTOMERS)  # warms the process's snapshots, as every request after the first
    with django_assert_max_num_queries(6) as queries:
        assert len(api.get(CUSTOMERS).json()["results"]) == 5
    few = len(queries.captured_queries)  # read before the next request resets the log

    customers = CustomerFactory.create_batch(45)
    Membership.objects.bulk_create(
        Membership(run_id=segment.segmentation.current_run_id, segment=segment, customer=c)
        for c in customers
    )
    assert rfm.current_run is None

    with django_assert_num_queries(few):
        rows = api.get(CUSTOMERS).json()["results"]
    assert len(rows) == 50
    assert all(row["badges"][0]["slug"] == "big-spenders" for row in rows)


def test_the_schema_documents_badges_and_the_segment_filter(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()

    customer = schema["components"]["schemas"]["Customer"]["properties"]
    assert customer["badges"]["readOnly"] is True
    assert customer["badges"]["items"]["$ref"].endswith("/Badge")
    for path in ("/api/customers/", "/api/tickets/"):
        names = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert "segment" in names
