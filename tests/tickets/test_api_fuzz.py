"""Property: whatever schemathesis sends to an API operation, from the OpenAPI schema or just
outside it, the answer is never a 5xx and matches the schema's response for its status code.

Bounded for the normal suite; ``API_FUZZ_EXAMPLES=1000`` (per operation) for a long run.
(schemathesis' own pytest plugin does not run under pytest 9, so each operation is one
parametrized case driving the operation's hypothesis strategy.)
"""

import json
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from tests import factories

EXAMPLES_PER_OPERATION = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
# Not status_code_conformance: the schema documents success responses only (drf-spectacular's
# default), so every 400/404 would count; their bodies are covered by the API's own tests.
CHECKS = [
    not_a_server_error,
    content_type_conformance,
    response_schema_conformance,
]


def _load_schema() -> schemathesis.schemas.BaseSchema:
    document = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)))
    schema.app = get_wsgi_application()
    return schema


API_SCHEMA = _load_schema()
OPERATIONS = {result.ok().label: result.ok() for result in API_SCHEMA.get_all_operations()}


@pytest.fixture
def keep_test_connection():
    """The bare WSGI handler closes database connections around each request (Django's test
    client switches that off); on PostgreSQL that would close the test transaction's own."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(db, keep_test_connection) -> str:
    # Real rows for the small ids hypothesis tries first, so operations on existing objects run.
    for ticket in factories.TicketFactory.create_batch(3):
        factories.MessageFactory(ticket=ticket)
        factories.PurchaseFactory(customer=ticket.customer)
    return Token.objects.create(user=factories.AgentFactory()).key


def test_every_api_operation_is_fuzzed():
    assert len(OPERATIONS) >= 17


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_the_api_never_fails_with_a_server_error_and_answers_as_documented(label, token):
    @given(case=OPERATIONS[label].as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def answers_as_documented(case):
        case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)

    answers_as_documented()


def test_a_bulk_purchase_answer_matches_its_documented_schema(token):
    customer = factories.CustomerFactory()
    body = [
        {"order_id": f"A-{number}", "customer": customer.pk, "amount": "9.50",
         "ordered_at": "2026-11-01T10:00:00Z"}
        for number in range(2)
    ]  # fmt: skip
    case = OPERATIONS["POST /api/purchases/"].Case(body=body, media_type="application/json")

    response = case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)

    assert response.status_code == 201
    assert [purchase["order_id"] for purchase in response.json()] == ["A-0", "A-1"]
