"""The inbox's SLA filter, due-time sort and pills."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.tickets.views_support import only_test_extensions
from tickets.selectors import filtered_tickets

__all__ = ["only_test_extensions"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_test_extensions")]

INBOX = reverse("tickets:inbox")


def _ticket(subject, *, first_due=None, resolution_due=None, responded=False, **fields):
    now = timezone.now()
    return factories.TicketFactory(
        subject=subject,
        first_response_due_at=now + first_due if first_due is not None else None,
        resolution_due_at=now + resolution_due if resolution_due is not None else None,
        first_response_at=now - timedelta(minutes=5) if responded else None,
        **fields,
    )


@pytest.fixture
def tickets():
    return {
        "waiting_late": _ticket("waiting late", first_due=timedelta(minutes=-10)),
        "waiting_soon": _ticket("waiting soon", first_due=timedelta(minutes=20)),
        "answered_late_resolution": _ticket(
            "answered, resolution late",
            first_due=timedelta(minutes=-30),
            resolution_due=timedelta(minutes=-1),
            responded=True,
        ),
        "answered_in_time": _ticket(
            "answered, resolution tomorrow",
            first_due=timedelta(minutes=-30),
            resolution_due=timedelta(days=1),
            responded=True,
        ),
        "flagged": _ticket(
            "flagged earlier",
            resolution_due=timedelta(days=2),
            responded=True,
            first_response_breached_at=timezone.now() - timedelta(hours=1),
        ),
        "no_policy": _ticket("no policy"),
    }


def _subjects(response) -> list[str]:
    return [ticket.subject for ticket in response.context["page"].rows]


def test_breached_shows_missed_targets_including_ones_flagged_before(agent_client, tickets):
    response = agent_client.get(INBOX, {"sla": "breached", "sort": "due"})

    assert response.status_code == 200
    assert _subjects(response) == ["waiting late", "answered, resolution late", "flagged earlier"]


def test_due_soon_is_the_next_target_within_the_hour(agent_client, tickets):
    response = agent_client.get(INBOX, {"sla": "due_soon"})

    assert _subjects(response) == ["waiting soon"]


def test_sort_by_due_takes_the_next_target_and_puts_tickets_without_one_last(agent_client, tickets):
    response = agent_client.get(INBOX, {"sort": "due"})

    assert _subjects(response) == [
        "waiting late",
        "answered, resolution late",
        "waiting soon",
        "answered, resolution tomorrow",
        "flagged earlier",
        "no policy",
    ]


def test_rows_show_the_sla_state(agent_client, tickets):
    html = agent_client.get(INBOX).content.decode()

    assert html.count('data-sla-state="breached"') == 3
    assert html.count('data-sla-state="due_soon"') == 1
    assert html.count('data-sla-state="on_track"') == 1


def test_an_unknown_sla_filter_is_a_form_error_not_a_500(agent_client):
    response = agent_client.get(INBOX, {"sla": "yesterday"})

    assert response.status_code == 400
    assert 'data-testid="filter-errors"' in response.content.decode()


def test_the_inbox_query_count_stays_constant_with_the_sla_filter_and_sort(
    agent_client, django_assert_max_num_queries
):
    for n in range(30):
        _ticket(f"late {n}", first_due=timedelta(minutes=-n - 1), team=factories.TeamFactory())
    with django_assert_max_num_queries(10):
        response = agent_client.get(INBOX, {"sla": "breached", "sort": "due"})
    assert len(response.context["page"].rows) == 30


def test_the_due_sort_is_served_by_the_expression_index(agent):
    tickets = filtered_tickets(user=agent, filters={"status": "any"})
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # A near-empty test table would otherwise be scanned whatever the indexes.
            cursor.execute("SET LOCAL enable_seqscan = off")

    plan = tickets.order_by("sla_next_due", "id").values("id")[:50].explain()

    assert "ticket_sla_next_due" in plan
