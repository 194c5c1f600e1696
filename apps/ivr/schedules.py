"""Business-hours nodes: is a calendar open, closed, or on holiday at a given moment?

The calendar is the suite's one (routing.BusinessHours, computed by apps.core.business_hours), so
a flow and the queue it feeds open and close alike. The IVR adds only the holiday branch: a
holiday is a dated exception that closes the whole local day (routing's named holidays).
"""

from __future__ import annotations

import datetime as dt

from apps.routing.models import BusinessHours

OPEN = "open"
CLOSED = "closed"
HOLIDAY = "holiday"


def calendar_state(calendar: BusinessHours, when: dt.datetime) -> str:
    """Return OPEN, CLOSED or HOLIDAY for the aware datetime `when`."""
    schedule = calendar.schedule()
    # Open wins: last evening's span may run on into a holiday morning.
    if schedule.is_open(when):
        return OPEN
    if schedule.is_holiday(when):
        return HOLIDAY
    return CLOSED


def calendar_names() -> set[str]:
    """Return the names a business-hours node may use."""
    return set(BusinessHours.objects.values_list("name", flat=True))


def schedule_state(name: str, when: dt.datetime) -> str | None:
    """Return the state of the named calendar at `when`, or None if it does not exist."""
    calendar = (
        BusinessHours.objects.prefetch_related("intervals", "holidays").filter(name=name).first()
    )
    if calendar is None:
        return None
    return calendar_state(calendar, when)
