"""Writes of routing: agent states and skills, the waiting line, offers, overflow and callbacks.

Locking order, to keep services from deadlocking each other: a WaitingCall row before an
AgentPresence row. The router (router.py) takes both with SKIP LOCKED and never waits, so it can
neither wait on nor deadlock with these services. Every service is idempotent where an event can be
delivered twice: it re-reads the rows under lock and does nothing when the fact is already applied.
"""

from __future__ import annotations

import functools
import logging
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Field, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, get_users_with_perms, remove_perm

from apps.accounts.models import Agent, User
from apps.core.errors import Conflict, InvalidInput, NotFound
from apps.routing import conf, events, notifications, telephony_gateway
from apps.routing.calendar import calendar_is_open
from apps.routing.matching import agent_tokens, merge_requirements, required_tokens
from apps.routing.models import (
    ACTIVE_STATES,
    IN_LINE_STATES,
    AgentPresence,
    AgentSkill,
    AgentState,
    AgentStateChange,
    BusinessHours,
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
from apps.routing.priority import MAX_CALL_PRIORITY, base_priority, clamp, rank_at
from apps.routing.selectors import QueueProfile, RuleTiming, queue_profile

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
    AgentState.ON_CALL: frozenset({AgentState.WRAP_UP, AgentState.AVAILABLE, AgentState.OFFLINE}),
    AgentState.WRAP_UP: frozenset({AgentState.AVAILABLE, AgentState.NOT_READY, AgentState.OFFLINE}),
    AgentState.NOT_READY: frozenset(
        {AgentState.AVAILABLE, AgentState.NOT_READY, AgentState.OFFLINE}
    ),
}


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _schedule_route_call(waiting_call_id: int) -> None:
    # After commit, to the router processes' event queue (events.py); the sweep is the net.
    events.publish_on_commit(events.CALL, waiting_call_id)


def _schedule_route_agent(agent_id: int) -> None:
    events.publish_on_commit(events.AGENT, agent_id)


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


class _ReservedMeanwhile(Exception):
    pass


def _lock_agent_and_offer(agent_id: int) -> tuple[AgentPresence, WaitingCall | None]:
    """Lock the call offered to the agent (if any), then their presence: the services' order.

    The router may reserve the agent between the two locks; then the savepoint is rolled back,
    which releases both locks, and we look again.
    """
    for _attempt in range(5):
        try:
            with transaction.atomic():
                offered = (
                    WaitingCall.objects.select_for_update()
                    .filter(offered_agent_id=agent_id, state=WaitingCallState.OFFERED)
                    .first()
                )
                presence = _locked_presence(agent_id)
                if presence.state == AgentState.RESERVED and offered is None:
                    raise _ReservedMeanwhile
                return presence, offered
        except _ReservedMeanwhile:
            continue
    raise Conflict(_("The agent's state is changing; try again."))


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
    presence, offered = _lock_agent_and_offer(agent.pk)
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
    if (
        not AgentPresence.objects.filter(agent_id=agent_id)
        .exclude(state=AgentState.OFFLINE)
        .exists()
    ):
        return
    presence, offered = _lock_agent_and_offer(agent_id)
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


