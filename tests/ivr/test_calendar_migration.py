"""Moving IVR schedules onto routing's BusinessHours keeps every schedule's hours, holidays and the
flows that name it; the reverse gives the hours nodes their old schedules back."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.ivr.schedules import CLOSED, HOLIDAY, OPEN, schedule_state

BEFORE = [("ivr", "0001_initial"), ("routing", "0003_business_hours_union")]
AFTER = [("ivr", "0002_hours_nodes_use_routing_business_hours")]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture
def migrate_back(transactional_db):
    yield _migrate
    _migrate(_leaves())


def _hours_node(apps, flow_name, schedule):
    flow = apps.get_model("ivr", "Flow").objects.create(name=flow_name)
    version = flow.versions.create(number=1, status="published", entry_node="start")
    return version.nodes.create(
        key="start",
        kind="hours",
        config={"schedule": schedule, "next_open": "a", "next_closed": "b", "next_holiday": "c"},
    )


def test_schedules_become_business_hours_and_the_flows_follow_them(migrate_back):
    old = migrate_back(BEFORE)
    hours_model = old.get_model("routing", "BusinessHours")
    schedule_model = old.get_model("ivr", "Schedule")
    # A queue calendar identical to the "office" schedule, and a "night" one with other hours.
    queues_office = hours_model.objects.create(name="office", timezone="Asia/Shanghai")
    queues_office.intervals.create(weekday=0, opens=dt.time(9), closes=dt.time(18))
    queues_office.holidays.create(date=dt.date(2027, 1, 4), name="Day off")
    queues_night = hours_model.objects.create(name="night", timezone="UTC")
    queues_night.intervals.create(weekday=0, opens=dt.time(8), closes=dt.time(20))
    office = schedule_model.objects.create(
        name="office", timezone="Asia/Shanghai", weekly_hours={"mon": [["09:00", "18:00"]]}
    )
    office.holidays.create(date=dt.date(2027, 1, 4), name="Day off")
    night = schedule_model.objects.create(
        name="night",
        timezone="Mars/Olympus",  # the old lookup read an unknown zone as UTC
        weekly_hours={"fri": [["20:00", "24:00"]], "sat": [["00:00", "06:00"]]},
    )
    night.holidays.create(date=dt.date(2027, 1, 2), name="")
    weekend = schedule_model.objects.create(
        name="weekend",
        timezone="Asia/Shanghai",
        # What the old lookup skipped is left out: bad pairs, unknown days, empty spans.
        weekly_hours={"sat": [["10:00", "14:00"], ["x"], ["15:00", "15:00"]], "xyz": []},
    )
    weekend.holidays.create(date=dt.date(2027, 1, 9), name="Staff party")
    office_node = _hours_node(old, "Office line", "office")
    night_node = _hours_node(old, "Night line", "night")
    weekend_node = _hours_node(old, "Weekend line", "weekend")

    new = _migrate(AFTER)

    hours = new.get_model("routing", "BusinessHours")
    nodes = new.get_model("ivr", "FlowNode").objects
    assert nodes.get(pk=office_node.pk).config["schedule"] == "office"  # identical: reused
    assert nodes.get(pk=night_node.pk).config["schedule"] == "night (IVR)"
    assert nodes.get(pk=weekend_node.pk).config["schedule"] == "weekend"
    assert sorted(hours.objects.values_list("name", flat=True)) == [
        "night",
        "night (IVR)",
        "office",
        "weekend",
    ]
    copied_night = hours.objects.get(name="night (IVR)")
    assert copied_night.timezone == "UTC"
    assert [(i.weekday, i.opens, i.closes) for i in copied_night.intervals.all()] == [
        (4, dt.time(20), dt.time(0)),
        (5, dt.time(0), dt.time(6)),
    ]
    assert [(h.date, h.name, h.opens, h.closes) for h in copied_night.holidays.all()] == [
        (dt.date(2027, 1, 2), "", None, None)
    ]
    copied_weekend = hours.objects.get(name="weekend")
    assert [(i.weekday, i.opens, i.closes) for i in copied_weekend.intervals.all()] == [
        (5, dt.time(10), dt.time(14))
    ]
    assert hours.objects.get(name="night").intervals.get().opens == dt.time(8)  # untouched
    # The hours nodes answer as the old schedules did.
    assert schedule_state("night (IVR)", dt.datetime(2027, 1, 8, 23, tzinfo=dt.UTC)) == OPEN
    assert schedule_state("night (IVR)", dt.datetime(2027, 1, 2, 3, tzinfo=dt.UTC)) == HOLIDAY
    assert schedule_state("night (IVR)", dt.datetime(2027, 1, 9, 3, tzinfo=dt.UTC)) == OPEN
    assert schedule_state("office", dt.datetime(2027, 1, 4, 10, tzinfo=SHANGHAI)) == HOLIDAY
    assert schedule_state("office", dt.datetime(2027, 1, 11, 10, tzinfo=SHANGHAI)) == OPEN
    assert schedule_state("weekend", dt.datetime(2027, 1, 9, 11, tzinfo=SHANGHAI)) == HOLIDAY
    assert schedule_state("weekend", dt.datetime(2027, 1, 16, 14, tzinfo=SHANGHAI)) == CLOSED


def test_the_reverse_gives_hours_nodes_schedules_of_the_old_form(migrate_back):
    new = migrate_back(AFTER)
    hours_model = new.get_model("routing", "BusinessHours")
    office = hours_model.objects.create(name="Shanghai office (IVR)", timezone="Asia/Shanghai")
    office.intervals.create(weekday=0, opens=dt.time(9), closes=dt.time(18))
    office.intervals.create(weekday=6, opens=dt.time(22), closes=dt.time(2))  # into Monday
    office.intervals.create(weekday=2, opens=dt.time(18), closes=dt.time(0))  # to midnight
    office.holidays.create(date=dt.date(2027, 1, 1), name="New Year")
    office.holidays.create(date=dt.date(2027, 1, 9), opens=dt.time(9), closes=dt.time(12))
    unused = hours_model.objects.create(name="Queues only")
    node = _hours_node(new, "Office line", "Shanghai office (IVR)")

    old = _migrate(BEFORE)

    schedule = old.get_model("ivr", "Schedule").objects.get()
    assert (schedule.name, schedule.timezone) == ("shanghai-office", "Asia/Shanghai")
    assert schedule.weekly_hours == {
        "mon": [["00:00", "02:00"], ["09:00", "18:00"]],
        "wed": [["18:00", "24:00"]],
        "sun": [["22:00", "24:00"]],
    }
    # Only the whole closed day has an old form; the shorter day has none.
    assert [(h.date, h.name) for h in schedule.holidays.all()] == [
        (dt.date(2027, 1, 1), "New Year")
    ]
    assert old.get_model("ivr", "FlowNode").objects.get(pk=node.pk).config["schedule"] == (
        "shanghai-office"
    )
    assert old.get_model("routing", "BusinessHours").objects.filter(pk=unused.pk).exists()
