"""Writes of routing: agent states and skills, the waiting line, offers, overflow and callbacks.

Locking order, to keep services from deadlocking each other: a WaitingCall row before an
AgentPresence row. The router (router.py) takes both with SKIP LOCKED and never waits, so it can
neither wait on nor deadlock with these services. Every service is idempotent where an event can be
delivered twice: it re-reads the rows under lock and does nothing when the fact is already applied.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, get_users_with_perms, remove_perm

from apps.accounts.models import Agent, User
from apps.core.errors import Conflict, InvalidInput, NotFound
from apps.core.transactions import enqueue_on_commit
from apps.routing import conf, notifications, telephony_gateway
from apps.routing.calendar import calendar_is_open
from apps.routing.matching import agent_tokens, merge_requirements, required_tokens
from apps.routing.priority import MAX_CALL_PRIORITY, base_priority, clamp, rank_at
from apps.routing.models import (
    ACTIVE_STATES,
    IN_LINE_STATES,
    AgentPresence,
    AgentSkill,
    AgentState,
    AgentStateChange,
    CustomerTier,
    ExitAction,
    NotReadyReason,
    Offer,
    OfferStatus,
    OverflowAction,
    OverflowRule,
    Queue,
    Skill,
    Strategy,
    WaitingCall,
    WaitingCallState,
)

logger = logging.getLogger(__name__)

REVIEW_QUEUE = "routing.review_queue"
DEFAULT_QUEUE_SLUG = "default"

# States in which an agent's time counts as occupied (for the least-occupied strategy).
OCCUPIED_STATES = frozenset({AgentState.RESERVED, AgentState.ON_CALL, AgentState.WRAP_UP})
# States an agent (or their supervisor) may ask for; the others belong to the router and events.
REQUESTABLE_STATES = frozenset({AgentState.AVAILABLE, AgentState.NOT_READY, AgentState.OFFLINE})
REQUESTABLE_REASONS = frozenset(
    {NotReadyReason.BREAK, NotReadyReason.LUNCH, NotReadyReason.TRAINING}
)
# Who may move where. Reserved is entered only by the router (router.py), in SQL.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    AgentState.OFFLINE: frozenset({AgentState.AVAILABLE, AgentState.NOT_READY}),
    AgentState.AVAILABLE: frozenset({AgentState.NOT_READY, AgentState.OFFLINE}),
    AgentState.RESERVED: frozenset(
        {AgentState.ON_CALL, AgentState.AVAILABLE, AgentState.NOT_READY, AgentState.OFFLINE}
    ),
    AgentState.ON_CALL: frozenset(
        {AgentState.WRAP_UP, AgentState.AVAILABLE, AgentState.OFFLINE}
    ),
    AgentState.WRAP_UP: frozenset(
        {AgentState.AVAILABLE, AgentState.NOT_READY, AgentState.OFFLINE}
    ),
    AgentState.NOT_READY: frozenset(
        {AgentState.AVAILABLE, AgentState.NOT_READY, AgentState.OFFLINE}
    ),
}


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _schedule_route_call(waiting_call_id: int) -> None:
    from apps.routing.tasks import route_waiting_call

    enqueue_on_commit(route_waiting_call, waiting_call_id)


def _schedule_route_agent(agent_id: int) -> None:
    from apps.routing.tasks import route_available_agent

    enqueue_on_commit(route_available_agent, agent_id)


# ------------------------------------------------------------------------------ agent presence


def _agent_levels(agent_id: int) -> dict[int, int]:
    return dict(AgentSkill.objects.filter(agent_id=agent_id).values_list("skill_id", "level"))


@transaction.atomic
def agent_presence_ensure(*, agent: Agent, now: datetime | None = None) -> AgentPresence:
    """Return the agent's presence row, creating it (offline) the first time."""
    presence = AgentPresence.objects.filter(agent=agent).first()
    if presence is not None:
        return presence
    presence = AgentPresence(
        agent=agent,
        state=AgentState.OFFLINE,
        state_since=_now(now),
        skill_tokens=agent_tokens(_agent_levels(agent.pk)),
    )
    try:
        with transaction.atomic():
            presence.save(force_insert=True)
    except IntegrityError:  # created concurrently
        presence = AgentPresence.objects.get(agent=agent)
    return presence


@transaction.atomic
def agent_routing_profile_refresh(*, agent: Agent) -> AgentPresence:
    """Copy the agent's skills into their presence row, which is what the router reads."""
    presence = agent_presence_ensure(agent=agent)
    tokens = agent_tokens(_agent_levels(agent.pk))
    AgentPresence.objects.filter(pk=presence.pk).update(skill_tokens=tokens)
    presence.skill_tokens = tokens
    if presence.state == AgentState.AVAILABLE:
        _schedule_route_agent(agent.pk)
    return presence


