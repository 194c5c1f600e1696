"""SLA clocks on business hours: deadlines, countdowns, pauses, warnings and escalation by the
beat sweep (each announcement once)."""

import pytest

from apps.core.realtime import agent_group, team_group
from apps.routing.calendar import calendar_is_open
from apps.tickets.models import TicketComment, TicketEvent
from apps.tickets.services import (
    ticket_comment_add,
    ticket_create,
    ticket_transition,
    ticket_update,
    tickets_sla_sweep,
)
from apps.tickets.tasks import sla_sweep
from tests.tickets.conftest import local

pytestmark = pytest.mark.django_db

HOUR = 3600


def _ticket(cast, **fields):
    return ticket_create(
        actor=cast.agent_a1.user,
        subject="Parcel not delivered",
        team=cast.team_a,
        assignee=cast.agent_a1.user,
        **fields,
    )


def test_deadlines_count_business_hours_only(cast, policy, clock):
    clock.set(local(2026, 3, 6, 17, 30))  # Friday, half an hour before closing

    ticket = _ticket(cast)

    assert ticket.sla_policy == policy
    assert ticket.first_response_due_at == local(2026, 3, 9, 9, 30)
    assert ticket.resolution_due_at == local(2026, 3, 9, 17, 30)


def test_deadlines_skip_holidays_and_count_make_up_working_days(cast, policy, clock):
    clock.set(local(2026, 4, 3, 17, 30))  # Friday before the Qingming Monday

    ticket = _ticket(cast, priority="urgent")

    assert ticket.first_response_due_at == local(2026, 4, 3, 17, 45)
    assert ticket.resolution_due_at == local(2026, 4, 7, 10, 30)
    clock.set(local(2026, 4, 10, 17, 30))  # Friday before the make-up Saturday
    assert _ticket(cast, priority="urgent").resolution_due_at == local(2026, 4, 11, 10, 30)


def test_the_department_policy_wins_over_the_default(cast, policy, departments, clock):
    vip = policy.__class__.objects.create(name="VIP desk", calendar=policy.calendar)
    vip.targets.create(priority="normal", first_response_minutes=5, resolution_minutes=60)
    departments["support"].sla_policy = vip
    departments["support"].save()

    ticket = _ticket(cast, department=departments["support"])

    assert ticket.sla_policy == vip
    assert ticket.first_response_due_at == local(2026, 3, 2, 9, 5)


def test_no_policy_means_no_clock(cast, clock):
    ticket = _ticket(cast)

    assert ticket.first_response_due_at is None
    assert tickets_sla_sweep() == 0


def test_the_countdown_in_the_api(cast, client_as, policy, clock):
    ticket = _ticket(cast)
    clock.set(local(2026, 3, 2, 9, 40))

    sla = client_as(cast.agent_a1.user).get(f"/api/v1/tickets/{ticket.pk}/").json()["sla"]

    assert sla == {
        "policy": "Standard",
        "state": "ok",
        "remaining_seconds": 20 * 60,
        "ticking": True,
        "paused": False,
        "first_response_due": "2026-03-02T02:00:00Z",
        "first_response_state": "ok",
        "first_response_remaining_seconds": 20 * 60,
        "resolution_due": "2026-03-02T10:00:00Z",
        "resolution_state": "ok",
        "resolution_remaining_seconds": 7 * HOUR + 20 * 60,
    }


def test_the_countdown_state(cast, client_as, policy, clock):
    ticket = _ticket(cast)
    seen = []

    for now in (
        local(2026, 3, 2, 9, 44),
        local(2026, 3, 2, 9, 46),
        local(2026, 3, 2, 10, 30),
        local(2026, 3, 2, 12, 30),  # lunch: the countdown stops
    ):
        clock.set(now)
        sla = client_as(cast.admin).get(f"/api/v1/tickets/{ticket.pk}/").json()["sla"]
        seen.append(
            (
                sla["state"],
                sla["first_response_state"],
                sla["first_response_remaining_seconds"],
                sla["ticking"],
            )
        )

    assert seen == [
        ("ok", "ok", 16 * 60, True),
        ("warning", "warning", 14 * 60, True),
        ("breached", "breached", -30 * 60, True),
        ("breached", "breached", -2 * HOUR, False),
    ]


def test_the_first_public_reply_meets_the_first_response_target(cast, policy, clock):
    ticket = _ticket(cast)
    clock.set(local(2026, 3, 2, 9, 50))

    ticket_comment_add(
        actor=cast.agent_a1.user, ticket=ticket, body="Internal", visibility="internal"
    )
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None
    ticket_comment_add(
        actor=cast.agent_a1.user, ticket=ticket, body="We are on it", visibility="public"
    )

    ticket.refresh_from_db()
    assert ticket.first_responded_at == clock.now
    assert ticket.status == "open"
    clock.set(local(2026, 3, 2, 11, 0))
    assert tickets_sla_sweep() == 0


def test_pending_pauses_the_resolution_clock_and_pushes_the_deadline_back(
    cast, client_as, policy, clock
):
    ticket = _ticket(cast)
    clock.set(local(2026, 3, 2, 10, 0))
    ticket = ticket_transition(
        actor=cast.admin, ticket=ticket, action="pend", pending_reason="customer"
    )
    clock.set(local(2026, 3, 3, 10, 0))  # the rest of Monday and one hour on Tuesday: 8 hours

    sla = client_as(cast.admin).get(f"/api/v1/tickets/{ticket.pk}/").json()["sla"]
    assert (sla["resolution_state"], sla["paused"]) == ("paused", True)
    assert tickets_sla_sweep() == 2  # the first response clock's warning and breach only
    assert set(
        ticket.events.filter(kind__startswith="sla").values_list("data__clock", flat=True)
    ) == {"first_response"}

    ticket = ticket_transition(actor=cast.admin, ticket=ticket, action="resume")

    assert ticket.sla_paused_seconds == 8 * HOUR
    assert ticket.resolution_due_at == local(2026, 3, 3, 18, 0)