def call_requirements(
    *, queue: QueueProfile, priority_value: int, skills: Mapping[str, int]
) -> CallRequirements:
    """Return the skills, teams and base priority of a call to this queue.

    ``skills`` are the call's own (cc_skills, parsed); the profile carries the ids of those that
    exist, the tier's skill and the language's skill.
    """
    for slug in sorted(set(skills) - set(queue.skill_ids)):
        logger.warning("routing: call asks for unknown skill %r; ignored", slug)
    call_part = {
        queue.skill_ids[slug]: level for slug, level in skills.items() if slug in queue.skill_ids
    }
    tier_part = {queue.tier_skill_id: queue.tier_level} if queue.tier_skill_id else {}
    language_part = {queue.language_skill_id: 1} if queue.language_skill_id else {}
    return CallRequirements(
        requirements=merge_requirements(queue.requirements, call_part, tier_part, language_part),
        eligible_team_ids=sorted(queue.team_ids) or None,
        base_priority=base_priority(
            queue_priority=queue.priority,
            call_priority=priority_value,
            tier_bonus=queue.tier_bonus,
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
    waiting_call: WaitingCall, *, max_wait_seconds: int, rules: Sequence[RuleTiming]
) -> datetime | None:
    """Return when the next overflow rule (or the maximum wait) applies to the call."""
    holding = waiting_call.state == WaitingCallState.WAITING
    moments = [
        waiting_call.enqueued_at + timedelta(seconds=rule.after_seconds)
        for rule in rules[waiting_call.overflow_step :]
        if holding or rule.action in (OverflowAction.RELAX_LEVELS, OverflowAction.ADD_POOL)
    ][:1]
    if holding and max_wait_seconds:
        moments.append(waiting_call.enqueued_at + timedelta(seconds=max_wait_seconds))
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
        node_id=waiting_call.telephony_node_id,
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
    ``routing_requested`` on the returned call tells whether a router event was queued (only
    when a qualified agent is free).
    A closed queue or a full one sends the caller to its configured destination instead (the call
    is recorded, in state "left the queue", for the statistics). An unknown queue falls back to the
    default queue.
    """
    now = _now(now)
    enqueued_at = min(enqueued_at or now, now)
    wanted = parse_skills(skills)
    queue = queue_profile(
        slug=queue_slug,
        fallback=DEFAULT_QUEUE_SLUG,
        tier=tier,
        language=language,
        skills=wanted,
        call_uuid=call_uuid,
        node=node,
    )
    if queue is None:
        raise NotFound(_("Queue not found."))
    if queue.waiting_call_id is not None:
        return WaitingCall.objects.get(pk=queue.waiting_call_id)
    needs = call_requirements(queue=queue, priority_value=priority, skills=wanted)
    waiting_call = WaitingCall(
        queue_id=queue.id,
        call_uuid=call_uuid,
        telephony_call_id=telephony_call_id,
        telephony_node_id=queue.node_id,
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
            enqueued_at=enqueued_at,
            base=needs.base_priority,
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
    if queue.business_hours_id is not None and not calendar_is_open(
        BusinessHours.objects.get(pk=queue.business_hours_id), now
    ):
        _leave_line(
            waiting_call,
            now=now,
            action=queue.closed_action,
            target=queue.closed_target,
            outcome="closed",
        )
        return waiting_call
    if queue.max_size and (
        WaitingCall.objects.filter(queue_id=queue.id, state__in=IN_LINE_STATES).count()
        >= queue.max_size
    ):
        _leave_line(
            waiting_call,
            now=now,
            action=queue.full_action,
            target=queue.full_target,
            outcome="full",
        )
        return waiting_call
    waiting_call.next_overflow_at = _next_overflow_at(
        waiting_call, max_wait_seconds=queue.max_wait_seconds, rules=queue.rules
    )
    # With nobody free to take it, the next agent who frees up picks the call from the line (their
    # own event), so a router event would only find nothing. An agent freeing up concurrently is
    # covered by the sweep within a second.
    agent_free = _join_line(waiting_call)
    if agent_free is None:  # this leg already waits (a repeated event, or a concurrent one)
        return WaitingCall.objects.get(call_uuid=call_uuid, state__in=ACTIVE_STATES)
    waiting_call.routing_requested = agent_free
    if waiting_call.routing_requested:
        _schedule_route_call(waiting_call.pk)
    return waiting_call


@functools.cache
def _join_line_sql() -> tuple[str, tuple[Field, ...]]:
    """Return the statement that stores a waiting call and tells whether an agent could take it.

    ON CONFLICT on the one-line-per-caller index (instead of a savepoint around an INSERT) keeps a
    repeated event from aborting the transaction; the EXISTS does not see the new row.
    """
    quote = connection.ops.quote_name
    fields = tuple(field for field in WaitingCall._meta.concrete_fields if not field.primary_key)
    states = ", ".join(f"'{state}'" for state in ACTIVE_STATES)
    sql = f"""
WITH inserted AS (
    INSERT INTO {quote(WaitingCall._meta.db_table)}
        ({", ".join(quote(field.column) for field in fields)})
    VALUES ({", ".join(f"%({field.column})s" for field in fields)})
    ON CONFLICT (call_uuid) WHERE state IN ({states}) DO NOTHING
    RETURNING id
)
SELECT inserted.id, EXISTS (
    -- Driven by the available agents (the partial index; few when calls wait), not by the
    -- serving teams' agents, who are mostly busy then. OFFSET 0 keeps the planner to it.
    SELECT 1 FROM (
        SELECT agent_id, skill_tokens FROM routing_agentpresence
        WHERE state = 'available' ORDER BY idle_since OFFSET 0
    ) p JOIN accounts_agent a ON a.id = p.agent_id
    WHERE a.is_active
      AND p.skill_tokens @> %(required_tokens)s::bigint[]
      AND (%(eligible_team_ids)s::bigint[] IS NULL
           OR a.team_id = ANY(%(eligible_team_ids)s::bigint[]))
)
FROM inserted
"""  # noqa: S608 (model metadata and constant states only)
    return sql, fields


# Columns whose Python value psycopg adapts exactly as Django would prepare it (no auto_now, no
# JSON): strings, numbers, booleans, aware datetimes, integer arrays, foreign key ids.
_PLAIN_COLUMNS = frozenset(
    field.column
    for field in WaitingCall._meta.concrete_fields
    if field.get_internal_type()
    in {
        "CharField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "IntegerField",
        "BigIntegerField",
        "BooleanField",
        "FloatField",
        "ForeignKey",
        "ArrayField",
    }
    or (field.get_internal_type() == "DateTimeField" and not (field.auto_now or field.auto_now_add))
)


def _join_line(waiting_call: WaitingCall) -> bool | None:
    """Store the new waiting call in one round trip; return whether a qualified agent is free.

    Return None (storing nothing) when the caller's leg already waits in a line.
    """
    from apps.routing import sql as prepared

    sql, fields = _join_line_sql()
    row = prepared.fetch_one(
        sql,
        {
            # Plain values go as they are; Django's per-field preparation costs ~20 us a field.
            field.column: value
            if field.column in _PLAIN_COLUMNS
            and (value := getattr(waiting_call, field.attname)) is not None
            else field.get_db_prep_save(field.pre_save(waiting_call, True), connection)
            for field in fields
        },
    )
    if row is None:
        return None
    waiting_call.pk = row[0]
    waiting_call._state.adding = False
    waiting_call._state.db = connection.alias
    return bool(row[1])


# ------------------------------------------------------------------------------------- offers


def _back_in_line(waiting_call: WaitingCall, *, now: datetime) -> None:
    """Return an offered call to the line. It keeps its rank time, hence its place."""
    waiting_call.state = (
        WaitingCallState.CALLBACK if waiting_call.is_callback else WaitingCallState.WAITING
    )
    waiting_call.state_changed_at = now
    waiting_call.offered_agent = None
    waiting_call.offered_at = None
    waiting_call.save()
    _schedule_route_call(waiting_call.pk)


def _offer_end(
    waiting_call: WaitingCall,
    *,
    status: str,
    now: datetime,
    hang_up_agent: bool,
    back_in_line: bool = True,
) -> Offer | None:
    """End the ringing offer of a locked, offered call; by default the call goes back in line."""
    offer = (
        Offer.objects.select_for_update()
        .filter(waiting_call=waiting_call, status=OfferStatus.RINGING)
        .first()
    )
    if offer is not None:
        offer.status = status
        offer.ended_at = now
        offer.save(update_fields=["status", "ended_at"])
        if hang_up_agent:
            telephony_gateway.request_leg_hangup(
                token=offer.token,
                what=telephony_gateway.HANGUP_AGENT,
                telephony_call_id=waiting_call.telephony_call_id,
                node_id=waiting_call.telephony_node_id,
                leg_uuid=str(offer.agent_leg_uuid),
            )
    if back_in_line:
        _back_in_line(waiting_call, now=now)
    return offer


def _locked_offer_and_call(offer_id: int) -> tuple[Offer, WaitingCall]:
    """Lock an offer's call, then the offer (the services' lock order)."""
    waiting_call_id = Offer.objects.values_list("waiting_call_id", flat=True).get(pk=offer_id)
    waiting_call = (
        WaitingCall.objects.select_for_update().select_related("queue").get(pk=waiting_call_id)
    )
    offer = Offer.objects.select_for_update().get(pk=offer_id)
    return offer, waiting_call


def _rona(offer: Offer, waiting_call: WaitingCall, *, now: datetime, leg_alive: bool) -> None:
    """Ring-no-answer: the agent becomes "not ready: missed call", the call goes back in line."""
    if offer.status != OfferStatus.RINGING:
        return
    _offer_end(waiting_call, status=OfferStatus.MISSED, now=now, hang_up_agent=leg_alive)
    presence = _locked_presence(offer.agent_id)
    if presence.state == AgentState.RESERVED:
        presence.missed_calls += 1
        _transition(
            presence,
            to_state=AgentState.NOT_READY,
            reason=NotReadyReason.MISSED_CALL,
            now=now,
            waiting_call_id=waiting_call.pk,
        )


@transaction.atomic
def offer_ring_failed(*, token: uuid.UUID, now: datetime | None = None) -> None:
    """Ringing the agent failed (no answer in time, busy, unreachable): apply RONA."""
    offer_id = Offer.objects.filter(token=token).values_list("pk", flat=True).first()
    if offer_id is None:
        return
    offer, waiting_call = _locked_offer_and_call(offer_id)
    _rona(offer, waiting_call, now=_now(now), leg_alive=False)


def offers_expire_due(*, now: datetime | None = None) -> int:
    """Apply RONA to offers ringing past their deadline whose failure event never came."""
    now = _now(now)
    deadline = now - timedelta(seconds=conf.rona_grace_seconds())
    expired = list(
        Offer.objects.filter(status=OfferStatus.RINGING, ring_deadline__lte=deadline)
        .order_by("ring_deadline")
        .values_list("pk", flat=True)[:500]
    )
    for offer_id in expired:
        with transaction.atomic():
            offer, waiting_call = _locked_offer_and_call(offer_id)
            _rona(offer, waiting_call, now=now, leg_alive=True)
    return len(expired)


def _agent_after_call(agent_id: int, queue: Queue, *, now: datetime, waiting_call_id: int) -> None:
    """Send an agent whose call ended to wrap-up (or straight back to available)."""
    presence = _locked_presence(agent_id)
    if presence.state != AgentState.ON_CALL:
        return
    presence.calls_handled += 1
    if queue.wrap_up_seconds:
        _transition(
            presence,
            to_state=AgentState.WRAP_UP,
            now=now,
            waiting_call_id=waiting_call_id,
            wrap_up_until=now + timedelta(seconds=queue.wrap_up_seconds),
        )
    else:
        _transition(
            presence, to_state=AgentState.AVAILABLE, now=now, waiting_call_id=waiting_call_id
        )


def _call_completed(waiting_call: WaitingCall, *, now: datetime) -> None:
    waiting_call.state = WaitingCallState.COMPLETED
    waiting_call.state_changed_at = now
    waiting_call.ended_at = now
    waiting_call.outcome = "answered"
    waiting_call.save()
    if waiting_call.offered_agent_id is not None:
        _agent_after_call(
            waiting_call.offered_agent_id,
            waiting_call.queue,
            now=now,
            waiting_call_id=waiting_call.pk,
        )


def call_leg_answered(*, leg_uuid: str, now: datetime | None = None) -> None:
    """Bridge the caller when the agent answers; for a callback, dial the customer next."""
    try:
        leg = uuid.UUID(leg_uuid)
    except ValueError:
        return
    # Most answered legs are no offer's (callers, IVR, outbound): settled by one indexed read,
    # without a transaction (an offer exists before its originate, so before this event).
    offer_id = (
        Offer.objects.filter(Q(agent_leg_uuid=leg) | Q(customer_leg_uuid=leg))
        .values_list("pk", flat=True)
        .first()
    )
    if offer_id is not None:
        _offer_leg_answered(offer_id, leg, now=_now(now))


@transaction.atomic
def _offer_leg_answered(offer_id: int, leg: uuid.UUID, *, now: datetime) -> None:
    offer, waiting_call = _locked_offer_and_call(offer_id)
    if leg == offer.agent_leg_uuid:
        if offer.status != OfferStatus.RINGING:
            return
        offer.status = OfferStatus.ANSWERED
        offer.answered_at = now
        presence = _locked_presence(offer.agent_id)
        if presence.state == AgentState.RESERVED:
            _transition(
                presence, to_state=AgentState.ON_CALL, now=now, waiting_call_id=waiting_call.pk
            )
        if waiting_call.is_callback:
            offer.customer_leg_uuid = telephony_gateway.customer_leg_uuid(offer.token)
            offer.save(update_fields=["status", "answered_at", "customer_leg_uuid"])
            waiting_call.callback_attempts += 1
            waiting_call.save(update_fields=["callback_attempts"])
            telephony_gateway.request_customer_dial(
                token=offer.token,
                telephony_call_id=waiting_call.telephony_call_id,
                node_id=waiting_call.telephony_node_id,
                number=waiting_call.callback_number,
                timeout=conf.callback_dial_timeout_seconds(),
            )
            return
        offer.save(update_fields=["status", "answered_at"])
        waiting_call.state = WaitingCallState.CONNECTED
        waiting_call.state_changed_at = now
        waiting_call.connected_at = now
        waiting_call.save()
        telephony_gateway.request_bridge(
            token=offer.token,
            telephony_call_id=waiting_call.telephony_call_id,
            node_id=waiting_call.telephony_node_id,
            caller_uuid=waiting_call.call_uuid,
            other_uuid=str(offer.agent_leg_uuid),
        )
        return
    # The called-back customer answered.
    if (
        offer.status != OfferStatus.ANSWERED
        or waiting_call.state != WaitingCallState.OFFERED
        or waiting_call.offered_agent_id != offer.agent_id
    ):
        return
    waiting_call.state = WaitingCallState.CONNECTED
    waiting_call.state_changed_at = now
    waiting_call.connected_at = now
    waiting_call.save()
    telephony_gateway.request_bridge(
        token=offer.token,
        telephony_call_id=waiting_call.telephony_call_id,
        node_id=waiting_call.telephony_node_id,
        caller_uuid=str(leg),
        other_uuid=str(offer.agent_leg_uuid),
    )


def _abandon(waiting_call: WaitingCall, *, now: datetime) -> None:
    waited = (now - waiting_call.enqueued_at).total_seconds()
    waiting_call.state = WaitingCallState.ABANDONED
    waiting_call.state_changed_at = now
    waiting_call.ended_at = now
    waiting_call.is_short_abandon = waited < waiting_call.queue.short_abandon_seconds
    waiting_call.outcome = "short_abandon" if waiting_call.is_short_abandon else "abandoned"
    waiting_call.next_overflow_at = None
    waiting_call.save()


def _caller_left(waiting_call: WaitingCall, *, now: datetime) -> None:
    if waiting_call.is_callback:
        return  # the caller hung up after asking for a callback: they keep their place
    if waiting_call.state == WaitingCallState.WAITING:
        _abandon(waiting_call, now=now)
    elif waiting_call.state == WaitingCallState.OFFERED:
        agent_id = waiting_call.offered_agent_id
        _offer_end(
            waiting_call,
            status=OfferStatus.CANCELLED,
            now=now,
            hang_up_agent=True,
            back_in_line=False,
        )
        _abandon(waiting_call, now=now)
        presence = _locked_presence(agent_id)
        if presence.state == AgentState.RESERVED:
            _transition(
                presence, to_state=AgentState.AVAILABLE, now=now, waiting_call_id=waiting_call.pk
            )
    elif waiting_call.state == WaitingCallState.CONNECTED:
        _call_completed(waiting_call, now=now)


def _callback_attempt_failed(waiting_call: WaitingCall, offer: Offer, *, now: datetime) -> None:
    """The customer did not answer: free the agent; try again later or give up."""
    telephony_gateway.request_leg_hangup(
        token=offer.token,
        what=telephony_gateway.HANGUP_AGENT,
        telephony_call_id=waiting_call.telephony_call_id,
        node_id=waiting_call.telephony_node_id,
        leg_uuid=str(offer.agent_leg_uuid),
    )
    if waiting_call.callback_attempts >= waiting_call.queue.callback_max_attempts:
        waiting_call.state = WaitingCallState.FAILED
        waiting_call.state_changed_at = now
        waiting_call.ended_at = now
        waiting_call.outcome = "callback_failed"
        waiting_call.next_overflow_at = None
        waiting_call.save()
    else:
        waiting_call.route_after = now + timedelta(seconds=conf.callback_retry_seconds())
        _back_in_line(waiting_call, now=now)
    presence = _locked_presence(offer.agent_id)
    if presence.state == AgentState.ON_CALL:
        _transition(
            presence, to_state=AgentState.AVAILABLE, now=now, waiting_call_id=waiting_call.pk
        )


@transaction.atomic
def callback_dial_failed(*, token: uuid.UUID, now: datetime | None = None) -> None:
    """Calling the customer back failed (no answer, busy, invalid number)."""
    offer_id = Offer.objects.filter(token=token).values_list("pk", flat=True).first()
    if offer_id is None:
        return
    offer, waiting_call = _locked_offer_and_call(offer_id)
    if (
        offer.status == OfferStatus.ANSWERED
        and waiting_call.state == WaitingCallState.OFFERED
        and waiting_call.offered_agent_id == offer.agent_id
    ):
        _callback_attempt_failed(waiting_call, offer, now=_now(now))


def call_leg_hungup(*, leg_uuid: str, now: datetime | None = None) -> None:
    """React to a hang-up: a waiting caller abandons, a conversation ends, a ringing agent
    rejected (RONA), or a called-back customer did not answer."""
    # Most legs that hang up are nothing of routing's (IVR-only calls, transfers, outbound
    # dials): one indexed look, with no transaction nor lock, settles them. The rows it looks
    # for exist before any event of their leg (the waiting call from the leg's own park, the
    # offer before its originate), so it cannot miss one; the locked path re-checks anyway.
    if _leg_concerns_routing(leg_uuid):
        _leg_hungup(leg_uuid=leg_uuid, now=_now(now))


def _leg_concerns_routing(leg_uuid: str) -> bool:
    if WaitingCall.objects.filter(call_uuid=leg_uuid, state__in=ACTIVE_STATES).exists():
        return True
    try:
        leg = uuid.UUID(leg_uuid)
    except ValueError:
        return False
    return Offer.objects.filter(Q(agent_leg_uuid=leg) | Q(customer_leg_uuid=leg)).exists()


@transaction.atomic
def _leg_hungup(*, leg_uuid: str, now: datetime) -> None:
    waiting_call = (
        WaitingCall.objects.select_for_update()
        .select_related("queue")
        .filter(call_uuid=leg_uuid, state__in=ACTIVE_STATES)
        .first()
    )
    if waiting_call is not None:
        _caller_left(waiting_call, now=now)
        return
    try:
        leg = uuid.UUID(leg_uuid)
    except ValueError:
        return
    offer_id = (
        Offer.objects.filter(Q(agent_leg_uuid=leg) | Q(customer_leg_uuid=leg))
        .values_list("pk", flat=True)
        .first()
    )
    if offer_id is None:
        return
    offer, waiting_call = _locked_offer_and_call(offer_id)
    ours = waiting_call.offered_agent_id == offer.agent_id
    if leg == offer.agent_leg_uuid:
        if offer.status == OfferStatus.RINGING:
            _rona(offer, waiting_call, now=now, leg_alive=False)
        elif offer.status == OfferStatus.ANSWERED and ours:
            if waiting_call.state == WaitingCallState.CONNECTED:
                _call_completed(waiting_call, now=now)
            elif waiting_call.state == WaitingCallState.OFFERED:
                # The agent gave up while their callback was ringing the customer.
                telephony_gateway.request_leg_hangup(
                    token=offer.token,
                    what=telephony_gateway.HANGUP_CUSTOMER,
                    telephony_call_id=waiting_call.telephony_call_id,
                    node_id=waiting_call.telephony_node_id,
                    leg_uuid=str(offer.customer_leg_uuid),
                )
                _back_in_line(waiting_call, now=now)
                _agent_after_call(
                    offer.agent_id, waiting_call.queue, now=now, waiting_call_id=waiting_call.pk
                )
        return
    if not ours or offer.status != OfferStatus.ANSWERED:
        return
    if waiting_call.state == WaitingCallState.OFFERED:
        _callback_attempt_failed(waiting_call, offer, now=now)
    elif waiting_call.state == WaitingCallState.CONNECTED:
        _call_completed(waiting_call, now=now)


# ------------------------------------------------------------------------- overflow, callback


def _widen_pool(waiting_call: WaitingCall, rule: OverflowRule) -> None:
    if waiting_call.eligible_team_ids is None:
        return  # any team already qualifies
    teams = set(waiting_call.eligible_team_ids)
    teams.update(team.pk for team in rule.backup_teams.all())
    if rule.backup_queue is not None:
        backup = set(rule.backup_queue.teams.values_list("pk", flat=True))
        if not backup:
            waiting_call.eligible_team_ids = None
            return
        teams |= backup
    waiting_call.eligible_team_ids = sorted(teams)


def waiting_call_overflow(*, waiting_call_id: int, now: datetime | None = None) -> bool:
    """Apply the overflow rules (and the maximum wait) that are due for a call in line.

    Return True when the call's pool of agents widened (the router should look again).
    """
    now = _now(now)
    with transaction.atomic():
        waiting_call = (
            WaitingCall.objects.select_for_update(skip_locked=True)
            .select_related("queue")
            .filter(pk=waiting_call_id, state__in=IN_LINE_STATES)
            .first()
        )
        if waiting_call is None:
            return False
        queue = waiting_call.queue
        rules = _overflow_rules(queue.pk)
        holding = waiting_call.state == WaitingCallState.WAITING
        widened = False
        while waiting_call.overflow_step < len(rules):
            rule = rules[waiting_call.overflow_step]
            if waiting_call.enqueued_at + timedelta(seconds=rule.after_seconds) > now:
                break
            waiting_call.overflow_step += 1
            if rule.action == OverflowAction.RELAX_LEVELS:
                waiting_call.relax_by += rule.relax_by
                widened = True
            elif rule.action == OverflowAction.ADD_POOL:
                _widen_pool(waiting_call, rule)
                widened = True
            elif rule.action == OverflowAction.OFFER_CALLBACK:
                if holding and waiting_call.callback_offered_at is None:
                    waiting_call.callback_offered_at = now
                    telephony_gateway.request_broadcast(
                        key=f"routing:call:{waiting_call.pk}:callback-offer",
                        telephony_call_id=waiting_call.telephony_call_id,
                        node_id=waiting_call.telephony_node_id,
                        call_uuid=waiting_call.call_uuid,
                        path=rule.target or conf.callback_prompt(),
                    )
            elif holding:  # voicemail, or a message and the end of the call
                action = (
                    ExitAction.VOICEMAIL
                    if rule.action == OverflowAction.VOICEMAIL
                    else ExitAction.MESSAGE_AND_END
                )
                _leave_line(
                    waiting_call,
                    now=now,
                    action=action,
                    target=rule.target,
                    outcome=f"overflow_{rule.action}",
                )
                return False
        if (
            holding
            and queue.max_wait_seconds
            and waiting_call.enqueued_at + timedelta(seconds=queue.max_wait_seconds) <= now
        ):
            _leave_line(
                waiting_call,
                now=now,
                action=queue.full_action,
                target=queue.full_target,
                outcome="max_wait",
            )
            return False
        if widened:
            requirements = {int(skill): level for skill, level in waiting_call.requirements.items()}
            waiting_call.required_tokens = required_tokens(
                requirements, relax_by=waiting_call.relax_by
            )
            _schedule_route_call(waiting_call.pk)
        waiting_call.next_overflow_at = _next_overflow_at(
            waiting_call, max_wait_seconds=queue.max_wait_seconds, rules=rules
        )
        waiting_call.save()
    return widened


def overflow_apply_due(*, now: datetime | None = None) -> int:
    """Apply the overflow rules due for every call in line; return how many calls were due."""
    now = _now(now)
    due = list(
        WaitingCall.objects.filter(state__in=IN_LINE_STATES, next_overflow_at__lte=now)
        .order_by("next_overflow_at")
        .values_list("pk", flat=True)[:1000]
    )
    for waiting_call_id in due:
        waiting_call_overflow(waiting_call_id=waiting_call_id, now=now)
    return len(due)


@transaction.atomic
def waiting_call_accept_callback(
    *, waiting_call: WaitingCall, number: str = "", now: datetime | None = None
) -> WaitingCall:
    """Turn a waiting caller into a callback that keeps their place (virtual hold).

    The caller hears a confirmation and is released; when their turn comes an agent is reserved
    first and then the customer is dialled.
    """
    now = _now(now)
    locked = WaitingCall.objects.select_for_update().select_related("queue").get(pk=waiting_call.pk)
    if locked.state == WaitingCallState.CALLBACK:
        return locked
    if locked.state != WaitingCallState.WAITING:
        raise Conflict(_("Only a caller still waiting can ask for a callback."))
    number = (number or locked.caller_number).strip()
    if not number:
        raise InvalidInput(_("A callback needs a phone number."), field="number")
    locked.state = WaitingCallState.CALLBACK
    locked.state_changed_at = now
    locked.is_callback = True
    locked.callback_number = number[:64]
    locked.next_overflow_at = _next_overflow_at(
        locked,
        max_wait_seconds=locked.queue.max_wait_seconds,
        rules=_overflow_rules(locked.queue_id),
    )
    locked.save()
    telephony_gateway.request_exit(
        waiting_call_id=locked.pk,
        telephony_call_id=locked.telephony_call_id,
        node_id=locked.telephony_node_id,
        call_uuid=locked.call_uuid,
        action=ExitAction.MESSAGE_AND_END,
        target=conf.callback_confirmation(),
    )
    return locked


CALLBACK_DIGIT = "1"


def waiting_call_dtmf(*, call_uuid: str, digit: str, now: datetime | None = None) -> None:
    """Accept the offered callback when a waiting caller presses 1."""
    if digit != CALLBACK_DIGIT:
        return
    waiting_call = WaitingCall.objects.filter(
        call_uuid=call_uuid, state=WaitingCallState.WAITING, callback_offered_at__isnull=False
    ).first()
    if waiting_call is not None:
        waiting_call_accept_callback(waiting_call=waiting_call, now=now)


# ------------------------------------------------------------------- estimates, announcements


_POSITIONS_SQL = """
UPDATE routing_waitingcall c
SET position = line.position,
    ewt_seconds = CASE WHEN inputs.staffed > 0
                       THEN CEIL(line.position * inputs.aht / inputs.staffed)::int END,
    ewt_updated_at = %(now)s
