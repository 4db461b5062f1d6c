"""A ticket created through the REST API is routed by a real Celery worker over Redis."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tickets.models import Ticket


@pytest.fixture
def token_client(agent):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=agent).key}")
    return client


def test_ticket_created_via_the_api_is_routed_by_the_worker(
    live_celery, postgres, token_client, wait_until
):
    # when
    response = token_client.post(
        "/api/tickets/",
        {"customer_email": "ann@example.com", "subject": "Invoice twice", "body_text": "Twice!"},
        format="json",
    )

    # then: the request only enqueued the routing; the worker process ran it
    assert response.status_code == 201, response.content
    ticket_id = response.json()["id"]
    wait_until(
        lambda: Ticket.objects.filter(pk=ticket_id, routed_at__isnull=False).exists(),
        what="the worker to route the ticket",
    )
    assert "route_ticket_task[" in live_celery.log()
    assert "succeeded" in live_celery.log()
