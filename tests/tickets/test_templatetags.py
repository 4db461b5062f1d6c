from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from tickets.templatetags.helpdesk_ui import time_ago, time_span


@override_settings(TIME_ZONE="Europe/Berlin")
def test_time_ago_is_a_time_element_in_local_time_with_a_relative_text():
    moment = datetime(2025, 6, 3, 12, 5, 30, tzinfo=UTC)

    html = time_ago(moment)

    assert html.startswith('<time datetime="2025-06-03T14:05:30+02:00" title="2025-06-03 14:05">')
    assert html.endswith(" ago</time>")


def test_time_ago_of_a_recent_moment_reads_like_the_naturaltime_filter():
    html = time_ago(timezone.now() - timedelta(hours=3, minutes=1))

    assert ">3\xa0hours ago</time>" in html


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(seconds=40), "less than a minute"),
        (timedelta(minutes=35, seconds=30), "35 min"),
        (timedelta(hours=2, minutes=10, seconds=30), "2 h 10 min"),
        (timedelta(hours=2, seconds=30), "2 h"),
        (timedelta(days=3, hours=4, minutes=59), "3 d 4 h"),
        (timedelta(days=1, minutes=5), "1 d"),
    ],
)
def test_time_span_reads_the_distance_from_now_either_way(span, text):
    ahead, behind = time_span(timezone.now() + span), time_span(timezone.now() - span)

    assert ahead.endswith(f">{text}</time>") and behind.endswith(f">{text}</time>")


@override_settings(TIME_ZONE="Europe/Berlin")
def test_time_span_is_a_time_element_in_local_time():
    moment = datetime(2025, 6, 3, 12, 5, 30, tzinfo=UTC)

    assert time_span(moment).startswith(
        '<time datetime="2025-06-03T14:05:30+02:00" title="2025-06-03 14:05">'
    )
