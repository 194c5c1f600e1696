"""SLA clocks of a ticket: deadlines on business hours, pauses, and the countdown shown to agents.

Two clocks run from the policy's target for the ticket's priority:
- first response: from creation until the first public staff reply (never paused);
- resolution: from creation (or the last reopen) until resolved, paused while pending when the
  policy says so; the business time spent paused pushes the deadline back.
Deadlines and warning instants are stored on the ticket so the beat sweep is one indexed query.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.business_hours import NoBusinessHours, Schedule
from apps.tickets.models import ACTIVE_STATUSES, SLAPolicy, SLATarget, Status, Ticket

logger = logging.getLogger(__name__)

# Levels stored in Ticket.*_sla_level: what the sweep already announced for the current deadline.
LEVEL_NONE, LEVEL_WARNING, LEVEL_BREACHED = 0, 1, 2


class SLAState(models.TextChoices):
    OK = "ok", _("On time")
    WARNING = "warning", _("Deadline near")
    BREACHED = "breached", _("Deadline missed")
    MET = "met", _("Met")
    PAUSED = "paused", _("Paused")
    NONE = "none", _("No SLA")


STATE_OK, STATE_WARNING, STATE_BREACHED = SLAState.OK, SLAState.WARNING, SLAState.BREACHED
STATE_MET, STATE_PAUSED, STATE_NONE = SLAState.MET, SLAState.PAUSED, SLAState.NONE
_STATE_RANK = {
    STATE_NONE: 0,
    STATE_MET: 1,
    STATE_PAUSED: 2,
    STATE_OK: 3,
    STATE_WARNING: 4,
    STATE_BREACHED: 5,
}


def policy_for(ticket: Ticket) -> SLAPolicy | None:
    """Return the department's policy, else the default one, else None (no SLA)."""
    if ticket.department_id and ticket.department.sla_policy_id:
        return ticket.department.sla_policy
    return SLAPolicy.objects.filter(is_default=True).select_related("calendar").first()


def _target(policy: SLAPolicy, priority: str) -> SLATarget | None:
    return next((t for t in policy.targets.all() if t.priority == priority), None)


def _level_now(now: dt.datetime, warn_at: dt.datetime | None, due_at: dt.datetime | None) -> int:
    if due_at is not None and now >= due_at:
        return LEVEL_BREACHED
    if warn_at is not None and now >= warn_at:
        return LEVEL_WARNING
    return LEVEL_NONE


def schedule_deadlines(ticket: Ticket, *, now: dt.datetime) -> list[str]:
    """Recompute the ticket's deadlines from its policy and priority; return the changed fields.

    Levels already announced are kept only while the deadline they were about is unchanged.
    """
    policy = ticket.sla_policy
    target = _target(policy, ticket.priority) if policy is not None else None
    fields = [
        "first_response_due_at",
        "first_response_warn_at",
        "first_response_sla_level",
        "resolution_due_at",
        "resolution_warn_at",
        "resolution_sla_level",
    ]
    if target is None:
        for name in fields:
            setattr(ticket, name, 0 if name.endswith("level") else None)
        return fields
    schedule = policy.calendar.schedule()
    keep_share = 1 - policy.warning_percent / 100
    created = ticket.created_at or now
    try:
        schedule.add(created, 1)
    except NoBusinessHours:
        # A calendar without open hours is a configuration mistake: the ticket must still be
        # created, it just runs without deadlines until the calendar is fixed.
        logger.error(
            "SLA calendar %s has no open hours; ticket %s has no deadlines",
            policy.calendar,
            ticket.pk,
        )
        for name in fields:
            setattr(ticket, name, 0 if name.endswith("level") else None)
        return fields
    first_total = target.first_response_minutes * 60
    first_due = schedule.add(created, first_total)
    if first_due != ticket.first_response_due_at:
        ticket.first_response_due_at = first_due
        ticket.first_response_warn_at = schedule.add(created, first_total * keep_share)
        ticket.first_response_sla_level = LEVEL_NONE
    start = ticket.sla_cycle_started_at or created
    resolution_total = target.resolution_minutes * 60
    resolution_due = schedule.add(start, resolution_total + ticket.sla_paused_seconds)
    if resolution_due != ticket.resolution_due_at:
        ticket.resolution_due_at = resolution_due
        ticket.resolution_warn_at = schedule.add(
            start, resolution_total * keep_share + ticket.sla_paused_seconds
        )
        ticket.resolution_sla_level = LEVEL_NONE
    return fields


def pause(ticket: Ticket, *, now: dt.datetime) -> list[str]:
    """Stop the resolution clock (ticket going pending) when the policy pauses on pending."""
    if ticket.sla_policy is None or not ticket.sla_policy.pause_when_pending:
        return []
    if ticket.sla_paused_at is not None:
        return []
    ticket.sla_paused_at = now
    return ["sla_paused_at"]


