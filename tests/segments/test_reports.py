"""Every figure of the per-segment report against an independent pandas computation on the same
generated data, read back from the database with plain queries."""

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from segments import report_selectors, reports
from segments.models import Membership, Segment, Segmentation, SegmentRun
from surveys.models import SurveyInvitation, SurveyResponse
from tests.factories import CustomerFactory, TeamFactory
from tickets.models import Customer, Purchase, Ticket

PERIOD = reports.Period(start=date(2025, 3, 1), end=date(2025, 3, 31))
NOW = datetime(2025, 4, 10, 12, tzinfo=UTC)
DATA_START = datetime(2025, 1, 10, tzinfo=UTC)
DATA_DAYS = 95
CHANNELS = ["email", "web", "chat", "phone"]


def _moment(rng, days: float = DATA_DAYS) -> datetime:
    return DATA_START + timedelta(seconds=int(rng.integers(0, int(days * 86400))))


def generate(*, seed: int, segment_count: int, customer_count: int, ticket_count: int):
    """Customers in ``segment_count`` segments of a current run (a few outside it), with tickets,
    CSAT on both scales, NPS and purchases spread over and around ``PERIOD``."""
    rng = np.random.default_rng(seed)
    teams = [TeamFactory() for _ in range(3)]
    customers = CustomerFactory.create_batch(customer_count)
    segmentation = Segmentation.objects.get(slug="behaviour")
    run = SegmentRun.objects.create(
        segmentation=segmentation, as_of="2025-03-31", state=SegmentRun.State.SUCCEEDED
    )
    segments = Segment.objects.bulk_create(
        Segment(segmentation=segmentation, slug=f"s{n}", name=f"Segment {n}", position=n)
        for n in range(segment_count)
    )
    Membership.objects.bulk_create(
        Membership(run=run, segment=segments[n % segment_count], customer=customer)
        for n, customer in enumerate(customers[:-3])
    )
    segmentation.current_run = run
    segmentation.save(update_fields=["current_run"])

    tickets = []
    for _ in range(ticket_count):
        created = _moment(rng)
        responded = created + timedelta(hours=float(rng.exponential(6)))
        solved = responded + timedelta(hours=float(rng.exponential(30)))
        due = created + timedelta(hours=float(rng.choice([4, 8, 24])))
        tickets.append(
            Ticket(
                subject="generated",
                customer=customers[rng.integers(customer_count)],
                team=None if rng.random() < 0.2 else teams[rng.integers(len(teams))],
                channel=CHANNELS[rng.integers(len(CHANNELS))],
                status=Ticket.Status.SOLVED,
                created_at=created,
                updated_at=created,
                first_response_at=responded if rng.random() < 0.85 else None,
                solved_at=solved if rng.random() < 0.7 else None,
                first_response_due_at=due if rng.random() < 0.6 else None,
                resolution_due_at=due + timedelta(days=2) if rng.random() < 0.5 else None,
            )
        )
    tickets = Ticket.objects.bulk_create(tickets)

    invitations, scores = [], []
    for ticket in tickets:
        if rng.random() < 0.6:
            scale = "stars" if rng.random() < 0.7 else "faces"
            invitations.append(
                SurveyInvitation(
                    kind="csat",
                    scale=scale,
                    customer_id=ticket.customer_id,
                    ticket=ticket,
                    team_id=ticket.team_id if rng.random() < 0.9 else None,
                )
            )
            scores.append(int(rng.integers(1, 6 if scale == "stars" else 4)))
    for n, customer in enumerate(customers):
        if rng.random() < 0.7:
            invitations.append(
                SurveyInvitation(
                    kind="nps", scale="zero_to_ten", customer=customer, period_key=f"p{n}"
                )
            )
            scores.append(int(rng.integers(0, 11)))
    invitations = SurveyInvitation.objects.bulk_create(invitations)
    SurveyResponse.objects.bulk_create(
        SurveyResponse(invitation=invitation, score=score, answered_at=_moment(rng))
        for invitation, score in zip(invitations, scores, strict=True)
    )

    Purchase.objects.bulk_create(
        Purchase(
            order_id=f"G{seed}-{n}",
            customer=customers[rng.integers(customer_count)],
            ordered_at=_moment(rng) - timedelta(days=30),
            amount="10.00",
        )
        for n in range(customer_count * 3)
    )
    return segmentation


