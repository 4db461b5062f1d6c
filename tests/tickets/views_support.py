"""Helpers shared by the HTML view tests."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tickets import extensions
from tickets.extensions import Badge, CustomerFilter
from tickets.models import Customer


@pytest.fixture
def only_test_extensions(monkeypatch):
    """Providers registered by other apps stay out; a test registers what it needs."""
    monkeypatch.setattr(extensions, "_badge_providers", [])
    monkeypatch.setattr(extensions, "_customer_filters", [])
    monkeypatch.setattr(extensions, "_customer_panel_providers", [])
    monkeypatch.setattr(extensions, "_ticket_panel_providers", [])


def register_vip_segment_filter(vip: Customer) -> None:
    """A contributed customer filter: ``segment=vip`` keeps only ``vip``'s tickets."""
    extensions.register_customer_filter(
        CustomerFilter(
            param="segment",
            label="Segment",
            choices=lambda: [("vip", "VIP")],
            customer_ids=lambda value: Customer.objects.filter(pk=vip.pk).values("pk"),
        )
    )


def segment_badges(customer_ids):
    """A badge provider that costs one query per call, like a real one."""
    return {
        pk: [Badge(group="Value", group_slug="value", label="Big spender", slug="big")]
        for pk in Customer.objects.filter(pk__in=customer_ids).values_list("pk", flat=True)
    }


def warm(client, url, params=None) -> None:
    """A request that brings this process's snapshots (helpdesk.snapshots) up to date after the
    test changed teams, agents or tags, so that the next one is measured as pages run once
    warm."""
    client.get(url, params)


def count_queries(client, url) -> int:
    warm(client, url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)