@transaction.atomic
def agent_skill_set(*, agent: Agent, skill: Skill, level: int) -> AgentSkill:
    """Give the agent the skill at this level (1-10), or change their level."""
    if not 1 <= level <= 10:
        raise InvalidInput(_("A skill level is between 1 and 10."), field="level")
    agent_skill, _created = AgentSkill.objects.update_or_create(
        agent=agent, skill=skill, defaults={"level": level}
    )
    agent_routing_profile_refresh(agent=agent)
    return agent_skill


@transaction.atomic
def agent_skill_remove(*, agent: Agent, skill: Skill) -> None:
    """Take the skill away from the agent."""
    AgentSkill.objects.filter(agent=agent, skill=skill).delete()
    agent_routing_profile_refresh(agent=agent)


def _transition(
    presence: AgentPresence,
    *,
    to_state: str,
    now: datetime,
    reason: str = "",
    actor: User | None = None,
    waiting_call_id: int | None = None,
    wrap_up_until: datetime | None = None,
) -> AgentStateChange:
    """Move a locked presence row to a state, keeping session counters and the change log."""
    from_state = presence.state
    if to_state not in ALLOWED_TRANSITIONS[from_state]:
        raise Conflict(
            _("An agent cannot go from %(from)s to %(to)s.")
            % {"from": AgentState(from_state).label, "to": AgentState(to_state).label}
        )
    elapsed = max((now - presence.state_since).total_seconds(), 0.0)
    if from_state in OCCUPIED_STATES:
        presence.occupied_seconds += elapsed
    if from_state == AgentState.OFFLINE:
        presence.session_started_at = now
        presence.occupied_seconds = 0.0
        presence.calls_handled = 0
        presence.missed_calls = 0
    if to_state == AgentState.OFFLINE:
        presence.session_started_at = None
    if to_state == AgentState.AVAILABLE and from_state != AgentState.RESERVED:
        # A cancelled offer gives the agent back their place among the idle; anything else
        # starts a new idle period.
        presence.idle_since = now
    presence.state = to_state
    presence.reason = reason if to_state == AgentState.NOT_READY else ""
    presence.state_since = now
    presence.wrap_up_until = wrap_up_until if to_state == AgentState.WRAP_UP else None
    presence.save()
    change = AgentStateChange.objects.create(
        agent_id=presence.agent_id,
        from_state=from_state,
        to_state=to_state,
        reason=presence.reason,
        at=now,
        previous_state_seconds=elapsed,
        actor=actor if getattr(actor, "pk", None) else None,
        waiting_call_id=waiting_call_id,
    )
    team_id = Agent.objects.filter(pk=presence.agent_id).values_list("team_id", flat=True).first()
    notifications.agent_state_changed(presence, team_id=team_id)
    if to_state == AgentState.AVAILABLE:
        _schedule_route_agent(presence.agent_id)
    return change


def _locked_presence(agent_id: int) -> AgentPresence:
    return AgentPresence.objects.select_for_update().get(agent_id=agent_id)


@transaction.atomic
def agent_set_state(
    *,
    agent: Agent,
    state: str,
    reason: str = "",
    actor: User | None = None,
    now: datetime | None = None,
) -> AgentPresence:
    """Set the agent's state as they (or their supervisor) asked: available, not ready, offline.

    A ringing offer is declined (the call goes back to its place in line); during a call the
    state cannot be changed.
    """
    now = _now(now)
    if state not in REQUESTABLE_STATES:
        raise InvalidInput(_("This state cannot be chosen."), field="state")
    if state == AgentState.NOT_READY and reason not in REQUESTABLE_REASONS:
        raise InvalidInput(_("Choose a reason: break, lunch or training."), field="reason")
    if state != AgentState.NOT_READY and reason:
        raise InvalidInput(_("Only the not-ready state takes a reason."), field="reason")
    if state == AgentState.AVAILABLE and not agent.is_active:
        raise Conflict(_("An inactive agent cannot take calls."))
    agent_presence_ensure(agent=agent, now=now)
    # Lock order: the offered call (if any) before the presence row.
    offered = (
        WaitingCall.objects.select_for_update()
        .filter(offered_agent=agent, state=WaitingCallState.OFFERED)
        .first()
    )
    presence = _locked_presence(agent.pk)
    if presence.state == AgentState.ON_CALL:
        raise Conflict(_("The agent is on a call; change the state after it ends."))
    if presence.state == state and presence.reason == reason:
        return presence
    if presence.state == AgentState.RESERVED:
        if state == AgentState.AVAILABLE:
            raise Conflict(_("A call is ringing for the agent."))
        if offered is not None:
            _offer_end(offered, status=OfferStatus.DECLINED, now=now, hang_up_agent=True)
    _transition(presence, to_state=state, reason=reason, actor=actor, now=now)
    return presence


