"""The Django admin's segmentation form: its features box takes any JSON, so the model checks
what a run can read and what PostgreSQL can store."""

import pytest
from django.urls import reverse

from segments.models import FEATURES_SHAPE, Segmentation
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(factories.AdminFactory(is_staff=True, is_superuser=True))
    return client


def _save(client, features: str):
    segmentation = Segmentation.objects.get(slug="behaviour")
    url = reverse("admin:segments_segmentation_change", args=[segmentation.pk])
    data = {
        "name": segmentation.name,
        "slug": segmentation.slug,
        "kind": segmentation.kind,
        "description": "",
        "features": features,
        "k_min": 2,
        "k_max": 6,
        "min_segment_share": 0.05,
        "schedule": segmentation.schedule,
        "enabled": "on",
    }
    return client.post(url, data), segmentation


def test_a_list_of_column_names_is_saved(staff_client):
    response, segmentation = _save(staff_client, '["orders_90d", "tickets_90d"]')

    assert response.status_code == 302
    segmentation.refresh_from_db()
    assert segmentation.features == ["orders_90d", "tickets_90d"]


@pytest.mark.parametrize(
    ("features", "error"),
    [
        ('{"orders_90d": 1}', FEATURES_SHAPE),
        ('"orders_90d"', FEATURES_SHAPE),
        ("[1, 2]", FEATURES_SHAPE),
        ('[""]', FEATURES_SHAPE),
        ('["orders\\u0000"]', "Text may not contain NUL (\\u0000) or lone surrogate characters."),
        ("[1e400]", "Numbers must be finite: between about -1.8e308 and 1.8e308."),
        ("[" * 150 + "]" * 150, "Nested more than 100 levels deep."),
        ("[" * 100_000 + "]" * 100_000, "Nested more than 100 levels deep."),
    ],
    ids=[
        "object",
        "string",
        "numbers",
        "empty name",
        "NUL",
        "infinite",
        "deep",
        "too deep to parse",
    ],
)
def test_anything_else_is_a_field_error_and_nothing_changes(staff_client, features, error):
    response, segmentation = _save(staff_client, features)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["features"] == [error]
    assert Segmentation.objects.get(pk=segmentation.pk).features == segmentation.features
