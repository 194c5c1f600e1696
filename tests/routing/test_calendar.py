"""Business hours and holidays (a reusable calendar)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from apps.routing.calendar import OpeningRules, calendar_is_open, calendar_rules, is_open
from apps.routing.models import BusinessHours, BusinessHoursInterval, Holiday

WEEKDAYS_9_TO_17 = OpeningRules(
    timezone="Asia/Shanghai",
    weekly={day: [(time(9), time(12)), (time(13), time(17))] for day in range(5)},
    holidays={date(2030, 1, 1): [], date(2030, 1, 8): [(time(10), time(12))]},
)


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        # Monday 2030-01-07; Shanghai is UTC+8.
        (datetime(2030, 1, 7, 0, 59, tzinfo=UTC), False),  # 08:59
        (datetime(2030, 1, 7, 1, 0, tzinfo=UTC), True),  # 09:00 opens
        (datetime(2030, 1, 7, 4, 0, tzinfo=UTC), False),  # 12:00 lunch
        (datetime(2030, 1, 7, 5, 0, tzinfo=UTC), True),  # 13:00
        (datetime(2030, 1, 7, 9, 0, tzinfo=UTC), False),  # 17:00 closed
        (datetime(2030, 1, 5, 3, 0, tzinfo=UTC), False),  # Saturday 11:00
        (datetime(2030, 1, 1, 3, 0, tzinfo=UTC), False),  # New Year's Day holiday
        (datetime(2030, 1, 8, 1, 30, tzinfo=UTC), False),  # reduced hours: 09:30
        (datetime(2030, 1, 8, 3, 0, tzinfo=UTC), True),  # reduced hours: 11:00
        (datetime(2030, 1, 8, 5, 0, tzinfo=UTC), False),  # reduced hours: 13:00
    ],
)
def test_opening_follows_the_local_weekly_hours_and_holidays(utc, expected):
    assert is_open(WEEKDAYS_9_TO_17, utc) is expected


@pytest.mark.django_db
def test_a_calendar_record_gives_the_same_rules():
    calendar = BusinessHours.objects.create(name="Shanghai office", timezone="Asia/Shanghai")
    for day in range(5):
        BusinessHoursInterval.objects.create(
            calendar=calendar, weekday=day, opens=time(9), closes=time(12)
        )
        BusinessHoursInterval.objects.create(
            calendar=calendar, weekday=day, opens=time(13), closes=time(17)
        )
    Holiday.objects.create(calendar=calendar, date=date(2030, 1, 1), name="New Year")
    Holiday.objects.create(
        calendar=calendar, date=date(2030, 1, 8), name="Half day", opens=time(10), closes=time(12)
    )

    assert calendar_rules(calendar) == WEEKDAYS_9_TO_17
    assert calendar_is_open(calendar, datetime(2030, 1, 7, 1, 0, tzinfo=UTC)) is True


def test_no_calendar_means_always_open():
    assert calendar_is_open(None, datetime(2030, 1, 5, 3, 0, tzinfo=UTC)) is True
