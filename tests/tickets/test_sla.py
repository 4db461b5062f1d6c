"""Business-hours arithmetic of SLA targets (tickets/sla.py), table-driven."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickets.sla import OpeningHours, add_working_time, is_open

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
SYDNEY = ZoneInfo("Australia/Sydney")
WEEKDAYS = frozenset({1, 2, 3, 4, 5})


def office(tz: ZoneInfo, *, holidays=(), weekdays=WEEKDAYS, opens=time(9), closes=time(17)):
    return OpeningHours(
        timezone=tz,
        weekdays=frozenset(weekdays),
        opens_at=opens,
        closes_at=closes,
        holidays=frozenset(holidays),
    )


BERLIN_OFFICE = office(BERLIN, holidays=[date(2025, 12, 25)])
# Open every day 01:00-05:00: the 2025-03-30 spring-forward (02:00 -> 03:00) happens inside.
BERLIN_NIGHT_SHIFT = office(BERLIN, weekdays=range(1, 8), opens=time(1), closes=time(5))


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("case", "start", "minutes", "expected"),
    [
        ("inside the day", berlin(2025, 6, 2, 10), 60, berlin(2025, 6, 2, 11)),
        ("carries to next morning", berlin(2025, 6, 2, 16, 30), 60, berlin(2025, 6, 3, 9, 30)),
        ("before opening", berlin(2025, 6, 2, 7), 30, berlin(2025, 6, 2, 9, 30)),
        ("after closing", berlin(2025, 6, 2, 18), 30, berlin(2025, 6, 3, 9, 30)),
        ("exactly at closing", berlin(2025, 6, 2, 17), 1, berlin(2025, 6, 3, 9, 1)),
        ("ends exactly at closing", berlin(2025, 6, 2, 9), 480, berlin(2025, 6, 2, 17)),
        ("two full days", berlin(2025, 6, 2, 9), 960, berlin(2025, 6, 3, 17)),
        ("Friday over the weekend", berlin(2025, 6, 6, 16), 120, berlin(2025, 6, 9, 10)),
        ("opened on Saturday", berlin(2025, 6, 7, 12), 30, berlin(2025, 6, 9, 9, 30)),
        ("opened on Sunday night", berlin(2025, 6, 8, 23), 30, berlin(2025, 6, 9, 9, 30)),
        ("over a holiday", berlin(2025, 12, 24, 16), 120, berlin(2025, 12, 26, 10)),
        ("on a holiday", berlin(2025, 12, 25, 10), 60, berlin(2025, 12, 26, 10)),
        ("a full week", berlin(2025, 6, 2, 9), 5 * 480, berlin(2025, 6, 6, 17)),
        # CET -> CEST on Sunday 2025-03-30: the Monday opening is 09:00 local, 07:00 UTC.
        ("weekend with DST start", berlin(2025, 3, 28, 16), 120, berlin(2025, 3, 31, 10)),
        # CEST -> CET on Sunday 2025-10-26.
        ("weekend with DST end", berlin(2025, 10, 24, 16), 120, berlin(2025, 10, 27, 10)),
    ],
)
def test_berlin_office_hours(case, start, minutes, expected):
    assert add_working_time(start, minutes, BERLIN_OFFICE) == expected


def test_the_dst_change_shortens_an_open_window_to_real_hours():
    # given the night shift opens 01:00-05:00 local; on 2025-03-30 02:00 does not exist
    start = berlin(2025, 3, 30, 1)

    # when four working hours are added
    due = add_working_time(start, 240, BERLIN_NIGHT_SHIFT)

    # then that night gave only three real hours, so the fourth is the next night's first
    assert BERLIN_NIGHT_SHIFT.window_on(date(2025, 3, 30))[1] - start == timedelta(hours=3)
    assert due == berlin(2025, 3, 31, 2)
    assert due.astimezone(UTC) == datetime(2025, 3, 31, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("case", "hours", "start_utc", "minutes", "expected_utc"),
    [
        # 16:00 EDT on Monday: one hour left today, one tomorrow from 09:00 EDT (13:00 UTC).
        ("New York evening", office(NEW_YORK), (2025, 6, 2, 20), 120, (2025, 6, 3, 14)),
        # 09:30 JST on Monday.
        ("Tokyo morning", office(TOKYO), (2025, 6, 2, 0, 30), 60, (2025, 6, 2, 1, 30)),
        # Sunday 23:00 UTC is already Monday 09:00 in Sydney.
        ("Sydney ahead of UTC", office(SYDNEY), (2025, 6, 1, 23), 60, (2025, 6, 2, 0)),
        # Friday 22:00 UTC is Saturday in Tokyo: the next opening is Monday 09:00 JST.
        ("Tokyo weekend", office(TOKYO), (2025, 6, 6, 22), 30, (2025, 6, 9, 0, 30)),
        # New York changes to EDT on 2025-03-09: Friday 16:00 EST + 2h ends Monday 10:00 EDT.
        ("New York DST", office(NEW_YORK), (2025, 3, 7, 21), 120, (2025, 3, 10, 14)),
    ],
)
def test_time_zones(case, hours, start_utc, minutes, expected_utc):
    start = datetime(*start_utc, tzinfo=UTC)
    assert add_working_time(start, minutes, hours) == datetime(*expected_utc, tzinfo=UTC)


@pytest.mark.parametrize(
    ("case", "start", "minutes", "expected"),
    [
        (
            "Saturday",
            datetime(2025, 6, 7, 12, tzinfo=UTC),
            90,
            datetime(2025, 6, 7, 13, 30, tzinfo=UTC),
        ),
        (
            "over midnight",
            datetime(2025, 6, 2, 23, tzinfo=UTC),
            120,
            datetime(2025, 6, 3, 1, tzinfo=UTC),
        ),
        # 24/7 counts real time: one day across the spring-forward is 25 wall-clock hours.
        ("across DST", berlin(2025, 3, 29, 12), 24 * 60, berlin(2025, 3, 30, 13)),
    ],
)
def test_around_the_clock(case, start, minutes, expected):
    assert add_working_time(start, minutes, None) == expected


def test_the_result_is_in_utc():
    due = add_working_time(berlin(2025, 6, 2, 10), 60, BERLIN_OFFICE)
    assert due.tzinfo is UTC
    assert due == datetime(2025, 6, 2, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (berlin(2025, 6, 2, 8, 59), False),
        (berlin(2025, 6, 2, 9), True),
        (berlin(2025, 6, 2, 16, 59), True),
        (berlin(2025, 6, 2, 17), False),
        (berlin(2025, 6, 7, 12), False),
        (berlin(2025, 12, 25, 12), False),
    ],
)
def test_is_open(at, expected):
    assert is_open(at, BERLIN_OFFICE) is expected
    assert is_open(at, None) is True


def test_a_calendar_needs_an_open_day_and_hours_that_end_after_they_start():
    with pytest.raises(ValueError, match="weekday"):
        office(BERLIN, weekdays=[])
    with pytest.raises(ValueError, match="after opening"):
        office(BERLIN, opens=time(17), closes=time(9))


def test_a_calendar_closed_for_ten_years_is_refused_not_looped_forever():
    mondays = [date(2025, 6, 2) + timedelta(weeks=n) for n in range(600)]
    hours = office(BERLIN, weekdays=[1], holidays=mondays)
    with pytest.raises(ValueError, match="no open time"):
        add_working_time(berlin(2025, 6, 2, 10), 60, hours)