# -- the independent computation --------------------------------------------------------------


def frames(segmentation: Segmentation) -> dict[str, pd.DataFrame]:
    run_id = segmentation.current_run_id
    membership = pd.DataFrame.from_records(
        Membership.objects.filter(run_id=run_id).values("customer_id", "segment_id"),
        columns=["customer_id", "segment_id"],
    )
    segment_of = membership.set_index("customer_id")["segment_id"]
    tickets = pd.DataFrame.from_records(
        Ticket.objects.values(
            "customer_id",
            "team_id",
            "channel",
            "created_at",
            "first_response_at",
            "solved_at",
            "first_response_due_at",
            "resolution_due_at",
        )
    )
    tickets["segment"] = tickets["customer_id"].map(segment_of).fillna(0).astype(int)
    responses = pd.DataFrame.from_records(
        SurveyResponse.objects.values(
            "score",
            "answered_at",
            "invitation__kind",
            "invitation__scale",
            "invitation__customer_id",
            "invitation__team_id",
            "invitation__ticket__channel",
        )
    )
    responses["segment"] = (
        responses["invitation__customer_id"].map(segment_of).fillna(0).astype(int)
    )
    purchases = pd.DataFrame.from_records(Purchase.objects.values("customer_id", "ordered_at"))
    purchases["segment"] = purchases["customer_id"].map(segment_of).fillna(0).astype(int)
    return {
        "membership": membership,
        "tickets": tickets,
        "responses": responses,
        "purchases": purchases,
    }


def in_period(moments: pd.Series, period: reports.Period) -> pd.Series:
    start = pd.Timestamp(period.start, tz="UTC")
    return (moments >= start) & (moments < start + pd.Timedelta(days=period.days))


def expected_ticket_figures(tickets: pd.DataFrame) -> dict:
    hours = pd.Timedelta(hours=1)
    missed = (
        (tickets["first_response_at"] > tickets["first_response_due_at"])
        | (tickets["solved_at"] > tickets["resolution_due_at"])
        | (tickets["first_response_at"].isna() & (tickets["first_response_due_at"] < NOW))
        | (tickets["solved_at"].isna() & (tickets["resolution_due_at"] < NOW))
    )
    with_target = tickets["first_response_due_at"].notna() | tickets["resolution_due_at"].notna()
    counted = int(with_target.sum())
    return {
        "tickets": len(tickets),
        "median_first_response_hours": _none(
            ((tickets["first_response_at"] - tickets["created_at"]) / hours).median()
        ),
        "median_resolution_hours": _none(
            ((tickets["solved_at"] - tickets["created_at"]) / hours).median()
        ),
        "sla_tickets": counted,
        "sla_met_percent": 100 * (counted - int((with_target & missed).sum())) / counted
        if counted
        else None,
    }


def expected_csat(responses: pd.DataFrame) -> dict:
    csat = responses[responses["invitation__kind"] == "csat"]
    stars = csat["invitation__scale"] == "stars"
    on_five = csat["score"].where(stars, 1 + (csat["score"] - 1) * 2)
    satisfied = (stars & (csat["score"] >= 4)) | (~stars & (csat["score"] >= 3))
    return {
        "csat_responses": len(csat),
        "csat_satisfied_percent": 100 * satisfied.mean() if len(csat) else None,
        "csat_mean": _none(on_five.mean()),
    }


