"""Business time, the one calendar arithmetic: queues open by it, SLA clocks run only inside it."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from apps.core.business_hours import NoBusinessHours, Schedule

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600


def local(*args: int, tz: ZoneInfo = SHANGHAI) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


# Monday to Friday 09:00-12:00 and 13:00-18:00; Qingming Monday closed; make-up Saturday.
OFFICE = Schedule(
    tz=SHANGHAI,
    weekly={day: ((dt.time(9), dt.time(12)), (dt.time(13), dt.time(18))) for day in range(5)},
    special={
        dt.date(2026, 4, 6): (),  # Qingming holiday (a Monday)
        dt.date(2026, 4, 11): ((dt.time(9), dt.time(18)),),  # make-up working Saturday
        dt.date(2026, 4, 14): ((dt.time(10), dt.time(12)),),  # reduced hours (a Tuesday)
    },
)
# A night desk: Friday 22:00 to Saturday 06:00, and Saturday 05:00-09:00 overlapping it.
NIGHT_DESK = Schedule(
    tz=SHANGHAI,
    weekly={4: ((dt.time(22), dt.time(6)),), 5: ((dt.time(5), dt.time(9)),)},
)


@pytest.mark.parametrize(
    ("start", "seconds", "due"),
    [
        (local(2026, 3, 2, 9, 0), HOUR, local(2026, 3, 2, 10, 0)),
        (local(2026, 3, 2, 11, 30), HOUR, local(2026, 3, 2, 13, 30)),  # skips lunch
        (local(2026, 3, 2, 17, 30), HOUR, local(2026, 3, 3, 9, 30)),  # overnight
        (local(2026, 3, 6, 17, 30), HOUR, local(2026, 3, 9, 9, 30)),  # Friday to Monday
        (local(2026, 3, 6, 16, 0), 11 * HOUR, local(2026, 3, 10, 10, 0)),  # weekend, 2 days
        (local(2026, 3, 7, 10, 0), HOUR, local(2026, 3, 9, 10, 0)),  # from a Saturday
        (local(2026, 3, 2, 7, 0), 8 * HOUR, local(2026, 3, 2, 18, 0)),  # one working day
        (local(2026, 4, 3, 17, 0), 2 * HOUR, local(2026, 4, 7, 10, 0)),  # over the holiday
        (local(2026, 4, 10, 17, 0), 2 * HOUR, local(2026, 4, 11, 10, 0)),  # make-up Saturday
        (local(2026, 4, 13, 17, 0), 2 * HOUR, local(2026, 4, 14, 11, 0)),  # reduced hours
        (local(2026, 3, 2, 12, 30), 0, local(2026, 3, 2, 12, 30)),
    ],
)
def test_adding_business_time(start, seconds, due):
    assert OFFICE.add(start, seconds) == due


@pytest.mark.parametrize(
    ("start", "end", "seconds"),
    [
        (local(2026, 3, 2, 9, 0), local(2026, 3, 2, 18, 0), 8 * HOUR),
        (local(2026, 3, 6, 17, 0), local(2026, 3, 9, 10, 0), 2 * HOUR),  # over the weekend
        (local(2026, 3, 2, 12, 0), local(2026, 3, 2, 13, 0), 0),
        (local(2026, 3, 2, 10, 0), local(2026, 3, 2, 9, 0), -HOUR),
        (local(2026, 4, 3, 9, 0), local(2026, 4, 7, 9, 0), 8 * HOUR),  # holiday counts nothing
    ],
)
def test_business_seconds_between_two_instants(start, end, seconds):
    assert OFFICE.seconds_between(start, end) == seconds


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (utc(2026, 3, 2, 0, 59), False),  # Monday 08:59 in Shanghai
        (utc(2026, 3, 2, 1, 0), True),  # 09:00 opens (inclusive)
        (utc(2026, 3, 2, 4, 0), False),  # 12:00 lunch
        (utc(2026, 3, 2, 5, 0), True),  # 13:00
        (utc(2026, 3, 2, 10, 0), False),  # 18:00 closes (exclusive)
        (utc(2026, 3, 7, 3, 0), False),  # Saturday 11:00
        (utc(2026, 4, 6, 3, 0), False),  # Qingming holiday, 11:00
        (utc(2026, 4, 11, 3, 0), True),  # make-up Saturday, 11:00
        (utc(2026, 4, 14, 1, 30), False),  # reduced hours: 09:30
        (utc(2026, 4, 14, 3, 0), True),  # reduced hours: 11:00
        (utc(2026, 4, 14, 5, 0), False),  # reduced hours: 13:00
    ],
)
def test_open_hours_follow_the_calendars_time_zone_and_its_special_days(when, expected):
    assert OFFICE.is_open(when) is expected


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (local(2026, 3, 6, 21, 59), False),
        (local(2026, 3, 6, 22, 0), True),
        (local(2026, 3, 7, 3, 0), True),  # Saturday, still Friday's night
        (local(2026, 3, 7, 8, 59), True),  # Saturday's own morning
        (local(2026, 3, 7, 9, 0), False),
        (local(2026, 3, 2, 3, 0), False),  # Monday night: no span ran into it
    ],
)
def test_an_overnight_span_runs_into_the_next_day(when, expected):
    assert NIGHT_DESK.is_open(when) is expected


def test_overlapping_overnight_and_morning_spans_count_once():
    friday_night = local(2026, 3, 6, 22, 0)

    # 22:00-06:00 then 05:00-09:00 is one stretch of 11 hours, not 12.
    assert NIGHT_DESK.seconds_between(friday_night, local(2026, 3, 7, 12, 0)) == 11 * HOUR
    assert NIGHT_DESK.add(friday_night, 10 * HOUR) == local(2026, 3, 7, 8, 0)
    assert NIGHT_DESK.add(local(2026, 3, 7, 8, 0), 2 * HOUR) == local(2026, 3, 13, 23, 0)


def test_a_holiday_replaces_its_own_day_but_not_the_night_before():
    closed_saturday = Schedule(
        tz=SHANGHAI,
        weekly=NIGHT_DESK.weekly,
        special={dt.date(2026, 3, 7): ()},
    )

    assert closed_saturday.is_open(local(2026, 3, 7, 3, 0)) is True  # Friday's night
    assert closed_saturday.is_open(local(2026, 3, 7, 7, 0)) is False  # Saturday's span is off


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (local(2026, 4, 6, 0, 0), True),  # Qingming, from its first local minute
        (local(2026, 4, 6, 23, 59), True),
        (utc(2026, 4, 5, 15, 59), False),  # 23:59 the Sunday before, in Shanghai
        (local(2026, 4, 11, 20, 0), False),  # make-up Saturday: a working day, closed at night
        (local(2026, 4, 14, 15, 0), False),  # reduced hours, closed by now: not a holiday
        (local(2026, 4, 18, 11, 0), False),  # an ordinary Saturday: closed, no holiday
    ],
)
def test_a_holiday_is_a_dated_day_without_open_hours(when, expected):
    assert OFFICE.is_holiday(when) is expected


def test_midnight_closing_and_whole_days():
    evenings = Schedule(tz=SHANGHAI, weekly={0: ((dt.time(18), dt.time(0)),)})
    all_day = Schedule(tz=SHANGHAI, weekly={0: ((dt.time(0), dt.time(0)),)})

    assert evenings.is_open(local(2026, 3, 2, 23, 59)) is True
    assert evenings.is_open(local(2026, 3, 3, 0, 0)) is False
    assert all_day.seconds_between(local(2026, 3, 1, 12), local(2026, 3, 4, 12)) == 24 * HOUR


def test_daylight_saving_days_count_their_real_length():
    sundays = Schedule(tz=NEW_YORK, weekly={6: ((dt.time(0), dt.time(0)),)})
    spring = local(2026, 3, 8, 0, 0, tz=NEW_YORK)  # 23 hours long
    autumn = local(2026, 11, 1, 0, 0, tz=NEW_YORK)  # 25 hours long

    assert sundays.add(spring, 23 * HOUR) == utc(2026, 3, 9, 4, 0)
    assert sundays.seconds_between(spring, local(2026, 3, 9, 0, 0, tz=NEW_YORK)) == 23 * HOUR
    assert sundays.seconds_between(autumn, local(2026, 11, 2, 0, 0, tz=NEW_YORK)) == 25 * HOUR


def test_opening_keeps_local_wall_clock_time_across_a_daylight_saving_change():
    weekdays = Schedule(tz=NEW_YORK, weekly={day: ((dt.time(9), dt.time(17)),) for day in range(5)})

    assert weekdays.is_open(utc(2026, 3, 6, 14, 0)) is True  # Friday 09:00 EST = UTC-5
    assert weekdays.is_open(utc(2026, 3, 9, 13, 0)) is True  # Monday 09:00 EDT = UTC-4
    assert weekdays.is_open(utc(2026, 3, 9, 12, 59)) is False
    # Friday 16:00 EST + 2 business hours: Monday 10:00 EDT, one UTC hour "earlier" in the day.
    assert weekdays.add(utc(2026, 3, 6, 21, 0), 2 * HOUR) == utc(2026, 3, 9, 14, 0)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (local(2026, 3, 2, 10, 0), local(2026, 3, 2, 10, 0)),  # open now
        (local(2026, 3, 2, 12, 15), local(2026, 3, 2, 13, 0)),  # after lunch
        (local(2026, 3, 6, 18, 0), local(2026, 3, 9, 9, 0)),  # Friday evening: Monday
        (local(2026, 4, 3, 18, 0), local(2026, 4, 7, 9, 0)),  # over the holiday
        (local(2026, 4, 10, 18, 0), local(2026, 4, 11, 9, 0)),  # make-up Saturday
    ],
)
def test_next_opening(when, expected):
    assert OFFICE.next_opening(when) == expected


def test_a_calendar_without_hours_is_refused():
    closed = Schedule(tz=ZoneInfo("UTC"), weekly={})

    with pytest.raises(NoBusinessHours):
        closed.add(utc(2026, 1, 1), 60)
    with pytest.raises(NoBusinessHours):
        closed.next_opening(utc(2026, 1, 1))
    assert closed.seconds_between(utc(2026, 1, 1), utc(2026, 2, 1)) == 0


def test_a_schedule_built_from_stored_rows():
    built = Schedule.build(
        timezone="Asia/Shanghai",
        weekly=[(0, dt.time(13), dt.time(18)), (0, dt.time(9), dt.time(12))],
        special=[(dt.date(2026, 4, 6), None, None), (dt.date(2026, 4, 11), dt.time(9), None)],
    )

    assert built == Schedule(
        tz=SHANGHAI,
        weekly={0: ((dt.time(9), dt.time(12)), (dt.time(13), dt.time(18)))},
        special={dt.date(2026, 4, 6): (), dt.date(2026, 4, 11): ()},
    )