def test_a_policy_may_keep_the_clock_running_while_pending(cast, policy, clock):
    policy.pause_when_pending = False
    policy.save()
    ticket = _ticket(cast)

    ticket = ticket_transition(
        actor=cast.admin, ticket=ticket, action="pend", pending_reason="third_party"
    )

    assert ticket.sla_paused_at is None
    clock.set(local(2026, 3, 2, 18, 0))
    tickets_sla_sweep()
    assert TicketEvent.objects.filter(
        ticket=ticket, kind="sla_breached", data__clock="resolution"
    ).exists()


def test_reopening_starts_a_new_resolution_cycle(cast, policy, clock):
    ticket = _ticket(cast)
    ticket = ticket_transition(actor=cast.admin, ticket=ticket, action="resolve")
    clock.set(local(2026, 3, 4, 15, 0))

    ticket = ticket_transition(actor=cast.admin, ticket=ticket, action="reopen")

    assert ticket.sla_cycle_started_at == clock.now
    assert ticket.resolution_due_at == local(2026, 3, 5, 15, 0)


def test_a_new_priority_retargets_the_clocks(cast, policy, clock):
    ticket = _ticket(cast)

    ticket = ticket_update(actor=cast.admin, ticket=ticket, priority="urgent")

    assert ticket.first_response_due_at == local(2026, 3, 2, 9, 15)
    assert ticket.resolution_due_at == local(2026, 3, 2, 11, 0)


def test_the_sweep_warns_then_escalates_once(cast, policy, clock, pushes):
    ticket = _ticket(cast)
    agent_a1 = agent_group(cast.agent_a1.pk)
    supervisor_watch = cast.supervisor_a

    clock.set(local(2026, 3, 2, 9, 44))
    assert sla_sweep() == 0
    clock.set(local(2026, 3, 2, 9, 45))  # 75% of the hour used
    assert sla_sweep() == 1
    assert sla_sweep() == 0
    ticket.refresh_from_db()
    assert ticket.escalation_level == 0
    assert pushes.types_to(agent_a1) == ["ticket.assigned", "ticket.sla_warning"]
    assert pushes.types_to(team_group(cast.team_a.pk)) == ["ticket.created", "ticket.sla_warning"]

    clock.set(local(2026, 3, 2, 10, 0))
    assert sla_sweep() == 1
    assert sla_sweep() == 0

    ticket.refresh_from_db()
    assert ticket.escalation_level == 1
    assert ticket.first_response_sla_level == 2
    assert list(ticket.watchers.all()) == [supervisor_watch]
    note = TicketComment.objects.get(ticket=ticket, author_kind="system")
    assert note.visibility == "internal"
    assert note.body == (
        "SLA missed: the first response was due at 2026-03-02T02:00+00:00. Escalated to level 1."
    )
    assert pushes.types_to(agent_a1)[-1] == "ticket.sla_breached"
    assert [e.kind for e in ticket.events.filter(kind__startswith="sla")] == [
        "sla_warning",
        "sla_breached",
    ]


def test_the_sweep_catches_up_on_a_missed_warning_and_both_clocks(cast, policy, clock):
    ticket = _ticket(cast)
    clock.set(local(2026, 3, 3, 9, 0))  # a day later: everything is overdue

    assert tickets_sla_sweep() == 4

    ticket.refresh_from_db()
    assert ticket.escalation_level == 2
    assert sorted(
        (e.kind, e.data["clock"]) for e in ticket.events.filter(kind__startswith="sla")
    ) == [
        ("sla_breached", "first_response"),
        ("sla_breached", "resolution"),
        ("sla_warning", "first_response"),
        ("sla_warning", "resolution"),
    ]


def test_resolved_tickets_are_not_escalated(cast, policy, clock):
    ticket = _ticket(cast)
    ticket_transition(actor=cast.admin, ticket=ticket, action="resolve")
    clock.set(local(2026, 3, 3, 9, 0))

    assert tickets_sla_sweep() == 0
    ticket.refresh_from_db()
    assert ticket.escalation_level == 0


def test_the_overdue_filter(cast, client_as, policy, clock):
    late = _ticket(cast)
    clock.set(local(2026, 3, 2, 10, 30))
    on_time = _ticket(cast)

    response = client_as(cast.admin).get("/api/v1/tickets/", {"overdue": "true"})

    assert [t["id"] for t in response.json()["results"]] == [late.pk]
    assert on_time.pk not in [t["id"] for t in response.json()["results"]]


def test_a_calendar_without_open_hours_leaves_the_ticket_without_deadlines(cast, policy, clock):
    policy.calendar.intervals.all().delete()
    policy.calendar.holidays.all().delete()

    ticket = _ticket(cast)

    assert (ticket.first_response_due_at, ticket.resolution_due_at) == (None, None)
    assert tickets_sla_sweep() == 0


def test_queues_and_sla_clocks_read_the_same_calendar(cast, policy, clock):
    # One BusinessHours record: a queue on it is open exactly while the SLA clock runs.
    make_up_saturday = local(2026, 4, 11, 10, 0)
    qingming_monday = local(2026, 4, 6, 10, 0)
    clock.set(make_up_saturday)

    ticket = _ticket(cast, priority="urgent")

    assert calendar_is_open(policy.calendar, make_up_saturday) is True
    assert calendar_is_open(policy.calendar, qingming_monday) is False
    assert ticket.first_response_due_at == local(2026, 4, 11, 10, 15)
