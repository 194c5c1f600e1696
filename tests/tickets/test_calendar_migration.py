"""Moving the SLA calendars onto routing's BusinessHours keeps every calendar's hours and policy."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("tickets", "0001_initial"), ("routing", "0002_lean_indexes_and_one_word_media")]
AFTER = [("tickets", "0002_sla_calendar_is_routing_business_hours")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_schema(transactional_db):
    apps = _migrate(BEFORE)
    yield apps
    _migrate(executor_leaves())


def executor_leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_sla_calendars_become_business_hours_with_their_hours_and_policies(old_schema):
    routing_hours = old_schema.get_model("routing", "BusinessHours")
    routing_interval = old_schema.get_model("routing", "BusinessHoursInterval")
    calendar_model = old_schema.get_model("tickets", "BusinessCalendar")
    policy_model = old_schema.get_model("tickets", "SLAPolicy")
    # A queue calendar of the same name with other hours, and one identical to an SLA calendar.
    queues = routing_hours.objects.create(name="Shanghai office", timezone="Asia/Shanghai")
    routing_interval.objects.create(
        calendar=queues, weekday=0, opens=dt.time(8), closes=dt.time(20)
    )
    same = routing_hours.objects.create(name="Weekdays", timezone="UTC")
    routing_interval.objects.create(calendar=same, weekday=1, opens=dt.time(9), closes=dt.time(17))
    office = calendar_model.objects.create(name="Shanghai office", timezone="Asia/Shanghai")
    office.weekly_hours.create(weekday=0, opens_at=dt.time(9), closes_at=dt.time(0))
    office.special_days.create(date=dt.date(2026, 4, 6), name="清明节")
    office.special_days.create(
        date=dt.date(2026, 4, 11), opens_at=dt.time(9), closes_at=dt.time(18)
    )
    weekdays = calendar_model.objects.create(name="Weekdays", timezone="UTC")
    weekdays.weekly_hours.create(weekday=1, opens_at=dt.time(9), closes_at=dt.time(17))
    policy_model.objects.create(name="Standard", calendar=office)
    policy_model.objects.create(name="Other", calendar=weekdays)

    apps = _migrate(AFTER)

    hours = apps.get_model("routing", "BusinessHours")
    policies = {p.name: p.calendar for p in apps.get_model("tickets", "SLAPolicy").objects.all()}
    copied = policies["Standard"]
    assert copied.name == "Shanghai office (SLA)"
    assert copied.timezone == "Asia/Shanghai"
    assert [(i.weekday, i.opens, i.closes) for i in copied.intervals.all()] == [
        (0, dt.time(9), dt.time(0))
    ]
    assert sorted((h.date, h.name, h.opens, h.closes) for h in copied.holidays.all()) == [
        (dt.date(2026, 4, 6), "清明节", None, None),
        (dt.date(2026, 4, 11), "", dt.time(9), dt.time(18)),
    ]
    assert policies["Other"].pk == same.pk  # identical hours: reused, not copied
    assert hours.objects.get(pk=queues.pk).intervals.get().opens == dt.time(8)  # untouched
    assert hours.objects.count() == 3