FROM (
    SELECT id, queue_id,
           row_number() OVER (PARTITION BY queue_id ORDER BY rank_at, id) AS position
    FROM routing_waitingcall
    WHERE state IN ('waiting', 'callback')
) AS line
JOIN unnest(%(queue_ids)s::bigint[], %(ahts)s::float8[], %(staffed)s::int[])
     AS inputs(queue_id, aht, staffed) ON inputs.queue_id = line.queue_id
WHERE c.id = line.id
"""


def waiting_positions_refresh(*, now: datetime | None = None) -> int:
    """Store each waiting call's position in its queue and estimated wait; return rows updated."""
    from django.db import connection

    from apps.routing.selectors import queue_wait_inputs

    now = _now(now)
    inputs = queue_wait_inputs(now=now)
    if not inputs:
        return 0
    queue_ids = list(inputs)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _POSITIONS_SQL,
            {
                "now": now,
                "queue_ids": queue_ids,
                "ahts": [inputs[pk].aht_seconds for pk in queue_ids],
                "staffed": [inputs[pk].staffed_agents for pk in queue_ids],
            },
        )
        return cursor.rowcount


def announcement_media(template: str, *, position: int, ewt_seconds: int | None) -> str:
    """Return the media announcing a caller's position and wait (minutes rounded up)."""
    minutes = math.ceil(ewt_seconds / 60) if ewt_seconds else 0
    return template.format(position=position, minutes=minutes)


