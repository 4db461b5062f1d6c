import random
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from surveys import selectors
from surveys.models import SurveyInvitation, SurveyResponse
from tests import factories


def _answer(*, kind="csat", scale="stars", score, agent=None, team=None, answered_at=None):
    customer = factories.CustomerFactory()
    ticket = factories.TicketFactory(customer=customer) if kind == "csat" else None
    invitation = SurveyInvitation.objects.create(
        kind=kind, scale=scale, customer=customer, ticket=ticket, agent=agent, team=team
    )
    return SurveyResponse.objects.create(
        invitation=invitation,
        score=score,
        answered_at=answered_at or datetime(2025, 3, 10, 12, tzinfo=UTC),
    )


def test_nps_is_percent_promoters_minus_percent_detractors(db):
    # given: 3 promoters, 2 passives, 5 detractors
    for score in (9, 10, 10, 7, 8, 0, 3, 5, 6, 6):
        _answer(kind="nps", scale="zero_to_ten", score=score)

    # then: (3 - 5) / 10
    assert selectors.nps_score(selectors.responses(kind="nps")) == -20.0


def test_nps_matches_an_independent_computation_on_random_answers(db):
    rng = random.Random(7)
    scores = [rng.randint(0, 10) for _ in range(200)]
    for score in scores:
        _answer(kind="nps", scale="zero_to_ten", score=score)
    series = pd.Series(scores)
    expected = 100 * ((series >= 9).mean() - (series <= 6).mean())

    assert selectors.nps_score(selectors.responses(kind="nps")) == pytest.approx(expected, abs=0.05)


def test_nps_without_answers_is_none(db):
    assert selectors.nps_score(selectors.responses(kind="nps")) is None


def test_nps_ignores_csat_answers(db):
    _answer(kind="nps", scale="zero_to_ten", score=10)
    _answer(score=1)

    assert selectors.nps_score(selectors.responses(kind="nps")) == 100.0


def test_csat_summary_puts_three_point_answers_on_the_five_point_scale(db):
    # given: stars 5 and 2, faces good (3 -> 5) and okay (2 -> 3)
    _answer(score=5)
    _answer(score=2)
    _answer(scale="faces", score=3)
    _answer(scale="faces", score=2)

    summary = selectors.csat_summary(selectors.responses(kind="csat"))

    assert summary.responses == 4
    assert summary.satisfied_percent == 50.0  # 5 stars and "good"
    assert summary.mean_score == pytest.approx((5 + 2 + 5 + 3) / 4)


def test_csat_by_agent_and_team_matches_pandas_on_random_answers(db):
    # given
    agents = [factories.AgentFactory() for _ in range(3)]
    teams = [factories.TeamFactory() for _ in range(2)]
    rng = random.Random(11)
    rows = []
    for _ in range(60):
        agent, team = rng.choice([*agents, None]), rng.choice([*teams, None])
        score = rng.randint(1, 5)
        day = date(2025, 3, 1) + timedelta(days=rng.randint(0, 30))
        answered_at = datetime(day.year, day.month, day.day, 23, 59, tzinfo=UTC)
        _answer(score=score, agent=agent, team=team, answered_at=answered_at)
        rows.append(
            {"agent": agent and agent.pk, "team": team and team.pk, "score": score, "day": day}
        )
    frame = pd.DataFrame(rows)
    start, end = date(2025, 3, 5), date(2025, 3, 20)
    in_range = frame[(frame.day >= start) & (frame.day <= end)]

    # when
    overview = selectors.csat_by_agent_and_team(start=start, end=end)

    # then
    for key, table in (("agent", overview.agents), ("team", overview.teams)):
        expected = in_range.groupby(in_range[key].fillna(-1)).agg(
            n=("score", "size"), mean=("score", "mean"), sat=("score", lambda s: (s >= 4).mean())
        )
        got = {(-1 if row.key is None else row.key): row for row in table}
        assert set(got) == set(expected.index)
        for group, values in expected.iterrows():
            assert got[group].responses == values.n
            assert got[group].mean_score == pytest.approx(values["mean"], abs=0.005)
            assert got[group].satisfied_percent == pytest.approx(100 * values.sat, abs=0.05)
    assert overview.overall.responses == len(in_range)


def test_csat_by_agent_and_team_labels_missing_credit(db):
    _answer(score=4)

    overview = selectors.csat_by_agent_and_team(start=date(2025, 3, 10), end=date(2025, 3, 10))

    assert [row.label for row in overview.agents] == ["Unassigned"]
    assert [row.label for row in overview.teams] == ["No team"]


def test_csat_by_agent_and_team_uses_a_constant_number_of_queries(
    db, django_assert_max_num_queries
):
    for _ in range(5):
        _answer(score=4, agent=factories.AgentFactory(), team=factories.TeamFactory())

    with django_assert_max_num_queries(3):
        selectors.csat_by_agent_and_team(start=date(2025, 3, 1), end=date(2025, 3, 31))