def resume(ticket: Ticket, *, now: dt.datetime) -> list[str]:
    """Restart the resolution clock and push its deadline back by the business time paused."""
    if ticket.sla_paused_at is None:
        return []
    schedule = ticket.sla_policy.calendar.schedule()
    ticket.sla_paused_seconds += max(0.0, schedule.seconds_between(ticket.sla_paused_at, now))
    ticket.sla_paused_at = None
    return ["sla_paused_at", "sla_paused_seconds", *schedule_deadlines(ticket, now=now)]


def restart(ticket: Ticket, *, now: dt.datetime) -> list[str]:
    """Start a new resolution cycle (after a reopen)."""
    ticket.sla_cycle_started_at = now
    ticket.sla_paused_at = None
    ticket.sla_paused_seconds = 0
    return [
        "sla_cycle_started_at",
        "sla_paused_at",
        "sla_paused_seconds",
        *schedule_deadlines(ticket, now=now),
    ]


def first_response_running(ticket: Ticket) -> bool:
    return (
        ticket.first_response_due_at is not None
        and ticket.first_responded_at is None
        and ticket.status in ACTIVE_STATUSES
    )


def resolution_running(ticket: Ticket) -> bool:
    return (
        ticket.resolution_due_at is not None
        and ticket.sla_paused_at is None
        and ticket.status in ACTIVE_STATUSES
    )


def _clock(
    *,
    schedule: Schedule,
    now: dt.datetime,
    due: dt.datetime | None,
    warn: dt.datetime | None,
    running: bool,
    done_at: dt.datetime | None,
    paused: bool = False,
) -> tuple[str, int | None]:
    if due is None:
        return STATE_NONE, None
    if done_at is not None and not running:
        return (STATE_MET if done_at <= due else STATE_BREACHED), None
    if paused:
        return STATE_PAUSED, int(schedule.seconds_between(now, due))
    if not running:
        return STATE_NONE, None
    remaining = int(schedule.seconds_between(now, due))
    level = _level_now(now, warn, due)
    state = {LEVEL_BREACHED: STATE_BREACHED, LEVEL_WARNING: STATE_WARNING}.get(level, STATE_OK)
    return state, remaining


def snapshot(ticket: Ticket, *, now: dt.datetime) -> dict[str, Any]:
    """Return the countdown shown to agents and API clients.

    remaining_seconds are business seconds (negative once breached); the countdown only moves
    while the calendar is open, which `ticking` tells a UI that animates it.
    """
    policy = ticket.sla_policy
    empty = {
        "policy": None,
        "state": STATE_NONE,
        "remaining_seconds": None,
        "ticking": False,
        "first_response_due": None,
        "first_response_state": STATE_NONE,
        "first_response_remaining_seconds": None,
        "resolution_due": None,
        "resolution_state": STATE_NONE,
        "resolution_remaining_seconds": None,
        "paused": False,
    }
    if policy is None or ticket.first_response_due_at is None:
        return empty
    schedule = policy.calendar.schedule()
    paused = ticket.sla_paused_at is not None and ticket.status in ACTIVE_STATUSES
    first_state, first_remaining = _clock(
        schedule=schedule,
        now=now,
        due=ticket.first_response_due_at,
        warn=ticket.first_response_warn_at,
        running=first_response_running(ticket),
        done_at=ticket.first_responded_at,
    )
    resolution_done = (
        ticket.resolved_at if ticket.status in (Status.RESOLVED, Status.CLOSED) else None
    )
    resolution_state, resolution_remaining = _clock(
        schedule=schedule,
        now=now,
        due=ticket.resolution_due_at,
        warn=ticket.resolution_warn_at,
        running=resolution_running(ticket),
        done_at=resolution_done,
        paused=paused,
    )
    running_remaining = [
        value
        for value, state in (
            (first_remaining, first_state),
            (resolution_remaining, resolution_state),
        )
        if value is not None and state != STATE_PAUSED
    ]
    state = max((first_state, resolution_state), key=_STATE_RANK.__getitem__)
    return {
        "policy": policy.name,
        "state": state,
        "remaining_seconds": min(running_remaining) if running_remaining else None,
        "ticking": bool(running_remaining) and schedule.is_open(now),
        "first_response_due": ticket.first_response_due_at,
        "first_response_state": first_state,
        "first_response_remaining_seconds": first_remaining,
        "resolution_due": ticket.resolution_due_at,
        "resolution_state": resolution_state,
        "resolution_remaining_seconds": resolution_remaining,
        "paused": paused,
    }


def due_levels(ticket: Ticket, *, now: dt.datetime) -> list[tuple[str, int]]:
    """Return the (clock, level) announcements the sweep still owes the ticket, in order."""
    owed: list[tuple[str, int]] = []
    if first_response_running(ticket):
        level = _level_now(now, ticket.first_response_warn_at, ticket.first_response_due_at)
        owed += [
            ("first_response", lvl)
            for lvl in (LEVEL_WARNING, LEVEL_BREACHED)
            if ticket.first_response_sla_level < lvl <= level
        ]
    if resolution_running(ticket):
        level = _level_now(now, ticket.resolution_warn_at, ticket.resolution_due_at)
        owed += [
            ("resolution", lvl)
            for lvl in (LEVEL_WARNING, LEVEL_BREACHED)
            if ticket.resolution_sla_level < lvl <= level
        ]
    return owed
