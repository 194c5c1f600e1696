# One calendar model for the suite: SLA policies count business time on routing.BusinessHours.
# Each tickets BusinessCalendar is copied there with its weekly hours and special days (reusing a
# routing calendar of the same name when it holds exactly the same hours, else under a new name),
# policies are pointed at the copy, and the tickets calendar tables are dropped. The reverse copies
# the calendars the policies use back into tickets tables.

import django.db.models.deletion
from django.db import migrations, models

SUFFIX = " (SLA)"


def _hours(calendar, weekly, special):
    return (
        calendar.timezone,
        sorted((row.weekday, row.opens, row.closes) for row in weekly),
        sorted((row.date, row.name, row.opens, row.closes) for row in special),
    )


def _free_name(BusinessHours, name):
    candidate = name
    number = 1
    while BusinessHours.objects.filter(name=candidate).exists():
        number += 1
        tail = SUFFIX if number == 2 else f" (SLA {number})"
        candidate = name[: 100 - len(tail)] + tail
    return candidate


def calendars_to_business_hours(apps, schema_editor):
    BusinessCalendar = apps.get_model("tickets", "BusinessCalendar")
    SLAPolicy = apps.get_model("tickets", "SLAPolicy")
    BusinessHours = apps.get_model("routing", "BusinessHours")
    BusinessHoursInterval = apps.get_model("routing", "BusinessHoursInterval")
    Holiday = apps.get_model("routing", "Holiday")

    for calendar in BusinessCalendar.objects.order_by("pk"):
        weekly = [
            BusinessHoursInterval(weekday=row.weekday, opens=row.opens_at, closes=row.closes_at)
            for row in calendar.weekly_hours.all()
        ]
        special = [
            Holiday(date=row.date, name=row.name, opens=row.opens_at, closes=row.closes_at)
            for row in calendar.special_days.all()
        ]
        wanted = _hours(calendar, weekly, special)
        target = BusinessHours.objects.filter(name=calendar.name).first()
        if (
            target is None
            or _hours(target, target.intervals.all(), target.holidays.all()) != wanted
        ):
            target = BusinessHours.objects.create(
                name=_free_name(BusinessHours, calendar.name), timezone=calendar.timezone
            )
            for row in weekly + special:
                row.calendar = target
            BusinessHoursInterval.objects.bulk_create(weekly)
            Holiday.objects.bulk_create(special)
        SLAPolicy.objects.filter(calendar=calendar).update(business_hours=target)


def business_hours_to_calendars(apps, schema_editor):
    BusinessCalendar = apps.get_model("tickets", "BusinessCalendar")
    WeeklyHours = apps.get_model("tickets", "WeeklyHours")
    SpecialDay = apps.get_model("tickets", "SpecialDay")
    SLAPolicy = apps.get_model("tickets", "SLAPolicy")
    BusinessHours = apps.get_model("routing", "BusinessHours")

    used = SLAPolicy.objects.values_list("business_hours", flat=True).distinct()
    for hours in BusinessHours.objects.filter(pk__in=used).order_by("pk"):
        calendar = BusinessCalendar.objects.create(name=hours.name, timezone=hours.timezone)
        WeeklyHours.objects.bulk_create(
            WeeklyHours(
                calendar=calendar, weekday=row.weekday, opens_at=row.opens, closes_at=row.closes
            )
            for row in hours.intervals.all()
        )
        SpecialDay.objects.bulk_create(
            SpecialDay(
                calendar=calendar,
                date=row.date,
                name=row.name,
                opens_at=row.opens,
                closes_at=row.closes,
            )
            for row in hours.holidays.all()
        )
        SLAPolicy.objects.filter(business_hours=hours).update(calendar=calendar)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_initial"),
        ("routing", "0003_business_hours_union"),
    ]

    operations = [
        migrations.AddField(
            model_name="slapolicy",
            name="business_hours",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="routing.businesshours",
            ),
        ),
        # Nullable while the rows move, so the reverse can re-create calendars before filling it.
        migrations.AlterField(
            model_name="slapolicy",
            name="calendar",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                to="tickets.businesscalendar",
                verbose_name="business calendar",
            ),
        ),
        migrations.RunPython(calendars_to_business_hours, business_hours_to_calendars),
        migrations.RemoveField(model_name="slapolicy", name="calendar"),
        migrations.RenameField(
            model_name="slapolicy", old_name="business_hours", new_name="calendar"
        ),
        migrations.AlterField(
            model_name="slapolicy",
            name="calendar",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="sla_policies",
                to="routing.businesshours",
                verbose_name="business calendar",
            ),
        ),
        migrations.DeleteModel(name="SpecialDay"),
        migrations.DeleteModel(name="WeeklyHours"),
        migrations.DeleteModel(name="BusinessCalendar"),
    ]
