"""Business-hours arithmetic for SLA targets: pure functions, no database.

A calendar opens at the same local time on each open weekday and closes the same day; holidays
are closed all day. Times are converted through the calendar's time zone day by day, so a
daylight-saving change shifts the opening hours with the wall clock, as people expect.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A calendar whose open days are all holidays would loop forever; ten years is beyond any target.
MAX_DAYS_SEARCHED = 3660


@dataclass(frozen=True)
class OpeningHours:
    timezone: ZoneInfo
    weekdays: frozenset[int]  # ISO weekday numbers, Monday = 1
    opens_at: time
    closes_at: time
    holidays: frozenset[date] = frozenset()

    def __post_init__(self):
        if not self.weekdays:
            raise ValueError("A calendar needs at least one open weekday.")
        if self.closes_at <= self.opens_at:
            raise ValueError("Closing time must be after opening time.")

    def window_on(self, day: date) -> tuple[datetime, datetime] | None:
        """The open interval of a local day in UTC, or None when closed all day."""
        if day.isoweekday() not in self.weekdays or day in self.holidays:
            return None
        opens = datetime.combine(day, self.opens_at, tzinfo=self.timezone)
        closes = datetime.combine(day, self.closes_at, tzinfo=self.timezone)
        return opens.astimezone(UTC), closes.astimezone(UTC)


def add_working_time(start: datetime, minutes: int, hours: OpeningHours | None) -> datetime:
    """The moment ``minutes`` of open time after ``start``; ``hours=None`` means 24/7."""
    remaining = timedelta(minutes=minutes)
    if hours is None:
        return start.astimezone(UTC) + remaining
    cursor = start.astimezone(UTC)
    day = cursor.astimezone(hours.timezone).date()
    for _ in range(MAX_DAYS_SEARCHED):
        window = hours.window_on(day)
        if window is not None and cursor < window[1]:
            cursor = max(cursor, window[0])
            available = window[1] - cursor
            if remaining <= available:
                return cursor + remaining
            remaining -= available
        day += timedelta(days=1)
    raise ValueError("The calendar has no open time in the next ten years.")


def is_open(at: datetime, hours: OpeningHours | None) -> bool:
    if hours is None:
        return True
    window = hours.window_on(at.astimezone(hours.timezone).date())
    return window is not None and window[0] <= at < window[1]
