"""Full-text search of the inbox on real PostgreSQL, through the stored, GIN-indexed vector."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection

from tests import factories
from tickets import selectors, services
from tickets.models import Ticket

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


def _plan_avoiding(queryset, *methods: str) -> str:
    """The plan of ``queryset`` with the planner told to avoid some ways of reading: with a
    handful of rows any way is cheap, and the plan would show nothing of the indexes."""
    with connection.cursor() as cursor:
        for method in methods:
            cursor.execute(f"SET LOCAL enable_{method} = off")
        return queryset.explain()


def test_search_uses_the_gin_index(agent, tickets):
    queryset = selectors.filtered_tickets(user=agent, filters={"q": "refund", "status": "any"})

    plan = _plan_avoiding(queryset, "seqscan")

    assert "Bitmap Index Scan on ticket_search_vector" in plan, plan


def test_a_sorted_search_tests_the_stored_vector_instead_of_computing_one(agent, tickets):
    # Along the sort's index, as the planner goes when a common word fills a page early.
    queryset = selectors.inbox_tickets(user=agent, filters={"q": "refund", "sort": "updated"})

    plan = _plan_avoiding(queryset, "seqscan", "bitmapscan", "sort")

    assert "Index Scan using ticket_updated on tickets_ticket" in plan, plan
    assert "search_vector @@" in plan, plan
    assert "to_tsvector" not in plan, plan


def test_the_vector_follows_the_text(agent, tickets):
    Ticket.objects.filter(pk=tickets["refund"].pk).update(search_document="Broken kettle")

    assert _search(agent, "refund") == set()
    assert _search(agent, "kettle") == {tickets["refund"].pk}


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_vector_of_tickets_that_existed_before_it(postgres):
    parcel = services.create_ticket(
        customer=factories.CustomerFactory(),
        subject="Lost parcel",
        body_text="My delivery never arrived",
    )
    call_command("migrate", "tickets", "0013", verbosity=0)  # drops the column and triggers
    call_command("migrate", "tickets", verbosity=0)

    found = selectors.search_tickets(Ticket.objects.all(), "deliveries")
    assert list(found.values_list("pk", flat=True)) == [parcel.pk]


def _index_state(name: str) -> tuple[bool, str] | None:
    """Whether the index is valid, and its definition; None when there is no such index."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indisvalid, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indexrelid = to_regclass(%s)",
            [name],
        )
        return cursor.fetchone()


@pytest.mark.django_db(transaction=True)
def test_migrating_back_rebuilds_the_expression_index_over_a_failed_build(postgres):
    customer = factories.CustomerFactory()
    factories.TicketFactory.create_batch(2, customer=customer)
    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        # A concurrent build that fails leaves an invalid index behind under its name.
        cursor.execute(
            "CREATE UNIQUE INDEX CONCURRENTLY ticket_search_fts ON tickets_ticket (customer_id)"
        )
    assert _index_state("ticket_search_fts")[0] is False

    call_command("migrate", "tickets", "0013", verbosity=0)
    try:
        valid, definition = _index_state("ticket_search_fts")
        columns = {column.name for column in _ticket_columns()}
    finally:
        call_command("migrate", "tickets", verbosity=0)

    assert valid, definition
    assert "to_tsvector" in definition
    assert "search_vector" not in columns
    assert _index_state("ticket_search_fts") is None  # forward again: replaced


def _ticket_columns():
    with connection.cursor() as cursor:
        return connection.introspection.get_table_description(cursor, "tickets_ticket")