@transaction.atomic
def agent_endpoint_lost(*, agent_id: int, now: datetime | None = None) -> None:
    """Log the agent out when their endpoint unregisters; a ringing offer goes back in line."""
    now = _now(now)
    if not AgentPresence.objects.filter(agent_id=agent_id).exclude(
        state=AgentState.OFFLINE
    ).exists():
        return
    offered = (
        WaitingCall.objects.select_for_update()
        .filter(offered_agent_id=agent_id, state=WaitingCallState.OFFERED)
        .first()
    )
    presence = _locked_presence(agent_id)
    if presence.state == AgentState.OFFLINE:
        return
    if presence.state == AgentState.RESERVED and offered is not None:
        _offer_end(offered, status=OfferStatus.CANCELLED, now=now, hang_up_agent=True)
    _transition(presence, to_state=AgentState.OFFLINE, now=now)


@transaction.atomic
def wrap_up_finish_due(*, now: datetime | None = None) -> list[int]:
    """Make agents whose wrap-up time is over available again; return their ids."""
    now = _now(now)
    finished: list[int] = []
    due = (
        AgentPresence.objects.select_for_update(skip_locked=True)
        .filter(state=AgentState.WRAP_UP, wrap_up_until__lte=now)
        .order_by("wrap_up_until")[:500]
    )
    for presence in due:
        _transition(presence, to_state=AgentState.AVAILABLE, now=now)
        finished.append(presence.agent_id)
    return finished


# ---------------------------------------------------------------------------------- the line


@dataclass(frozen=True)
class CallRequirements:
    """What an agent needs to take a call, and its base priority."""

    requirements: dict[int, int]
    eligible_team_ids: list[int] | None
    base_priority: int


def parse_skills(value: str) -> dict[str, int]:
    """Return {slug: level} from cc_skills ("vip,after-sales:5"; a bare slug means level 1)."""
    parsed: dict[str, int] = {}
    for item in value.split(","):
        slug, _sep, level = item.strip().partition(":")
        if not slug:
            continue
        number = int(level) if level.strip().isdigit() else 1
        parsed[slug] = max(parsed.get(slug, 0), min(max(number, 1), 10))
    return parsed


def _language_skill_id(language: str) -> int | None:
    if not language:
        return None
    code = language.strip().lower()
    skills = dict(
        Skill.objects.exclude(language_code="").values_list("language_code", "pk")
    )
    lowered = {key.lower(): value for key, value in skills.items()}
    return lowered.get(code) or lowered.get(code.split("-")[0].split("_")[0])


def call_requirements(
    *, queue: Queue, priority_value: int, tier: str, language: str, skills: str
) -> CallRequirements:
    """Return the skills, teams and base priority of a call to this queue."""
    queue_part = dict(queue.required_skills.values_list("skill_id", "min_level"))
    wanted = parse_skills(skills)
    known = dict(Skill.objects.filter(slug__in=wanted).values_list("slug", "pk"))
    for slug in sorted(set(wanted) - set(known)):
        logger.warning("routing: call asks for unknown skill %r; ignored", slug)
    call_part = {known[slug]: level for slug, level in wanted.items() if slug in known}
    tier_row = CustomerTier.objects.filter(slug=tier).first() if tier else None
    tier_part = (
        {tier_row.required_skill_id: tier_row.required_level}
        if tier_row is not None and tier_row.required_skill_id
        else {}
    )
    language_id = _language_skill_id(language)
    language_part = {language_id: 1} if language_id is not None else {}
    team_ids = sorted(queue.teams.values_list("pk", flat=True))
    return CallRequirements(
        requirements=merge_requirements(queue_part, call_part, tier_part, language_part),
        eligible_team_ids=team_ids or None,
        base_priority=base_priority(
            queue_priority=queue.priority,
            call_priority=priority_value,
            tier_bonus=tier_row.priority_bonus if tier_row is not None else 0,
        ),
    )


def _last_agent_id(customer_ref: str, now: datetime) -> int | None:
    if not customer_ref:
        return None
    return (
        WaitingCall.objects.filter(
            customer_ref=customer_ref,
            connected_at__isnull=False,
            connected_at__gte=now - timedelta(days=conf.sticky_lookback_days()),
            offered_agent__isnull=False,
        )
        .order_by("-connected_at")
        .values_list("offered_agent_id", flat=True)
        .first()
    )


def _overflow_rules(queue_id: int) -> list[OverflowRule]:
    return list(
        OverflowRule.objects.filter(queue_id=queue_id)
        .prefetch_related("backup_teams")
        .select_related("backup_queue")
        .order_by("position")
    )


