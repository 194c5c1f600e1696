"""Fixtures for tickets: a controllable clock, a Shanghai business calendar, SLA policies,
departments, and a recorder for realtime pushes.

The calendar: Monday to Friday 09:00-12:00 and 13:00-18:00 (Asia/Shanghai, 8 business hours a
day), 2026-04-06 (Qingming, a Monday) closed, Saturday 2026-04-11 a make-up working day
09:00-18:00. The default policy "Standard" warns when 25% of a target remains.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pytest

from apps.routing.models import BusinessHours, BusinessHoursInterval, Holiday
from apps.tickets.models import Department, SLAPolicy, SLATarget, TicketCategory

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> dt.datetime:
    """Return a Shanghai wall-clock time as an aware datetime."""
    return dt.datetime(*args, tzinfo=SHANGHAI)


@dataclass
class Clock:
    now: dt.datetime

    def set(self, when: dt.datetime) -> None:
        self.now = when

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Freeze django.utils.timezone.now (services, auto_now fields) at a settable instant."""
    frozen = Clock(now=local(2026, 3, 2, 9, 0))  # a Monday, opening time
    monkeypatch.setattr("django.utils.timezone.now", lambda: frozen.now.astimezone(dt.UTC))
    return frozen


@pytest.fixture
def calendar(db) -> BusinessHours:
    calendar = BusinessHours.objects.create(name="Shanghai office", timezone="Asia/Shanghai")
    BusinessHoursInterval.objects.bulk_create(
        BusinessHoursInterval(calendar=calendar, weekday=weekday, opens=opens, closes=closes)
        for weekday in range(5)
        for opens, closes in ((dt.time(9), dt.time(12)), (dt.time(13), dt.time(18)))
    )
    Holiday.objects.bulk_create(
        [
            Holiday(calendar=calendar, date=dt.date(2026, 4, 6), name="清明节"),
            Holiday(
                calendar=calendar,
                date=dt.date(2026, 4, 11),
                name="调休上班",
                opens=dt.time(9),
                closes=dt.time(18),
            ),
        ]
    )
    return calendar


TARGETS = {  # priority: (first response minutes, resolution minutes)
    "low": (240, 2400),
    "normal": (60, 480),
    "high": (30, 240),
    "urgent": (15, 120),
}


@pytest.fixture
def policy(calendar) -> SLAPolicy:
    policy = SLAPolicy.objects.create(
        name="Standard", calendar=calendar, warning_percent=25, is_default=True
    )
    SLATarget.objects.bulk_create(
        SLATarget(
            policy=policy,
            priority=priority,
            first_response_minutes=first,
            resolution_minutes=resolution,
        )
        for priority, (first, resolution) in TARGETS.items()
    )
    return policy


@pytest.fixture
def departments(cast, policy) -> dict[str, Department]:
    return {
        "logistics": Department.objects.create(
            name="Logistics", slug="logistics", default_team=cast.team_b
        ),
        "support": Department.objects.create(
            name="Technical support", slug="support", default_team=cast.team_a
        ),
    }


@pytest.fixture
def category(departments) -> TicketCategory:
    return TicketCategory.objects.create(
        name="Delivery", slug="delivery", department=departments["logistics"]
    )


@dataclass
class Pushes:
    sent: list[tuple[str, str, dict]] = field(default_factory=list)

    def types_to(self, group: str) -> list[str]:
        return [message_type for to, message_type, _ in self.sent if to == group]


@pytest.fixture
def pushes(monkeypatch) -> Pushes:
    """Record the realtime pushes the ticket services schedule (group, type, payload)."""
    recorder = Pushes()
    monkeypatch.setattr(
        "apps.tickets.services.push_on_commit",
        lambda group, message_type, payload: recorder.sent.append((group, message_type, payload)),
    )
    return recorder
