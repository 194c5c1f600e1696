"""Business hours: is a calendar open at a given instant. Pure rules plus a loader from the models.

Reusable by any app (e.g. ticket SLA clocks): build ``OpeningRules`` with ``calendar_rules`` and ask
``is_open``. Weekly intervals are in the calendar's own time zone; a holiday replaces its weekday's
intervals (closed all day, or open only between its times).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from apps.routing.models import BusinessHours


@dataclass(frozen=True)
class OpeningRules:
    timezone: str
    weekly: dict[int, list[tuple[time, time]]] = field(default_factory=dict)
    holidays: dict[date, list[tuple[time, time]]] = field(default_factory=dict)


def is_open(rules: OpeningRules, at: datetime) -> bool:
    """Tell whether the calendar is open at this aware instant (opens inclusive, closes not)."""
    local = at.astimezone(ZoneInfo(rules.timezone))
    day = local.date()
    if day in rules.holidays:
        intervals = rules.holidays[day]
    else:
        intervals = rules.weekly.get(day.weekday(), [])
    moment = local.time().replace(tzinfo=None)
    return any(opens <= moment < closes for opens, closes in intervals)


def calendar_rules(calendar: BusinessHours) -> OpeningRules:
    """Load a BusinessHours calendar's rules."""
    weekly: dict[int, list[tuple[time, time]]] = {}
    for interval in calendar.intervals.all():
        weekly.setdefault(interval.weekday, []).append((interval.opens, interval.closes))
    holidays: dict[date, list[tuple[time, time]]] = {}
    for holiday in calendar.holidays.all():
        hours = holiday.opens is not None and holiday.closes is not None
        holidays[holiday.date] = [(holiday.opens, holiday.closes)] if hours else []
    return OpeningRules(timezone=calendar.timezone, weekly=weekly, holidays=holidays)


def calendar_is_open(calendar: BusinessHours | None, at: datetime) -> bool:
    """Tell whether a calendar is open (no calendar: always open)."""
    if calendar is None:
        return True
    return is_open(calendar_rules(calendar), at)