def expected_customer_figures(
    data: dict, tickets: pd.DataFrame, responses: pd.DataFrame, customers: int, segment
) -> dict:
    nps = responses[responses["invitation__kind"] == "nps"]
    purchases = data["purchases"]
    if segment is not None:
        purchases = purchases[purchases["segment"] == segment]
    current = purchases[in_period(purchases["ordered_at"], PERIOD)].groupby("customer_id").size()
    previous = purchases[in_period(purchases["ordered_at"], PERIOD.previous)]
    previous_buyers = set(previous["customer_id"])
    return {
        "customers": customers,
        "contact_rate": len(tickets) / customers if customers else None,
        "nps_responses": len(nps),
        "nps": 100 * ((nps["score"] >= 9).mean() - (nps["score"] <= 6).mean())
        if len(nps)
        else None,
        "buyers": len(current),
        "repeat_purchase_percent": 100 * (current >= 2).mean() if len(current) else None,
        "previous_buyers": len(previous_buyers),
        "retention_percent": 100 * len(previous_buyers & set(current.index)) / len(previous_buyers)
        if previous_buyers
        else None,
    }


def satisfaction_by_channel(responses: pd.DataFrame) -> dict:
    csat = responses[responses["invitation__kind"] == "csat"]
    stars = csat["invitation__scale"] == "stars"
    satisfied = (stars & (csat["score"] >= 4)) | (~stars & (csat["score"] >= 3))
    return (100 * satisfied.groupby(csat["invitation__ticket__channel"]).mean()).to_dict()


def _none(value):
    return None if pd.isna(value) else float(value)


def assert_row(line: reports.Row, expected: dict) -> None:
    for name, value in expected.items():
        got = getattr(line, name)
        if value is None:
            assert got is None, (line.label, name, got)
        else:
            assert got == pytest.approx(value, rel=1e-6, abs=1e-4), (line.label, name, got, value)


# -- the tests ---------------------------------------------------------------------------------


pytestmark = pytest.mark.usefixtures("empty_cache")


@pytest.fixture
def generated(db):
    return generate(seed=7, segment_count=3, customer_count=60, ticket_count=400)


def test_every_figure_matches_an_independent_pandas_computation(generated):
    # given
    data = frames(generated)
    tickets = data["tickets"][in_period(data["tickets"]["created_at"], PERIOD)]
    responses = data["responses"][in_period(data["responses"]["answered_at"], PERIOD)]
    sizes = data["membership"].groupby("segment_id").size()

    # when
    report = report_selectors.compute_segment_report(segmentation=generated, period=PERIOD, now=NOW)

    # then: overall
    assert_row(report.overall, expected_ticket_figures(tickets) | expected_csat(responses))
    assert_row(
        report.overall,
        expected_customer_figures(data, tickets, responses, Customer.objects.count(), None),
    )
    mix = tickets["channel"].value_counts(normalize=True) * 100
    assert report.overall.channel_mix == pytest.approx(mix.to_dict())
    assert report.overall.channel_satisfaction == pytest.approx(satisfaction_by_channel(responses))

    # then: each segment beside it, and the customers outside the run
    by_key = {line.key: line for line in report.segments}
    assert set(by_key) == {*sizes.index, reports.UNSEGMENTED}
    for key, line in by_key.items():
        segment_tickets = tickets[tickets["segment"] == key]
        segment_responses = responses[responses["segment"] == key]
        customers = int(sizes.get(key, 0))
        assert_row(
            line, expected_ticket_figures(segment_tickets) | expected_csat(segment_responses)
        )
        assert_row(
            line,
            expected_customer_figures(
                data, segment_tickets, segment_responses, customers or None, key
            )
            | {"customers": customers},
        )
        mix = segment_tickets["channel"].value_counts(normalize=True) * 100
        assert line.channel_mix == pytest.approx(mix.to_dict())
        assert line.channel_satisfaction == pytest.approx(
            satisfaction_by_channel(segment_responses)
        )

    # then: per team (tickets by the ticket's team, CSAT by the team credited on the survey)
    csat = responses[responses["invitation__kind"] == "csat"]
    teams = {line.key: line for line in report.teams}
    ticket_team = tickets["team_id"].fillna(0).astype(int)
    csat_team = csat["invitation__team_id"].fillna(0).astype(int)
    assert set(teams) == set(ticket_team) | set(csat_team)
    for key, line in teams.items():
        assert_row(
            line,
            expected_ticket_figures(tickets[ticket_team == key])
            | expected_csat(csat[csat_team == key]),
        )
        assert line.contact_rate is None and line.nps is None
        assert isinstance(line.tickets, int)

    # then: per channel
    channels = {line.key: line for line in report.by_channel}
    assert set(channels) == set(tickets["channel"])
    for key, line in channels.items():
        assert_row(
            line,
            expected_ticket_figures(tickets[tickets["channel"] == key])
            | expected_csat(csat[csat["invitation__ticket__channel"] == key]),
        )

    # then: weekly series (weeks start on Monday)
    week_of = tickets["created_at"].dt.tz_localize(None).dt.to_period("W-SUN").dt.start_time
    weekly = tickets.groupby(week_of.dt.date).size()
    answered_week = csat["answered_at"].dt.tz_localize(None).dt.to_period("W-SUN").dt.start_time
    assert {w.start: w.tickets for w in report.weeks if w.tickets} == weekly.to_dict()
    for week in report.weeks:
        assert_row(week, expected_csat(csat[answered_week.dt.date == week.start]))


