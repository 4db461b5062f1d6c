"""The leads' SLA pages."""

from datetime import time

import pytest
from django.urls import reverse

from tests import factories
from tickets.models import BusinessCalendar, SLAPolicy

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("tickets:sla")


def test_agents_cannot_see_or_change_sla_policies(agent_client):
    for url in (OVERVIEW, reverse("tickets:sla_policy_new"), reverse("tickets:sla_calendar_new")):
        assert agent_client.get(url).status_code == 403
    assert agent_client.post(reverse("tickets:sla_policy_new"), {"name": "x"}).status_code == 403
    assert not SLAPolicy.objects.exists()


def test_a_lead_creates_a_calendar_and_a_policy_with_targets(lead_client):
    response = lead_client.post(
        reverse("tickets:sla_calendar_new"),
        {
            "name": "Berlin office",
            "timezone": "Europe/Berlin",
            "weekdays": ["1", "2", "3", "4", "5"],
            "opens_at": "09:00",
            "closes_at": "17:30",
            "holidays": "2025-12-25\n2025-12-26",
        },
    )
    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get()
    assert (calendar.weekdays, calendar.closes_at) == ([1, 2, 3, 4, 5], time(17, 30))
    assert calendar.holidays == ["2025-12-25", "2025-12-26"]

    response = lead_client.post(
        reverse("tickets:sla_policy_new"),
        {
            "name": "Business hours",
            "calendar": calendar.pk,
            "is_default": "on",
            "urgent_first_response": "30",
            "urgent_resolution": "240",
            "normal_first_response": "120",
        },
    )
    assert response.status_code == 302
    policy = SLAPolicy.objects.get()
    targets = {
        t.priority: (t.first_response_minutes, t.resolution_minutes) for t in policy.targets.all()
    }
    assert targets == {"urgent": (30, 240), "normal": (120, None)}
    assert policy.is_default and policy.calendar == calendar

    page = lead_client.get(OVERVIEW).content.decode()
    assert "Business hours" in page and "Berlin office" in page


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"holidays": "Christmas"}, "holidays"),
        ({"closes_at": "08:00"}, "closes_at"),
        ({"weekdays": []}, "weekdays"),
    ],
)
def test_bad_calendar_input_is_shown_on_the_form(lead_client, values, field):
    data = {
        "name": "Office",
        "timezone": "UTC",
        "weekdays": ["1"],
        "opens_at": "09:00",
        "closes_at": "17:00",
        **values,
    }
    response = lead_client.post(reverse("tickets:sla_calendar_new"), data)

    assert response.status_code == 400
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert not BusinessCalendar.objects.exists()


def test_bad_policy_input_is_shown_on_the_form(lead_client):
    SLAPolicy.objects.create(name="Taken")
    response = lead_client.post(
        reverse("tickets:sla_policy_new"), {"name": "Taken", "low_first_response": "0"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="error-low_first_response"' in html


def test_a_lead_edits_a_policy(lead_client, lead):
    policy = SLAPolicy.objects.create(name="Old")
    url = reverse("tickets:sla_policy_edit", args=[policy.pk])
    assert lead_client.get(url).status_code == 200

    lead_client.post(url, {"name": "New", "high_resolution": "60"})

    policy.refresh_from_db()
    assert policy.name == "New"
    assert list(policy.targets.values_list("priority", "resolution_minutes")) == [("high", 60)]


def test_the_overview_has_a_constant_query_count(lead_client, django_assert_max_num_queries):
    calendar = BusinessCalendar.objects.create(
        name="Office", weekdays=[1], opens_at=time(9), closes_at=time(17)
    )
    for n in range(10):
        policy = SLAPolicy.objects.create(name=f"P{n}", calendar=calendar)
        policy.targets.create(priority="normal", first_response_minutes=n + 1)
    factories.TeamFactory()
    with django_assert_max_num_queries(6):
        response = lead_client.get(OVERVIEW)
    assert response.content.decode().count('data-testid="policy-row"') == 10
