from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from segments import features
from tests.factories import (
    CustomerFactory,
    OrganisationFactory,
    PurchaseFactory,
    TagFactory,
    TicketFactory,
)


def raw(**overrides) -> features.RawData:
    parts = {
        "customers": pd.DataFrame(
            {
                "id": [1, 2, 3],
                "tenure_days": [400, 30, 10],
                "age": [23, None, 70],
                "country": ["de", "", "FR"],
                "plan": ["pro", "", "basic"],
                "org_size": [None, 500, None],
                "org_industry": [None, "Retail", None],
            }
        ),
        "purchases": pd.DataFrame(
            {
                "customer_id": [1, 3],
                "frequency": [4, 1],
                "monetary": [100.0, 7.5],
                "recency_days": [12, 3],
            }
        ),
        "tickets": pd.DataFrame(
            {
                "customer_id": [1, 1, 1, 3],
                "channel": ["chat", "chat", "email", "phone"],
                "recent": [1, 0, 1, 1],
                "first_response_hours": [1.0, 3.0, None, None],
                "resolution_hours": [10.0, None, None, 4.0],
            }
        ),
        "tag_counts": pd.DataFrame(
            {"customer_id": [1, 3], "tag": ["refund", "Late delivery"], "tickets": [2, 1]}
        ),
        "csat": None,
    }
    return features.RawData(**{**parts, **overrides})


def test_purchase_features_and_missing_orders():
    frame = features.build_frame(raw())

    assert frame.loc[1, ["recency_days", "frequency", "monetary", "avg_order_value"]].tolist() == [
        12,
        4,
        100.0,
        25.0,
    ]
    # no orders: zeros, and recency is the tenure
    assert frame.loc[2, ["recency_days", "frequency", "monetary", "avg_order_value"]].tolist() == [
        30,
        0,
        0.0,
        0.0,
    ]


def test_ticket_counts_shares_and_preferred_channel():
    frame = features.build_frame(raw())

    assert frame.loc[1, "tickets_total"] == 3
    assert frame.loc[1, "tickets_90d"] == 2
    assert frame.loc[1, "share_chat"] == pytest.approx(2 / 3)
    assert frame.loc[1, "share_email"] == pytest.approx(1 / 3)
    assert frame.loc[1, "preferred_channel"] == "chat"
    assert frame.loc[1, "tickets_per_month"] == pytest.approx(3 / (400 / features.DAYS_PER_MONTH))
    # fewer than a month of tenure counts as one month
    assert frame.loc[3, "tickets_per_month"] == 1.0
    assert frame.loc[2, ["tickets_total", "share_chat"]].tolist() == [0, 0.0]
    assert frame.loc[2, "preferred_channel"] == "none"


def test_median_hours_missing_is_population_median():
    frame = features.build_frame(raw())

    assert frame.loc[1, "median_first_response_hours"] == 2.0
    # customers 2 and 3 have no answered ticket: the median of the customers who have
    assert frame.loc[2, "median_first_response_hours"] == 2.0
    assert frame.loc[3, "median_resolution_hours"] == 4.0
    assert frame.loc[2, "median_resolution_hours"] == 7.0


def test_profile_attributes_encoded_with_explicit_unknowns():
    frame = features.build_frame(raw())

    assert frame["age_band"].tolist() == ["under 25", "unknown", "65+"]
    assert frame.loc[2, "age"] == 46.5
    assert frame["country"].tolist() == ["DE", "unknown", "FR"]
    assert frame["plan"].tolist() == ["pro", "unknown", "basic"]
    assert frame["org_size"].tolist() == [0.0, 500.0, 0.0]
    assert frame["org_industry"].tolist() == ["unknown", "Retail", "unknown"]


def test_top_tags_become_count_columns():
    frame = features.build_frame(raw())

    assert frame["tag_refund"].tolist() == [2, 0, 0]
    assert frame["tag_late_delivery"].tolist() == [0, 0, 1]


def test_csat_columns_only_with_survey_answers():
    without = features.build_frame(raw())
    csat = pd.DataFrame({"customer_id": [1, 1, 3], "rating": [5, 1, 4], "answered_at": [2, 3, 1]})
    with_csat = features.build_frame(raw(csat=csat))

    assert "csat_avg" not in without.columns
    assert with_csat["csat_avg"].tolist() == [3.0, 3.5, 4.0]
    assert with_csat["csat_last"].tolist() == [1.0, 2.5, 4.0]


def test_no_missing_values_anywhere():
    assert not features.build_frame(raw()).isna().any().any()


def test_model_matrix_one_hot_encodes_categoricals():
    frame = features.build_frame(raw())

    matrix = features.model_matrix(frame, ["monetary", "plan"])

    assert list(matrix.columns) == ["monetary", "plan=basic", "plan=pro", "plan=unknown"]
    assert matrix["plan=pro"].tolist() == [1.0, 0.0, 0.0]


