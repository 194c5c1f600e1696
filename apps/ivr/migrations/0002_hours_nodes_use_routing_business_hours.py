# One calendar for the suite: business-hours nodes name a routing.BusinessHours calendar.
# Each ivr Schedule is copied there: its JSON weekly hours become intervals ("24:00" closes at
# midnight), its holidays become named days closed all day. A routing calendar of the same name
# holding exactly the same hours is reused, else the copy gets a free name ("NAME (IVR)") and the
# flow nodes naming the schedule are pointed at it. The ivr tables are then dropped. The reverse
# copies the calendars hours nodes name back into ivr tables, as far as the old format can say.

import datetime as dt
import re
import zoneinfo

from django.db import migrations

SUFFIX = " (IVR)"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME_RE = re.compile(r"^([01][0-9]|2[0-4]):([0-5][0-9])$")
MIDNIGHT = 24 * 60


def _minutes(value):
    match = TIME_RE.match(str(value))
    if match is None:
        raise ValueError(value)
    return int(match.group(1)) * 60 + int(match.group(2))


def _weekly_spans(weekly):
    """Return the (weekday, opens, closes) the old JSON hours meant; unreadable entries (which the
    old check skipped) are left out."""
    spans = []
    for day, intervals in (weekly if isinstance(weekly, dict) else {}).items():
        if day not in WEEKDAYS or not isinstance(intervals, list):
            continue
        for interval in intervals:
            try:
                start, end = (_minutes(part) for part in interval)
            except (TypeError, ValueError):
                continue
            end = min(end, MIDNIGHT)  # the old check never saw a minute past the day's end
            if start >= end:
                continue
            closes = dt.time(0) if end == MIDNIGHT else dt.time(end // 60, end % 60)
            spans.append((WEEKDAYS.index(day), dt.time(start // 60, start % 60), closes))
    return spans


def _hours(timezone, weekly, special):
    return (
        timezone,
        sorted((row.weekday, row.opens, row.closes) for row in weekly),
        sorted((row.date, row.name, row.opens, row.closes) for row in special),
    )


def _free_name(BusinessHours, name):
    candidate = name
    number = 1
    while BusinessHours.objects.filter(name=candidate).exists():
        number += 1
        tail = SUFFIX if number == 2 else f" (IVR {number})"
        candidate = name[: 100 - len(tail)] + tail
    return candidate


def _hours_nodes_by_name(FlowNode):
    """Return {calendar name: [hours node]}, read once before any node is renamed."""
    nodes = {}
    for node in FlowNode.objects.filter(kind="hours").order_by("pk"):
        if isinstance(node.config, dict) and node.config.get("schedule"):
            nodes.setdefault(str(node.config["schedule"]), []).append(node)
    return nodes


def _rename(nodes, new):
    # Published versions are frozen for users, not for the schema: their nodes follow the rename.
    for node in nodes:
        node.config["schedule"] = new
        node.save(update_fields=["config"])


def schedules_to_business_hours(apps, schema_editor):
    Schedule = apps.get_model("ivr", "Schedule")
    FlowNode = apps.get_model("ivr", "FlowNode")
    BusinessHours = apps.get_model("routing", "BusinessHours")
    BusinessHoursInterval = apps.get_model("routing", "BusinessHoursInterval")
    Holiday = apps.get_model("routing", "Holiday")

    nodes = _hours_nodes_by_name(FlowNode)
    for schedule in Schedule.objects.order_by("pk"):
        # The old lookup read an unknown zone as UTC.
        timezone = (
            schedule.timezone if schedule.timezone in zoneinfo.available_timezones() else "UTC"
        )
        weekly = [
            BusinessHoursInterval(weekday=weekday, opens=opens, closes=closes)
            for weekday, opens, closes in _weekly_spans(schedule.weekly_hours)
        ]
        special = [
            Holiday(date=row.date, name=row.name, opens=None, closes=None)
            for row in schedule.holidays.all()
        ]
        wanted = _hours(timezone, weekly, special)
        target = BusinessHours.objects.filter(name=schedule.name).first()
        if target is None or (
            _hours(target.timezone, target.intervals.all(), target.holidays.all()) != wanted
        ):
            target = BusinessHours.objects.create(
                name=_free_name(BusinessHours, schedule.name), timezone=timezone
            )
            for row in weekly + special:
                row.calendar = target
            BusinessHoursInterval.objects.bulk_create(weekly)
            Holiday.objects.bulk_create(special)
        if target.name != schedule.name:
            _rename(nodes.get(schedule.name, []), target.name)


def _old_name(Schedule, name):
    base = re.sub(r" \(IVR( \d+)?\)$", "", name)
    slug = re.sub(r"[^-a-zA-Z0-9_]+", "-", base).strip("-").lower()[:60] or "schedule"
    candidate, number = slug, 1
    while Schedule.objects.filter(name=candidate).exists():
        number += 1
        candidate = f"{slug[: 60 - len(str(number)) - 1]}-{number}"
    return candidate


def _time_text(value):
    return f"{value:%H:%M}"


def business_hours_to_schedules(apps, schema_editor):
    Schedule = apps.get_model("ivr", "Schedule")
    IvrHoliday = apps.get_model("ivr", "Holiday")
    FlowNode = apps.get_model("ivr", "FlowNode")
    BusinessHours = apps.get_model("routing", "BusinessHours")

    nodes = _hours_nodes_by_name(FlowNode)
    for hours in BusinessHours.objects.filter(name__in=list(nodes)).order_by("pk"):
        weekly = {}
        for row in hours.intervals.order_by("weekday", "opens"):
            day = WEEKDAYS[row.weekday]
            opens = _time_text(row.opens)
            if row.closes > row.opens:
                weekly.setdefault(day, []).append([opens, _time_text(row.closes)])
                continue
            # The old format has no overnight span: up to midnight, then on the next morning.
            weekly.setdefault(day, []).append([opens, "24:00"])
            if row.closes != dt.time(0):
                following = WEEKDAYS[(row.weekday + 1) % 7]
                weekly.setdefault(following, []).append(["00:00", _time_text(row.closes)])
        schedule = Schedule.objects.create(
            name=_old_name(Schedule, hours.name),
            timezone=hours.timezone,
            weekly_hours={day: sorted(spans) for day, spans in weekly.items()},
        )
        # Only whole closed days were holidays; shorter and make-up days have no old form.
        IvrHoliday.objects.bulk_create(
            IvrHoliday(schedule=schedule, date=row.date, name=row.name)
            for row in hours.holidays.filter(opens__isnull=True)
        )
        if schedule.name != hours.name:
            _rename(nodes[hours.name], schedule.name)


class Migration(migrations.Migration):
    dependencies = [
        ("ivr", "0001_initial"),
        ("routing", "0003_business_hours_union"),
    ]

    operations = [
        migrations.RunPython(schedules_to_business_hours, business_hours_to_schedules),
        migrations.DeleteModel(name="Holiday"),
        migrations.DeleteModel(name="Schedule"),
    ]
