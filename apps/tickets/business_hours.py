"""Business-time arithmetic for SLA clocks: pure functions over a weekly schedule and special days.

All arithmetic is done on UTC instants; local opening hours are turned into UTC intervals day by
day, so daylight-saving changes and time zones fall out of zoneinfo, not out of our code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = dt.UTC
# How far ahead an SLA may look for open hours before we call the calendar broken.
MAX_DAYS = 2 * 366

Span = tuple[dt.time, dt.time]


class NoBusinessHours(ValueError):
    """The calendar has no open hours in the period searched."""


@dataclass(frozen=True)
class Schedule:
    """Weekly opening hours (weekday 0 = Monday) with dated exceptions.

    A span closing at 00:00 closes at midnight. A date in `special` replaces that weekday's hours;
    an empty tuple there is a holiday.
    """

    tz: ZoneInfo
    weekly: dict[int, tuple[Span, ...]]
    special: dict[dt.date, tuple[Span, ...]] = field(default_factory=dict)

    def intervals_on(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """Return the day's open intervals as sorted, merged UTC (start, end) pairs."""
        spans = self.special.get(day, self.weekly.get(day.weekday(), ()))
        intervals: list[tuple[dt.datetime, dt.datetime]] = []
        for opens, closes in spans:
            start = dt.datetime.combine(day, opens, tzinfo=self.tz).astimezone(UTC)
            if closes == dt.time(0):
                end_local = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), self.tz)
            else:
                end_local = dt.datetime.combine(day, closes, tzinfo=self.tz)
            end = end_local.astimezone(UTC)
            if end > start:
                intervals.append((start, end))
        intervals.sort()
        merged: list[tuple[dt.datetime, dt.datetime]] = []
        for start, end in intervals:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def _local_date(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self.tz).date()

    def is_open(self, instant: dt.datetime) -> bool:
        """Return True when the instant falls inside open hours."""
        day = self._local_date(instant)
        return any(start <= instant < end for start, end in self.intervals_on(day))

    def add(self, start: dt.datetime, seconds: float) -> dt.datetime:
        """Return the instant at which `seconds` of business time have passed since `start`."""
        start = start.astimezone(UTC)
        if seconds <= 0:
            return start
        remaining = float(seconds)
        # Start a day early: an interval opened yesterday in local time may still be running.
        day = self._local_date(start) - dt.timedelta(days=1)
        for _ in range(MAX_DAYS):
            for open_at, close_at in self.intervals_on(day):
                if close_at <= start:
                    continue
                begin = max(open_at, start)
                available = (close_at - begin).total_seconds()
                if available >= remaining:
                    return begin + dt.timedelta(seconds=remaining)
                remaining -= available
            day += dt.timedelta(days=1)
        raise NoBusinessHours("No open hours within two years.")

    def seconds_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Return the business seconds from start to end (negative when end is earlier)."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end < start:
            return -self.seconds_between(end, start)
        total = 0.0
        day = self._local_date(start) - dt.timedelta(days=1)
        last = self._local_date(end)
        while day <= last:
            for open_at, close_at in self.intervals_on(day):
                low, high = max(open_at, start), min(close_at, end)
                if high > low:
                    total += (high - low).total_seconds()
            day += dt.timedelta(days=1)
        return total
