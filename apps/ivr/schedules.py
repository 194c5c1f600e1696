"""Business hours: is a schedule open, closed, or on holiday at a given moment?"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext as _

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME_RE = re.compile(r"^([01][0-9]|2[0-4]):([0-5][0-9])$")

OPEN = "open"
CLOSED = "closed"
HOLIDAY = "holiday"


def _minutes(value: str) -> int:
    match = _TIME_RE.match(value)
    if match is None:
        raise ValueError(value)
    return int(match.group(1)) * 60 + int(match.group(2))


def weekly_hours_errors(weekly: object) -> list[str]:
    """Return what is wrong with a weekly-hours mapping (empty when it is usable)."""
    if not isinstance(weekly, dict):
        return [_('Weekly hours are a mapping like {"mon": [["09:00", "18:00"]]}.')]
    errors: list[str] = []
    for day, intervals in weekly.items():
        if day not in WEEKDAYS:
            errors.append(_("Unknown day %(day)s (use mon … sun).") % {"day": day})
            continue
        if not isinstance(intervals, list):
            errors.append(_("%(day)s needs a list of [start, end] pairs.") % {"day": day})
            continue
        for interval in intervals:
            try:
                start, end = (_minutes(str(part)) for part in interval)
            except (TypeError, ValueError):
                errors.append(
                    _("%(day)s: %(value)s is not a [HH:MM, HH:MM] pair.")
                    % {"day": day, "value": interval}
                )
                continue
            if start >= end:
                errors.append(_("%(day)s: an interval must end after it starts.") % {"day": day})
    return errors


def schedule_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def schedule_state_at(
    *, weekly: dict, timezone: str, holidays: set[dt.date], when: dt.datetime
) -> str:
    """Return OPEN, CLOSED or HOLIDAY for the aware datetime `when`."""
    local = when.astimezone(schedule_zone(timezone))
    if local.date() in holidays:
        return HOLIDAY
    minute = local.hour * 60 + local.minute
    for interval in weekly.get(WEEKDAYS[local.weekday()], []) or []:
        try:
            start, end = (_minutes(str(part)) for part in interval)
        except (TypeError, ValueError):
            continue
        if start <= minute < end:
            return OPEN
    return CLOSED


def schedule_state(name: str, when: dt.datetime) -> str | None:
    """Return the state of the named schedule at `when`, or None if it does not exist."""
    from apps.ivr.models import Holiday, Schedule

    schedule = Schedule.objects.filter(name=name).first()
    if schedule is None:
        return None
    local_date = when.astimezone(schedule_zone(schedule.timezone)).date()
    on_holiday = Holiday.objects.filter(schedule=schedule, date=local_date).exists()
    return schedule_state_at(
        weekly=schedule.weekly_hours or {},
        timezone=schedule.timezone,
        holidays={local_date} if on_holiday else set(),
        when=when,
    )
