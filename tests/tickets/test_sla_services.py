"""SLA policies on tickets: due times, breach flags, notifications to team leads."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk.models import AuditLog
from tests import factories
from tickets.models import BusinessCalendar, SLAPolicy, Ticket
from tickets.services.sla import (
    apply_sla_policy,
    flag_sla_breaches,
    save_business_calendar,
    save_sla_policy,
)
from tickets.services.tickets import reply_to_ticket, update_ticket

pytestmark = pytest.mark.django_db

MONDAY_10_BERLIN = datetime(2025, 6, 2, 8, tzinfo=UTC)


@pytest.fixture
def berlin_office(lead):
    return save_business_calendar(
        calendar=None,
        name="Berlin office",
        timezone_name="Europe/Berlin",
        weekdays=[1, 2, 3, 4, 5],
        opens_at=time(9),
        closes_at=time(17),
        holidays=["2025-12-25"],
        actor=lead,
    )


@pytest.fixture
def business_hours(berlin_office, lead):
    return save_sla_policy(
        policy=None,
        name="Business hours",
        description="B2B",
        calendar=berlin_office,
        is_default=False,
        targets={"normal": (120, 16 * 60), "urgent": (30, None)},
        actor=lead,
    )


@pytest.fixture
def round_the_clock(lead):
    return save_sla_policy(
        policy=None,
        name="24/7",
        description="",
        calendar=None,
        is_default=True,
        targets={"normal": (60, 24 * 60)},
        actor=lead,
    )


def make_ticket(**fields):
    fields.setdefault("created_at", MONDAY_10_BERLIN)
    return factories.TicketFactory(**fields)


class TestApplyPolicy:
    def test_business_hours_due_times_count_only_opening_hours(self, business_hours):
        ticket = make_ticket(created_at=datetime(2025, 6, 6, 14, tzinfo=UTC))  # Fri 16:00 Berlin

        apply_sla_policy(ticket=ticket, policy=business_hours, cause="rule: B2B")

        ticket.refresh_from_db()
        assert ticket.sla_policy == business_hours
        assert ticket.first_response_due_at == datetime(2025, 6, 9, 8, tzinfo=UTC)  # Mon 10:00
        assert ticket.resolution_due_at == datetime(2025, 6, 10, 14, tzinfo=UTC)  # Tue 16:00
        audit = AuditLog.objects.get(action="sla_policy_applied", target_id=ticket.pk)
        assert audit.cause == "rule: B2B"
        assert audit.changes["sla_policy"] == "Business hours"

    def test_round_the_clock_counts_real_time(self, round_the_clock):
        ticket = make_ticket()
        apply_sla_policy(ticket=ticket, policy=round_the_clock, cause="test")
        assert ticket.first_response_due_at == MONDAY_10_BERLIN + timedelta(hours=1)
        assert ticket.resolution_due_at == MONDAY_10_BERLIN + timedelta(days=1)

    def test_a_priority_without_a_target_or_a_missing_target_gives_no_due_time(
        self, business_hours
    ):
        urgent = make_ticket(priority=Ticket.Priority.URGENT)
        low = make_ticket(priority=Ticket.Priority.LOW)
        apply_sla_policy(ticket=urgent, policy=business_hours, cause="test")
        apply_sla_policy(ticket=low, policy=business_hours, cause="test")
        assert urgent.first_response_due_at == MONDAY_10_BERLIN + timedelta(minutes=30)
        assert urgent.resolution_due_at is None
        assert (low.first_response_due_at, low.resolution_due_at) == (None, None)

    def test_a_new_policy_replaces_due_times_and_clears_breach_flags(
        self, business_hours, round_the_clock
    ):
        ticket = make_ticket(first_response_breached_at=MONDAY_10_BERLIN)
        apply_sla_policy(ticket=ticket, policy=business_hours, cause="test")
        ticket.refresh_from_db()
        assert ticket.first_response_breached_at is None
        assert ticket.first_response_due_at == MONDAY_10_BERLIN + timedelta(hours=2)


class TestSavePolicy:
    def test_targets_are_replaced_on_update_and_empty_ones_dropped(self, business_hours, lead):
        save_sla_policy(
            policy=business_hours,
            name="Business hours",
            description="",
            calendar=None,
            is_default=False,
            targets={"high": (15, 60), "low": (None, None)},
            actor=lead,
        )
        targets = list(business_hours.targets.values_list("priority", "first_response_minutes"))
        assert targets == [("high", 15)]

    def test_only_one_policy_is_the_default(self, round_the_clock, business_hours, lead):
        save_sla_policy(
            policy=business_hours,
            name=business_hours.name,
            description="",
            calendar=None,
            is_default=True,
            targets={},
            actor=lead,
        )
        assert list(SLAPolicy.objects.filter(is_default=True)) == [business_hours]

    def test_an_unknown_priority_is_refused(self, lead):
        with pytest.raises(ValidationError, match="Unknown priorities: asap"):
            save_sla_policy(
                policy=None,
                name="x",
                description="",
                calendar=None,
                is_default=False,
                targets={"asap": (1, 2)},
                actor=lead,
            )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone_name", "Mars/Olympus", "Unknown time zone"),
        ("weekdays", [], "at least one weekday"),
        ("weekdays", [0, 8], "at least one weekday"),
        ("closes_at", time(8), "after opening"),
        ("holidays", ["25.12.2025"], "dates like 2025-12-25"),
    ],
)
def test_bad_calendar_values_are_clear_errors(lead, field, value, message):
    values = {
        "timezone_name": "Europe/Berlin",
        "weekdays": [1, 2, 3, 4, 5],
        "opens_at": time(9),
        "closes_at": time(17),
        "holidays": [],
        field: value,
    }
    with pytest.raises(ValidationError, match=message):
        save_business_calendar(calendar=None, name="Office", actor=lead, **values)
    assert not BusinessCalendar.objects.exists()


class TestBreaches:
    @pytest.fixture
    def team(self):
        lead = factories.LeadFactory(username="tier1lead", email="lead@staff.example.com")
        return factories.TeamFactory(lead=lead)

    def _due_ticket(self, policy, team, **fields):
        ticket = make_ticket(team=team, **fields)
        apply_sla_policy(ticket=ticket, policy=policy, cause="test")
        return ticket

    def test_missed_targets_are_flagged_at_their_due_time_and_the_lead_emailed_once(
        self, round_the_clock, team
    ):
        # given one ticket waiting past its first-response target and one still in time
        late = self._due_ticket(round_the_clock, team, subject="Printer on fire")
        in_time = self._due_ticket(
            round_the_clock, team, created_at=MONDAY_10_BERLIN + timedelta(minutes=50)
        )
        now = MONDAY_10_BERLIN + timedelta(minutes=90)

        # when the sweeper runs twice
        first = flag_sla_breaches(now=now)
        second = flag_sla_breaches(now=now)

        # then the late ticket is flagged once, at its due time, and one email went out
        assert first == {"first_response": [late.pk], "resolution": []}
        assert second == {"first_response": [], "resolution": []}
        late.refresh_from_db()
        in_time.refresh_from_db()
        assert late.first_response_breached_at == late.first_response_due_at
        assert in_time.first_response_breached_at is None
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["lead@staff.example.com"]
        assert "Printer on fire" in mail.outbox[0].body
        assert f"/tickets/{late.pk}/" in mail.outbox[0].body

    def test_a_late_reply_is_a_breach_and_an_early_one_is_not(self, round_the_clock, team, agent):
        late = self._due_ticket(round_the_clock, team)
        early = self._due_ticket(round_the_clock, team)
        late.first_response_at = late.first_response_due_at + timedelta(minutes=1)
        early.first_response_at = early.first_response_due_at - timedelta(minutes=1)
        Ticket.objects.bulk_update([late, early], ["first_response_at"])

        flagged = flag_sla_breaches(now=MONDAY_10_BERLIN + timedelta(hours=2))

        assert flagged["first_response"] == [late.pk]

    def test_resolution_breaches_for_open_and_late_solved_tickets_only(self, round_the_clock, team):
        still_open = self._due_ticket(round_the_clock, team, first_response_at=MONDAY_10_BERLIN)
        solved_late = self._due_ticket(
            round_the_clock,
            team,
            status=Ticket.Status.SOLVED,
            first_response_at=MONDAY_10_BERLIN,
            solved_at=MONDAY_10_BERLIN + timedelta(days=2),
        )
        self._due_ticket(
            round_the_clock,
            team,
            status=Ticket.Status.SOLVED,
            first_response_at=MONDAY_10_BERLIN,
            solved_at=MONDAY_10_BERLIN + timedelta(hours=3),
        )

        flagged = flag_sla_breaches(now=MONDAY_10_BERLIN + timedelta(days=3))

        assert sorted(flagged["resolution"]) == sorted([still_open.pk, solved_late.pk])

    def test_a_ticket_solved_without_reply_is_not_a_first_response_breach(
        self, round_the_clock, team
    ):
        self._due_ticket(round_the_clock, team, status=Ticket.Status.CLOSED)
        flagged = flag_sla_breaches(now=MONDAY_10_BERLIN + timedelta(hours=3))
        assert flagged["first_response"] == []

    def test_one_email_per_lead_lists_all_their_breaches_and_teams_without_lead_get_none(
        self, round_the_clock, team
    ):
        self._due_ticket(round_the_clock, team, subject="first")
        self._due_ticket(round_the_clock, team, subject="second")
        self._due_ticket(round_the_clock, factories.TeamFactory(), subject="leaderless")
        self._due_ticket(round_the_clock, None, subject="teamless")

        flagged = flag_sla_breaches(now=MONDAY_10_BERLIN + timedelta(days=2))

        assert len(flagged["first_response"]) == 4
        assert len(mail.outbox) == 1
        body = mail.outbox[0].body
        assert "first" in body and "second" in body and "leaderless" not in body
        assert "first response" in body and "resolution" in body
        assert mail.outbox[0].subject == "SLA breached on 2 tickets"

    def test_a_failed_email_leaves_the_breaches_for_the_next_run(
        self, round_the_clock, team, monkeypatch
    ):
        ticket = self._due_ticket(round_the_clock, team)

        def refuse(self, messages):
            raise OSError("SMTP down")

        monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
        with pytest.raises(OSError):
            flag_sla_breaches(now=MONDAY_10_BERLIN + timedelta(hours=2))

        ticket.refresh_from_db()
        assert ticket.first_response_breached_at is None

    def test_the_flagging_query_count_does_not_grow_with_the_breaches(self, round_the_clock, team):
        def queries_flagging(count: int, now: datetime) -> int:
            for _ in range(count):
                self._due_ticket(round_the_clock, team)
            with CaptureQueriesContext(connection) as queries:
                flagged = flag_sla_breaches(now=now)
            assert len(flagged["first_response"]) == count
            return len(queries)

        one = queries_flagging(1, MONDAY_10_BERLIN + timedelta(hours=2))
        many = queries_flagging(30, MONDAY_10_BERLIN + timedelta(hours=3))

        assert one == many <= 7


def test_an_agent_reply_meets_the_first_response_target(round_the_clock, agent):
    ticket = make_ticket(created_at=datetime.now(UTC))
    factories.MessageFactory(ticket=ticket)
    apply_sla_policy(ticket=ticket, policy=round_the_clock, cause="test")

    reply_to_ticket(ticket=ticket, author=agent, body_text="On it")
    update_ticket(ticket=ticket, actor=agent, status=Ticket.Status.SOLVED)

    flagged = flag_sla_breaches(now=datetime.now(UTC) + timedelta(days=5))
    assert flagged == {"first_response": [], "resolution": []}
