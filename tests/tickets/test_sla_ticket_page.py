"""The ticket page's SLA card: the policy and both targets with their state, computed the way
the inbox pill computes them, as machine-readable <time> elements."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.tickets.test_views_ticket import TICKET_MAX_QUERIES
from tests.tickets.views_support import count_queries, only_test_extensions, warm
from tickets import selectors
from tickets.models import SLAPolicy, Ticket
from tickets.services.sla import apply_sla_policy, save_sla_policy

__all__ = ["only_test_extensions"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_test_extensions")]

# Half a minute past the whole minute, so a slow test still reads the same minutes.
SLACK = timedelta(seconds=30)


@pytest.fixture
def gold():
    return SLAPolicy.objects.create(name="Gold")


def _page(client, ticket) -> str:
    response = client.get(reverse("tickets:ticket", args=[ticket.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _clock(page: str, target: str) -> str:
    found = re.search(
        rf'<dd data-testid="sla-clock" data-target="{target}"[^>]*>(.*?)</dd>', page, re.S
    )
    assert found, f"no {target} clock"
    return re.sub(r"<[^>]+>", "", found.group(0)).strip()


def _state(page: str, target: str) -> str:
    return re.search(rf'data-target="{target}" data-sla-state="(\w+)"', page).group(1)


def test_a_met_first_response_and_a_running_resolution_clock(agent_client, gold):
    now = timezone.now()
    ticket = factories.TicketFactory(
        status=Ticket.Status.OPEN,
        sla_policy=gold,
        first_response_at=now - timedelta(hours=1),
        first_response_due_at=now - timedelta(minutes=30),
        resolution_due_at=now + timedelta(hours=2, minutes=10) + SLACK,
    )

    page = _page(agent_client, ticket)

    assert 'data-testid="sla-policy">Gold<' in page
    assert _state(page, "first response") == "met"
    local = timezone.localtime(ticket.first_response_at)
    assert _clock(page, "first response") == f"Met at {local:%-d %b, %H:%M}"
    assert f'<time datetime="{local.isoformat()}"' in page
    assert _state(page, "resolution") == "on_track"
    assert _clock(page, "resolution") == "On track due in 2 h 10 min"
    due = timezone.localtime(ticket.resolution_due_at).isoformat()
    assert f'<time datetime="{due}" title="' in page


def test_a_missed_first_response_reads_breached_and_how_long_ago(agent_client, gold):
    now = timezone.now()
    ticket = factories.TicketFactory(
        sla_policy=gold,
        first_response_due_at=now - timedelta(minutes=35) - SLACK,
        resolution_due_at=now + timedelta(minutes=20) + SLACK,
    )

    page = _page(agent_client, ticket)

    assert _state(page, "first response") == "breached"
    assert _clock(page, "first response") == "Breached 35 min ago"
    assert _state(page, "resolution") == "due_soon"
    assert _clock(page, "resolution") == "Due soon in 20 min"


def test_the_page_and_the_inbox_pill_agree_on_the_next_target(gold):
    now = timezone.now()
    cases = [
        {"first_response_due_at": now - timedelta(minutes=1)},
        {"first_response_due_at": now + timedelta(minutes=30)},
        {"first_response_due_at": now + timedelta(hours=3)},
    ]
    for fields in cases:
        ticket = factories.TicketFactory(sla_policy=gold, **fields)

        page_state = selectors.ticket_sla(ticket).first_response.state
        assert page_state == selectors.sla_due(ticket).state


def test_a_recorded_breach_stays_a_breach_after_a_late_reply(agent_client, gold):
    now = timezone.now()
    due = now - timedelta(hours=3)
    ticket = factories.TicketFactory(
        sla_policy=gold,
        first_response_due_at=due,
        first_response_breached_at=due,
        first_response_at=now - timedelta(hours=1),
    )

    page = _page(agent_client, ticket)

    assert _clock(page, "first response") == "Breached 3 h ago"


def test_a_ticket_closed_without_a_reply_stops_the_first_response_clock(agent_client, gold):
    now = timezone.now()
    ticket = factories.TicketFactory(
        status=Ticket.Status.CLOSED,
        sla_policy=gold,
        closed_at=now - timedelta(days=1),
        first_response_due_at=now - timedelta(hours=2),
        resolution_due_at=now + timedelta(days=2),
    )

    page = _page(agent_client, ticket)

    assert _state(page, "first response") == "stopped"
    assert _clock(page, "first response") == "Stopped: the ticket was closed"
    assert _state(page, "resolution") == "met"


def test_a_ticket_without_a_policy_says_so(agent_client):
    ticket = factories.TicketFactory()

    page = _page(agent_client, ticket)

    assert 'data-testid="sla-none"' in page
    assert 'data-testid="sla-clock"' not in page


def test_a_deleted_policy_keeps_the_due_times_it_set(agent_client, gold):
    ticket = factories.TicketFactory(
        sla_policy=gold, resolution_due_at=timezone.now() + timedelta(days=3, hours=4) + SLACK
    )
    gold.delete()

    page = _page(agent_client, ticket)

    assert 'data-testid="sla-policy">deleted policy<' in page
    assert _clock(page, "first response") == "No target"
    assert _clock(page, "resolution") == "On track due in 3 d 4 h"


def test_the_sla_card_costs_no_query(agent_client, gold, django_assert_max_num_queries):
    without = factories.TicketFactory()
    with_policy = factories.TicketFactory(
        customer=without.customer,
        sla_policy=gold,
        first_response_due_at=timezone.now() + timedelta(hours=1),
    )

    warm(agent_client, reverse("tickets:ticket", args=[with_policy.pk]))
    with django_assert_max_num_queries(TICKET_MAX_QUERIES):
        page = _page(agent_client, with_policy)

    assert 'data-testid="sla-policy">Gold<' in page
    url = reverse("tickets:ticket", args=[without.pk])
    assert count_queries(agent_client, reverse("tickets:ticket", args=[with_policy.pk])) == (
        count_queries(agent_client, url)
    )


def test_a_priority_change_updates_the_card_in_place(agent_client, lead):
    policy = save_sla_policy(
        policy=None,
        name="Gold",
        description="",
        calendar=None,
        is_default=False,
        targets={"normal": (24 * 60, None), "urgent": (30, None)},
        actor=lead,
    )
    ticket = factories.TicketFactory(created_at=timezone.now() - SLACK)
    apply_sla_policy(ticket=ticket, policy=policy, cause="test")

    response = agent_client.post(
        reverse("tickets:properties", args=[ticket.pk]),
        {"status": "open", "priority": "urgent", "tags": ""},
        headers={"HX-Request": "true"},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="ticket-sla" class="card" data-testid="ticket-sla" hx-swap-oob="true"' in page
    assert _state(page, "first response") == "due_soon"
    assert _clock(page, "first response") == "Due soon in 29 min"