def test_resolve_columns_skips_absent_features_and_defaults():
    frame = features.build_frame(raw())

    assert features.resolve_columns(frame, ["csat_avg", "monetary"]) == ["monetary"]
    assert features.resolve_columns(frame, []) == list(features.DEFAULT_BEHAVIOUR_FEATURES)


def test_age_bands_edges():
    bands = features.age_bands(pd.Series([24, 25, 34, 35, 64, 65, np.nan]))

    assert bands.tolist() == ["under 25", "25-34", "25-34", "35-44", "55-64", "65+", "unknown"]


AS_OF = date(2025, 6, 30)


def at(days_ago: float) -> datetime:
    return datetime(2025, 6, 30, 12, tzinfo=UTC) - timedelta(days=days_ago)


def test_load_feature_frame_from_the_database(db):
    # given
    organisation = OrganisationFactory(size=40, industry="Retail")
    ann = CustomerFactory(signup_date=date(2025, 1, 1), age=30, organisation=organisation)
    bob = CustomerFactory(signup_date=date(2025, 6, 1), plan="")
    PurchaseFactory(customer=ann, amount="10.00", ordered_at=at(40))
    PurchaseFactory(customer=ann, amount="30.50", ordered_at=at(5))
    PurchaseFactory(customer=ann, amount="999.00", ordered_at=at(-3))  # after the reference date
    created = at(100)
    TicketFactory(
        customer=ann,
        channel="chat",
        created_at=created,
        first_response_at=created + timedelta(hours=2),
        solved_at=created + timedelta(hours=30),
    ).tags.add(TagFactory(name="refund"))
    TicketFactory(customer=ann, channel="chat", created_at=at(10))
    TicketFactory(customer=bob, channel="email", created_at=at(1))

    # when
    frame = features.load_feature_frame(as_of=AS_OF)

    # then
    assert frame.loc[ann.pk, "frequency"] == 2
    assert frame.loc[ann.pk, "monetary"] == pytest.approx(40.5)
    assert frame.loc[ann.pk, "recency_days"] == 5
    assert frame.loc[ann.pk, "tenure_days"] == (AS_OF - date(2025, 1, 1)).days
    assert frame.loc[ann.pk, "tickets_total"] == 2
    assert frame.loc[ann.pk, "tickets_90d"] == 1
    assert frame.loc[ann.pk, "share_chat"] == 1.0
    assert frame.loc[ann.pk, "median_first_response_hours"] == pytest.approx(2.0)
    assert frame.loc[ann.pk, "median_resolution_hours"] == pytest.approx(30.0)
    assert frame.loc[ann.pk, "tag_refund"] == 1
    assert frame.loc[ann.pk, ["org_size", "org_industry", "age_band"]].tolist() == [
        40.0,
        "Retail",
        "25-34",
    ]
    assert frame.loc[bob.pk, ["frequency", "recency_days", "preferred_channel"]].tolist() == [
        0,
        29,
        "email",
    ]
    assert frame.loc[bob.pk, "plan"] == "unknown"


def test_load_feature_frame_query_count_does_not_grow_with_customers(
    db, django_assert_max_num_queries
):
    for n in range(30):
        customer = CustomerFactory()
        PurchaseFactory(customer=customer, ordered_at=at(n))
        TicketFactory(customer=customer, created_at=at(n)).tags.add(TagFactory(name=f"t{n % 3}"))

    with django_assert_max_num_queries(6):
        frame = features.load_feature_frame(as_of=AS_OF)

    assert len(frame) == 30


def test_csat_from_survey_answers_on_one_scale(db):
    from surveys.models import SurveyInvitation, SurveyResponse

    ann, bob, cid = CustomerFactory.create_batch(3)

    def answer(customer, kind, scale, score, days_ago):
        invitation = SurveyInvitation.objects.create(kind=kind, scale=scale, customer=customer)
        SurveyResponse.objects.create(invitation=invitation, score=score, answered_at=at(days_ago))

    answer(ann, "csat", "stars", 5, days_ago=20)
    answer(ann, "csat", "stars", 2, days_ago=3)
    answer(bob, "csat", "faces", 3, days_ago=1)
    answer(bob, "nps", "zero_to_ten", 0, days_ago=1)
    answer(cid, "csat", "stars", 1, days_ago=-2)  # after the reference date

    frame = features.load_feature_frame(as_of=AS_OF)

    assert frame.loc[ann.pk, "csat_avg"] == pytest.approx((1.0 + 0.25) / 2)
    assert frame.loc[ann.pk, "csat_last"] == pytest.approx(0.25)
    assert frame.loc[bob.pk, ["csat_avg", "csat_last"]].tolist() == [1.0, 1.0]
    # no answer yet: the population mean
    assert frame.loc[cid.pk, "csat_avg"] == pytest.approx((0.625 + 1.0) / 2)


def test_no_csat_columns_without_answers(db):
    CustomerFactory()

    assert "csat_avg" not in features.load_feature_frame(as_of=AS_OF).columns
