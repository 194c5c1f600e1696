"""Business-hours nodes read the suite's one calendar (routing.BusinessHours): open, closed, or a
holiday (a dated day closed all day), in the calendar's time zone, agreeing with the queues."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from apps.ivr.tester import flow_test_run
from apps.routing.calendar import calendar_is_open
from apps.routing.models import BusinessHours
from tests.ivr.conftest import DID, make_flow

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def hours_flow(*, holiday_branch: bool = True) -> dict[str, tuple[str, dict]]:
    config = {"schedule": "Shanghai office", "next_open": "open", "next_closed": "closed"}
    nodes = {
        "start": ("hours", config),
        "open": ("queue", {"queue": "sales"}),
        "closed": ("hangup", {"prompt": "closed"}),
    }
    if holiday_branch:
        config["next_holiday"] = "holiday"
        nodes["holiday"] = ("hangup", {"prompt": "holiday"})
    return nodes


@pytest.fixture
def office() -> BusinessHours:
    """Weekdays 09:00-18:00 and a Thursday night line 22:00-02:00, in Shanghai."""
    calendar = BusinessHours.objects.create(name="Shanghai office", timezone="Asia/Shanghai")
    for weekday in range(5):
        calendar.intervals.create(weekday=weekday, opens=dt.time(9), closes=dt.time(18))
    calendar.intervals.create(weekday=3, opens=dt.time(22), closes=dt.time(2))
    calendar.holidays.create(date=dt.date(2027, 1, 1), name="New Year")  # a Friday
    calendar.holidays.create(date=dt.date(2027, 1, 4))  # closed all day, nameless
    calendar.holidays.create(
        date=dt.date(2026, 12, 24), name="Christmas Eve", opens=dt.time(9), closes=dt.time(12)
    )
    calendar.holidays.create(
        date=dt.date(2027, 1, 9), name="Make-up day", opens=dt.time(9), closes=dt.time(18)
    )
    return calendar


def branch_taken(flow, when: dt.datetime) -> tuple[str, str]:
    run = flow_test_run(
        version_id=flow.live_version_id,
        caller_number="13800138000",
        when=when,
        inputs=["hangup"],
        did=DID,
    )
    entered = [event.node for event in run.events if event.event == "enter"]
    (detail,) = [event.detail for event in run.events if event.event == "branch"]
    return entered[1], detail


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (local(2027, 1, 1, 10, 0), "holiday"),  # New Year's Day, in working hours
        (dt.datetime(2026, 12, 31, 18, 30, tzinfo=dt.UTC), "holiday"),  # 1 Jan 02:30 local
        (local(2027, 1, 1, 1, 0), "open"),  # Thursday's night line runs into the holiday
        (local(2027, 1, 4, 10, 0), "holiday"),  # a closed day without a name is a holiday too
        (local(2026, 12, 24, 11, 0), "open"),  # shorter day, still open
        (local(2026, 12, 24, 15, 0), "closed"),  # shorter day, over: closed, not a holiday
        (local(2027, 1, 9, 10, 0), "open"),  # make-up Saturday
        (local(2027, 1, 16, 10, 0), "closed"),  # an ordinary Saturday
        (local(2027, 1, 5, 8, 59), "closed"),  # Tuesday before opening
    ],
)
def test_hours_nodes_branch_open_closed_or_holiday_like_the_queues_calendar(office, when, expected):
    flow = make_flow(hours_flow())

    taken, detail = branch_taken(flow, when)

    assert (taken, detail) == (expected, expected)
    assert calendar_is_open(office, when) is (expected == "open")


def test_without_a_holiday_branch_a_holiday_goes_the_closed_way(office):
    flow = make_flow(hours_flow(holiday_branch=False))

    assert branch_taken(flow, local(2027, 1, 1, 10, 0)) == ("closed", "holiday")


def test_a_renamed_calendar_sends_callers_the_closed_way(office):
    flow = make_flow(hours_flow())
    office.name = "Head office"
    office.save()

    assert branch_taken(flow, local(2027, 1, 5, 10, 0)) == ("closed", "no schedule")
