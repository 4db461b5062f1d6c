from datetime import UTC, datetime, timedelta

from django.test import override_settings
from django.utils import timezone

from tickets.templatetags.helpdesk_ui import time_ago


@override_settings(TIME_ZONE="Europe/Berlin")
def test_time_ago_is_a_time_element_in_local_time_with_a_relative_text():
    moment = datetime(2025, 6, 3, 12, 5, 30, tzinfo=UTC)

    html = time_ago(moment)

    assert html.startswith('<time datetime="2025-06-03T14:05:30+02:00" title="2025-06-03 14:05">')
    assert html.endswith(" ago</time>")


def test_time_ago_of_a_recent_moment_reads_like_the_naturaltime_filter():
    html = time_ago(timezone.now() - timedelta(hours=3, minutes=1))

    assert ">3\xa0hours ago</time>" in html
