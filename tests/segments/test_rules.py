import pandas as pd
import pytest
from django.core.exceptions import ValidationError

from segments import rules


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "tickets_90d": [0, 4, 7, 2],
            "share_chat": [0.0, 0.8, 0.5, 1.0],
            "plan": ["basic", "Pro", "pro", "enterprise"],
            "country": ["DE", "FR", "DE", "US"],
        },
        index=[1, 2, 3, 4],
    )


@pytest.mark.parametrize(
    ("criterion", "expected"),
    [
        ({"field": "tickets_90d", "op": ">", "value": 3}, [2, 3]),
        ({"field": "tickets_90d", "op": ">=", "value": "4"}, [2, 3]),
        ({"field": "tickets_90d", "op": "<", "value": 2}, [1]),
        ({"field": "tickets_90d", "op": "<=", "value": 2}, [1, 4]),
        ({"field": "tickets_90d", "op": "=", "value": 7}, [3]),
        ({"field": "tickets_90d", "op": "!=", "value": 7}, [1, 2, 4]),
        ({"field": "tickets_90d", "op": "in", "value": [0, 2]}, [1, 4]),
        ({"field": "plan", "op": "=", "value": "PRO"}, [2, 3]),
        ({"field": "plan", "op": "!=", "value": "pro"}, [1, 4]),
        ({"field": "country", "op": "in", "value": "de, us"}, [1, 3, 4]),
        ({"field": "plan", "op": "contains", "value": "ent"}, [4]),
    ],
)
def test_operators(frame, criterion, expected):
    matched = rules.matches(frame, [criterion])

    assert list(frame.index[matched]) == expected


def test_all_and_any(frame):
    criteria = [
        {"field": "tickets_90d", "op": ">", "value": 3},
        {"field": "share_chat", "op": ">", "value": 0.6},
    ]

    assert list(frame.index[rules.matches(frame, criteria, "all")]) == [2]
    assert list(frame.index[rules.matches(frame, criteria, "any")]) == [2, 3, 4]


@pytest.mark.parametrize(
    ("criterion", "message"),
    [
        ({"field": "nope", "op": "=", "value": 1}, "unknown field 'nope'"),
        ({"field": "plan", "op": "~", "value": 1}, "unknown operator '~'"),
        ({"field": "plan", "op": "=", "value": " "}, "a value is required"),
        ({"field": "plan", "op": "in", "value": []}, "needs at least one value"),
        ({"field": "plan", "op": ">", "value": "a"}, "plan is text"),
        ({"field": "tickets_90d", "op": ">", "value": "many"}, "'many' is not"),
        ({"field": "tickets_90d", "op": "contains", "value": "1"}, "tickets_90d is a number"),
    ],
)
def test_bad_criteria_are_clear_errors(frame, criterion, message):
    with pytest.raises(ValidationError, match=message):
        rules.matches(frame, [criterion])


def test_no_criteria_is_an_error(frame):
    with pytest.raises(ValidationError, match="at least one criterion"):
        rules.matches(frame, [])


def test_first_matching_segment_wins(frame):
    segments = [
        ([{"field": "tickets_90d", "op": ">", "value": 5}], "all"),
        ([{"field": "share_chat", "op": ">", "value": 0.4}], "all"),
    ]

    assert rules.assign_first_match(frame, segments).tolist() == [-1, 1, 0, 1]