def test_retention_counts_customers_who_bought_in_both_periods(db):
    # given: one buyer in both periods (twice now), one only before, one only now
    both, lapsed, new = CustomerFactory.create_batch(3)
    moments = {
        both: ["2025-02-10", "2025-03-05", "2025-03-20"],
        lapsed: ["2025-02-01"],
        new: ["2025-03-31T23:00"],
    }
    Purchase.objects.bulk_create(
        Purchase(
            order_id=f"{customer.pk}-{n}",
            customer=customer,
            ordered_at=datetime.fromisoformat(moment).replace(tzinfo=UTC),
            amount="5",
        )
        for customer, days in moments.items()
        for n, moment in enumerate(days)
    )

    # when
    report = report_selectors.compute_segment_report(segmentation=None, period=PERIOD, now=NOW)

    # then
    line = report.overall
    assert (line.buyers, line.previous_buyers) == (2, 2)
    assert line.retention_percent == 50.0
    assert line.repeat_purchase_percent == 50.0
    assert report.segments == []


def test_the_number_of_queries_does_not_grow_with_segments(db, django_assert_max_num_queries):
    small = generate(seed=1, segment_count=3, customer_count=12, ticket_count=40)
    with django_assert_max_num_queries(20) as small_queries:
        report_selectors.compute_segment_report(segmentation=small, period=PERIOD, now=NOW)
    Segmentation.objects.filter(pk=small.pk).update(current_run=None)
    Segment.objects.filter(segmentation=small).delete()

    large = generate(seed=2, segment_count=30, customer_count=120, ticket_count=400)
    with django_assert_max_num_queries(len(small_queries)) as large_queries:
        report = report_selectors.compute_segment_report(segmentation=large, period=PERIOD, now=NOW)

    assert len(large_queries) == len(small_queries)
    assert len([line for line in report.segments if line.key != reports.UNSEGMENTED]) == 30


def test_a_report_is_cached_until_the_segmentation_gets_a_new_run(
    generated, django_assert_num_queries
):
    first = report_selectors.segment_report(segmentation=generated, period=PERIOD, now=NOW)

    with django_assert_num_queries(0):
        again = report_selectors.segment_report(segmentation=generated, period=PERIOD, now=NOW)
    assert again == first

    new_run = SegmentRun.objects.create(segmentation=generated, as_of="2025-04-01")
    generated.current_run = new_run
    fresh = report_selectors.segment_report(segmentation=generated, period=PERIOD, now=NOW)
    assert [line.key for line in fresh.segments] == [reports.UNSEGMENTED]  # nobody in it yet


def test_a_period_ending_before_it_starts_is_refused():
    with pytest.raises(Exception, match="end date"):
        reports.Period(start=date(2025, 3, 2), end=date(2025, 3, 1))
