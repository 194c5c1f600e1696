"""Business hours and holidays of a queue: the stored calendar read through the shared arithmetic
(the rules themselves are tested in tests/core/test_business_hours.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError

from apps.core.business_hours import Schedule
from apps.routing.calendar import calendar_is_open
from apps.routing.models import BusinessHours, BusinessHoursInterval, Holiday

WEEKDAYS_9_TO_17 = Schedule(
    tz=ZoneInfo("Asia/Shanghai"),
    weekly={day: ((time(9), time(12)), (time(13), time(17))) for day in range(5)},
    special={date(2030, 1, 1): (), date(2030, 1, 8): ((time(10), time(12)),)},
)


@pytest.fixture
def shanghai_office(db) -> BusinessHours:
    calendar = BusinessHours.objects.create(name="Shanghai office", timezone="Asia/Shanghai")
    for day in range(5):
        BusinessHoursInterval.objects.create(
            calendar=calendar, weekday=day, opens=time(13), closes=time(17)
        )
        BusinessHoursInterval.objects.create(
            calendar=calendar, weekday=day, opens=time(9), closes=time(12)
        )
    Holiday.objects.create(calendar=calendar, date=date(2030, 1, 1), name="New Year")
    Holiday.objects.create(
        calendar=calendar, date=date(2030, 1, 8), name="Half day", opens=time(10), closes=time(12)
    )
    return calendar


def test_a_calendar_record_gives_its_schedule(shanghai_office):
    assert shanghai_office.schedule() == WEEKDAYS_9_TO_17


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
def test_a_queue_calendar_opens_by_local_hours_and_holidays(shanghai_office, utc, expected):
    assert calendar_is_open(shanghai_office, utc) is expected


def test_no_calendar_means_always_open():
    assert calendar_is_open(None, datetime(2030, 1, 5, 3, 0, tzinfo=UTC)) is True


@pytest.mark.django_db
def test_a_night_shift_interval_may_close_after_midnight():
    night = BusinessHours.objects.create(name="Night desk", timezone="Asia/Shanghai")
    BusinessHoursInterval.objects.create(calendar=night, weekday=4, opens=time(22), closes=time(6))

    assert calendar_is_open(night, datetime(2030, 1, 4, 19, 0, tzinfo=UTC)) is True  # Sat 03:00
    assert calendar_is_open(night, datetime(2030, 1, 4, 23, 0, tzinfo=UTC)) is False  # Sat 07:00


def test_a_holiday_with_only_one_time_is_refused(shanghai_office):
    with pytest.raises(IntegrityError):
        Holiday.objects.create(calendar=shanghai_office, date=date(2030, 2, 1), opens=time(9))
