"""Full-text search of the inbox on real PostgreSQL, through the GIN expression index."""

import pytest
from django.db import connection

from tests import factories
from tickets import selectors, services

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def tickets(postgres):
    customer = factories.CustomerFactory()
    invoice = services.create_ticket(
        customer=customer, subject="Question about my invoice", body_text="Hello there"
    )
    refund = services.create_ticket(
        customer=customer, subject="Broken kettle", body_text="Hello, the lid broke off"
    )
    services.record_inbound_message(ticket=refund, body_text="I would like my money refunded.")
    unrelated = services.create_ticket(
        customer=customer, subject="Login trouble", body_text="I cannot sign in to my account"
    )
    return {"invoice": invoice, "refund": refund, "unrelated": unrelated}


def _search(user, text):
    page = selectors.inbox_page(user=user, filters={"q": text, "status": "any"})
    return {ticket.pk for ticket in page.rows}


def test_search_matches_subject_and_later_messages_with_stemming(agent, tickets):
    assert _search(agent, "invoices") == {tickets["invoice"].pk}
    assert _search(agent, "refund") == {tickets["refund"].pk}
    assert _search(agent, "kettle lid") == {tickets["refund"].pk}
    assert _search(agent, '"sign in" -kettle') == {tickets["unrelated"].pk}
    assert _search(agent, "nothing-like-this") == set()


def test_search_uses_the_gin_index(agent, tickets):
    queryset = selectors.filtered_tickets(user=agent, filters={"q": "refund", "status": "any"})
    with connection.cursor() as cursor:
        # A handful of rows is cheaper to scan; make the planner show which index it would use.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()

    assert "ticket_search_fts" in plan, plan
