"""Is a queue's calendar open: routing's one rule on top of the shared business-hours arithmetic
(apps.core.business_hours, loaded by ``BusinessHours.schedule()``)."""

from __future__ import annotations

from datetime import datetime

from apps.routing.models import BusinessHours


def calendar_is_open(calendar: BusinessHours | None, at: datetime) -> bool:
    """Tell whether a calendar is open at this aware instant (no calendar: always open)."""
    if calendar is None:
        return True
    return calendar.schedule().is_open(at)