def _next_overflow_at(
    waiting_call: WaitingCall, queue: Queue, rules: list[OverflowRule]
) -> datetime | None:
    """Return when the next overflow rule (or the maximum wait) applies to the call."""
    holding = waiting_call.state == WaitingCallState.WAITING
    moments = [
        waiting_call.enqueued_at + timedelta(seconds=rule.after_seconds)
        for rule in rules[waiting_call.overflow_step :]
        if holding or rule.action in (OverflowAction.RELAX_LEVELS, OverflowAction.ADD_POOL)
    ][:1]
    if holding and queue.max_wait_seconds:
        moments.append(waiting_call.enqueued_at + timedelta(seconds=queue.max_wait_seconds))
    return min(moments) if moments else None


def _leave_line(
    waiting_call: WaitingCall, *, now: datetime, action: str, target: str, outcome: str
) -> None:
    waiting_call.state = WaitingCallState.OVERFLOWED
    waiting_call.state_changed_at = now
    waiting_call.ended_at = now
    waiting_call.outcome = outcome
    waiting_call.next_overflow_at = None
    waiting_call.save()
    telephony_gateway.request_exit(
        waiting_call_id=waiting_call.pk,
        telephony_call_id=waiting_call.telephony_call_id,
        call_uuid=waiting_call.call_uuid,
        action=action,
        target=target,
    )


@transaction.atomic
def waiting_call_enqueue(
    *,
    call_uuid: str,
    queue_slug: str,
    node: str = "",
    telephony_call_id: int | None = None,
    caller_number: str = "",
    customer_ref: str = "",
    priority: int = 0,
    tier: str = "",
    language: str = "",
    skills: str = "",
    enqueued_at: datetime | None = None,
    now: datetime | None = None,
) -> WaitingCall:
    """Put a parked caller in the queue's line and ask the router to decide; return the call.

    Idempotent per caller leg: a second request for a leg already in a line returns that call.
    A closed queue or a full one sends the caller to its configured destination instead (the call
    is recorded, in state "left the queue", for the statistics). An unknown queue falls back to the
    default queue.
    """
    now = _now(now)
    enqueued_at = min(enqueued_at or now, now)
    existing = WaitingCall.objects.filter(call_uuid=call_uuid, state__in=ACTIVE_STATES).first()
    if existing is not None:
        return existing
    queue = (
        Queue.objects.filter(slug=queue_slug, is_active=True).first()
        or Queue.objects.filter(slug=DEFAULT_QUEUE_SLUG, is_active=True).first()
    )
    if queue is None:
        raise NotFound(_("Queue not found."))
    needs = call_requirements(
        queue=queue, priority_value=priority, tier=tier, language=language, skills=skills
    )
    waiting_call = WaitingCall(
        queue=queue,
        call_uuid=call_uuid,
        telephony_call_id=telephony_call_id,
        node=node,
        caller_number=caller_number[:64],
        customer_ref=customer_ref[:64],
        priority=clamp(priority, 0, MAX_CALL_PRIORITY),
        tier=tier[:30],
        language=language[:15],
        requirements={str(skill): level for skill, level in needs.requirements.items()},
        required_tokens=required_tokens(needs.requirements),
        eligible_team_ids=needs.eligible_team_ids,
        base_priority=needs.base_priority,
        enqueued_at=enqueued_at,
        rank_at=rank_at(
            enqueued_at=enqueued_at, base=needs.base_priority,
            aging_seconds=conf.aging_seconds_per_point(),
        ),
        state=WaitingCallState.WAITING,
        state_changed_at=now,
        callback_number=caller_number[:64],
    )
    last_agent_id = _last_agent_id(customer_ref, now)
    waiting_call.last_agent_id = last_agent_id
    if (
        queue.strategy == Strategy.STICKY
        and last_agent_id is not None
        and queue.sticky_window_seconds
        and AgentPresence.objects.filter(agent_id=last_agent_id)
        .exclude(state=AgentState.OFFLINE)
        .exists()
    ):
        waiting_call.sticky_until = enqueued_at + timedelta(seconds=queue.sticky_window_seconds)
    if not calendar_is_open(queue.business_hours, now):
        _leave_line(waiting_call, now=now, action=queue.closed_action,
                    target=queue.closed_target, outcome="closed")
        return waiting_call
    if queue.max_size and (
        WaitingCall.objects.filter(queue=queue, state__in=IN_LINE_STATES).count()
        >= queue.max_size
    ):
        _leave_line(waiting_call, now=now, action=queue.full_action,
                    target=queue.full_target, outcome="full")
        return waiting_call
    waiting_call.next_overflow_at = _next_overflow_at(
        waiting_call, queue, _overflow_rules(queue.pk)
    )
    try:
        with transaction.atomic():
            waiting_call.save()
    except IntegrityError:  # the same leg enqueued concurrently
        return WaitingCall.objects.get(call_uuid=call_uuid, state__in=ACTIVE_STATES)
    _schedule_route_call(waiting_call.pk)
    return waiting_call
