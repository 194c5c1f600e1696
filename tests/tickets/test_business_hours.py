"""Business time: SLA clocks run only while the contact center is open."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from apps.tickets.business_hours import NoBusinessHours, Schedule
from tests.tickets.conftest import local

OFFICE = Schedule(
    tz=ZoneInfo("Asia/Shanghai"),
    weekly={day: ((dt.time(9), dt.time(12)), (dt.time(13), dt.time(18))) for day in range(5)},
    special={
        dt.date(2026, 4, 6): (),  # Qingming holiday (a Monday)
        dt.date(2026, 4, 11): ((dt.time(9), dt.time(18)),),  # make-up working Saturday
    },
)
HOUR = 3600


@pytest.mark.parametrize(
    ("start", "seconds", "due"),
    [
        (local(2026, 3, 2, 9, 0), HOUR, local(2026, 3, 2, 10, 0)),
        (local(2026, 3, 2, 11, 30), HOUR, local(2026, 3, 2, 13, 30)),  # skips lunch
        (local(2026, 3, 2, 17, 30), HOUR, local(2026, 3, 3, 9, 30)),  # overnight
        (local(2026, 3, 6, 17, 30), HOUR, local(2026, 3, 9, 9, 30)),  # Friday to Monday
        (local(2026, 3, 7, 10, 0), HOUR, local(2026, 3, 9, 10, 0)),  # from a Saturday
        (local(2026, 3, 2, 7, 0), 8 * HOUR, local(2026, 3, 2, 18, 0)),  # one working day
        (local(2026, 4, 3, 17, 0), 2 * HOUR, local(2026, 4, 7, 10, 0)),  # over the holiday
        (local(2026, 4, 10, 17, 0), 2 * HOUR, local(2026, 4, 11, 10, 0)),  # make-up Saturday
        (local(2026, 3, 2, 12, 30), 0, local(2026, 3, 2, 12, 30)),
    ],
)
def test_adding_business_time(start, seconds, due):
    assert OFFICE.add(start, seconds) == due


@pytest.mark.parametrize(
    ("start", "end", "seconds"),
    [
        (local(2026, 3, 2, 9, 0), local(2026, 3, 2, 18, 0), 8 * HOUR),
        (local(2026, 3, 6, 17, 0), local(2026, 3, 9, 10, 0), 2 * HOUR),
        (local(2026, 3, 2, 12, 0), local(2026, 3, 2, 13, 0), 0),
        (local(2026, 3, 2, 10, 0), local(2026, 3, 2, 9, 0), -HOUR),
    ],
)
def test_business_seconds_between_two_instants(start, end, seconds):
    assert OFFICE.seconds_between(start, end) == seconds


def test_open_hours_follow_the_calendars_time_zone_not_utc():
    start = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai

    assert OFFICE.add(start, HOUR) == dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
    assert OFFICE.is_open(start) is True
    assert OFFICE.is_open(dt.datetime(2026, 3, 2, 4, 30, tzinfo=dt.UTC)) is False  # lunch


def test_daylight_saving_days_count_their_real_length():
    new_york = Schedule(
        tz=ZoneInfo("America/New_York"), weekly={6: ((dt.time(0), dt.time(0)),)}
    )  # Sundays, all day; 2026-03-08 is 23 hours long

    start = dt.datetime(2026, 3, 8, 0, 0, tzinfo=ZoneInfo("America/New_York"))
    assert new_york.seconds_between(start, new_york.add(start, 23 * HOUR)) == 23 * HOUR
    assert new_york.add(start, 23 * HOUR) == dt.datetime(2026, 3, 9, 4, 0, tzinfo=dt.UTC)


def test_a_calendar_without_hours_is_refused():
    closed = Schedule(tz=ZoneInfo("UTC"), weekly={})

    with pytest.raises(NoBusinessHours):
        closed.add(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 60)
