"""Business hours: the one calendar arithmetic every app uses (routing's open/closed queues,
tickets' SLA clocks). Pure functions over a weekly schedule and dated exceptions; the stored
calendar is routing.BusinessHours (``BusinessHours.schedule()`` builds a ``Schedule``).

All arithmetic is done on UTC instants; local opening hours are turned into UTC intervals day by
day, so daylight-saving changes and time zones fall out of zoneinfo, not out of our code.

A span belongs to the local day it opens on. One that closes at or before it opens runs past
midnight into the next day (22:00-06:00; 00:00-00:00 is the whole day), so "closes 00:00" means
midnight. A dated exception replaces that day's own spans (an empty one is a holiday); a span
that opened the evening before still runs until it closes.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

UTC = dt.UTC
# How far ahead we look for open hours before we call the calendar broken.
MAX_DAYS = 2 * 366
ONE_DAY = dt.timedelta(days=1)

Span = tuple[dt.time, dt.time]
Interval = tuple[dt.datetime, dt.datetime]


class NoBusinessHours(ValueError):
    """The calendar has no open hours in the period searched."""


def validate_timezone(value: str) -> None:
    """Refuse a time zone name that zoneinfo does not know."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone."))


@dataclass(frozen=True)
class Schedule:
    """Weekly opening hours (weekday 0 = Monday) with dated exceptions, in one time zone."""

    tz: zoneinfo.ZoneInfo
    weekly: Mapping[int, tuple[Span, ...]]
    special: Mapping[dt.date, tuple[Span, ...]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        timezone: str,
        weekly: Iterable[tuple[int, dt.time, dt.time]],
        special: Iterable[tuple[dt.date, dt.time | None, dt.time | None]] = (),
    ) -> Schedule:
        """Return a schedule from stored rows: (weekday, opens, closes) and (date, opens, closes).

        A dated row without both times closes the calendar that day (a holiday).
        """
        spans: dict[int, list[Span]] = {}
        for weekday, opens, closes in weekly:
            spans.setdefault(weekday, []).append((opens, closes))
        days: dict[dt.date, list[Span]] = {}
        for date, opens, closes in special:
            hours = days.setdefault(date, [])
            if opens is not None and closes is not None:
                hours.append((opens, closes))
        return cls(
            tz=zoneinfo.ZoneInfo(timezone),
            weekly={weekday: tuple(sorted(day)) for weekday, day in spans.items()},
            special={date: tuple(sorted(day)) for date, day in days.items()},
        )

    def intervals_on(self, day: dt.date) -> list[Interval]:
        """Return the spans opening on this local day as sorted, merged UTC (start, end) pairs."""
        spans = self.special.get(day, self.weekly.get(day.weekday(), ()))
        intervals: list[Interval] = []
        for opens, closes in spans:
            start = dt.datetime.combine(day, opens, tzinfo=self.tz).astimezone(UTC)
            close_day = day + ONE_DAY if closes <= opens else day
            end = dt.datetime.combine(close_day, closes, tzinfo=self.tz).astimezone(UTC)
            if end > start:
                intervals.append((start, end))
        intervals.sort()
        merged: list[Interval] = []
        for start, end in intervals:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def _local_date(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self.tz).date()

    def is_open(self, instant: dt.datetime) -> bool:
        """Return True when the aware instant falls inside open hours (opens inclusive)."""
        day = self._local_date(instant)
        # Yesterday too: a span opened last evening may still be running.
        return any(
            start <= instant < end
            for on in (day - ONE_DAY, day)
            for start, end in self.intervals_on(on)
        )

    def is_holiday(self, instant: dt.datetime) -> bool:
        """Return True when the instant's local day is a dated exception without open hours."""
        day = self._local_date(instant)
        return day in self.special and not self.special[day]

    def _intervals_from(self, instant: dt.datetime, days: int = MAX_DAYS) -> Iterator[Interval]:
        """Yield the merged UTC intervals that end after `instant`, in order, for `days` days."""
        # Start a day early: a span opened yesterday in local time may still be running.
        day = self._local_date(instant) - ONE_DAY
        pending: Interval | None = None
        for _step in range(days + 1):
            for start, end in self.intervals_on(day):
                if pending is not None and start <= pending[1]:
                    # Last night's span runs into this morning's: one stretch of open time.
                    pending = (pending[0], max(end, pending[1]))
                    continue
                if pending is not None and pending[1] > instant:
                    yield pending
                pending = (start, end)
            day += ONE_DAY
        if pending is not None and pending[1] > instant:
            yield pending

    def next_opening(self, instant: dt.datetime) -> dt.datetime:
        """Return the first open instant at or after `instant` (itself when open now)."""
        instant = instant.astimezone(UTC)
        for start, _end in self._intervals_from(instant):
            return max(start, instant)
        raise NoBusinessHours("No open hours within two years.")

    def add(self, start: dt.datetime, seconds: float) -> dt.datetime:
        """Return the instant at which `seconds` of business time have passed since `start`."""
        start = start.astimezone(UTC)
        if seconds <= 0:
            return start
        remaining = float(seconds)
        for open_at, close_at in self._intervals_from(start):
            begin = max(open_at, start)
            available = (close_at - begin).total_seconds()
            if available >= remaining:
                return begin + dt.timedelta(seconds=remaining)
            remaining -= available
        raise NoBusinessHours("No open hours within two years.")

    def seconds_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Return the business seconds from start to end (negative when end is earlier)."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end < start:
            return -self.seconds_between(end, start)
        total = 0.0
        days = (self._local_date(end) - self._local_date(start)).days + 1
        for open_at, close_at in self._intervals_from(start, days):
            if open_at >= end:
                break
            total += (min(close_at, end) - max(open_at, start)).total_seconds()
        return total