def announcements_send_due(*, now: datetime | None = None) -> int:
    """Tell waiting callers their position and estimated wait, at each queue's interval."""
    now = _now(now)
    sent = 0
    for queue in Queue.objects.filter(is_active=True, announce_interval_seconds__gt=0):
        threshold = now - timedelta(seconds=queue.announce_interval_seconds)
        due = list(
            WaitingCall.objects.filter(
                queue=queue, state=WaitingCallState.WAITING, position__isnull=False
            )
            .filter(
                Q(last_announced_at__lte=threshold)
                | Q(last_announced_at__isnull=True, enqueued_at__lte=threshold)
            )
            .order_by("rank_at")[:500]
        )
        for waiting_call in due:
            with transaction.atomic():
                telephony_gateway.request_broadcast(
                    key=f"routing:call:{waiting_call.pk}:announce:{int(now.timestamp())}",
                    telephony_call_id=waiting_call.telephony_call_id,
                    node_id=waiting_call.telephony_node_id,
                    call_uuid=waiting_call.call_uuid,
                    path=announcement_media(
                        queue.announcement,
                        position=waiting_call.position or 1,
                        ewt_seconds=waiting_call.ewt_seconds,
                    ),
                )
                WaitingCall.objects.filter(pk=waiting_call.pk).update(last_announced_at=now)
            sent += 1
    return sent


# ---------------------------------------------------------------------------------- reviewers


@transaction.atomic
def queue_set_reviewers(*, queue: Queue, reviewers: list[User]) -> None:
    """Make the QA analysts who review the queue exactly these (guardian object permissions)."""
    wanted = set(reviewers)
    current = set(get_users_with_perms(queue, only_with_perms_in=["review_queue"]))
    for user in wanted - current:
        assign_perm(REVIEW_QUEUE, user, queue)
    for user in current - wanted:
        remove_perm(REVIEW_QUEUE, user, queue)
