"""The router: pair waiting calls with available agents, safely with any number of routers at once.

Router events, one per side that changed:

- ("call", waiting call id): a call arrived, came back after RONA, or overflowed; when several
  agents could take it, the queue's strategy picks one (agent surplus);
- ("agent", agent id): an agent became available; they take the waiting call with the highest
  effective priority among those they qualify for (call surplus);

decided a turn at a time by ``route_events`` (the router process takes every event queued since
its last turn, see events.py and router_process.py), one at a time by ``route_call`` /
``route_agent``, and by ``route_pending`` (the periodic sweep) that retries every pair an event
may have missed.

Each decision is ONE SQL statement: it locks the call and the agent with ``FOR UPDATE SKIP
LOCKED`` (so concurrent routers never wait on each other nor deadlock; a row someone else is
deciding is simply skipped), re-checks their states under the lock, and in the same statement
moves the agent to Reserved, the call to Offered, writes the agent's state change and the offer.
Partial unique indexes (models.py) back this up. A turn sends all its decisions' statements in one
round trip (psycopg pipeline mode) inside ONE transaction, so later decisions see the earlier ones
and the turn pays one commit; the originates that ring the agents are stored in the same
transaction in one statement (telephony_gateway), so a committed reservation always has its
originate and a rolled-back one never rings anybody, and they are published in one Celery message
after the commit. Raw SQL here is deliberate: it is the hot path measured by bench/routing.py.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from apps.routing import notifications, telephony_gateway
from apps.routing import sql as prepared
from apps.telephony import command_dispatch

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reservation:
    """A decision: this call is offered to this agent (both rows are reserved)."""

    offer_id: int
    token: uuid.UUID
    agent_id: int
    waiting_call_id: int
    queue_id: int
    agent_leg_uuid: uuid.UUID
    ring_timeout_seconds: int
    is_callback: bool
    call_uuid: str
    node: str
    telephony_node_id: int | None
    telephony_call_id: int | None
    caller_number: str
    customer_ref: str
    agent_extension: str


# Effective ordering of qualified available agents for one call, per the queue's strategy. Each
# CASE is 0 for the other strategies, so one statement serves every queue; the last keys make the
# choice total and reproducible. The sticky window itself is a filter (only the last agent may take
# the call until it ends); the first key prefers the last agent afterwards too.
_AGENT_ORDER = """
    CASE WHEN target.strategy = 'sticky' AND p.agent_id = target.last_agent_id
         THEN 0 ELSE 1 END,
    CASE WHEN target.strategy = 'best_skill' THEN -(
        SELECT count(*) FROM unnest(p.skill_tokens) AS held(token)
        WHERE held.token / 16 IN (SELECT needed / 16 FROM unnest(target.required_tokens) needed)
    ) ELSE 0 END,
    CASE WHEN target.strategy = 'least_occupied' THEN p.occupied_seconds / GREATEST(
        EXTRACT(EPOCH FROM (%(now)s - COALESCE(p.session_started_at, %(now)s))), 1.0
    ) ELSE 0 END,
    CASE WHEN target.strategy = 'round_robin'
         THEN (p.agent_id <= COALESCE(target.round_robin_cursor, -1))::int ELSE 0 END,
    CASE WHEN target.strategy = 'round_robin' THEN p.agent_id ELSE 0 END,
    p.idle_since, p.agent_id
"""

# Shared tail: given target(id, queue_id, strategy, ring_timeout_seconds) and
# chosen(agent_id, state_since, extension), reserve both and record the transition and the offer.
# The round-robin cursor is moved once per router turn (_ROUND_ROBIN_SQL), not here: a turn
# decides many calls in one transaction, and must never wait for a queue row meanwhile.
_RESERVE = """
agent_update AS (
    UPDATE routing_agentpresence p
    SET state = 'reserved', reason = '', state_since = %(now)s
    FROM chosen WHERE p.agent_id = chosen.agent_id
    RETURNING p.agent_id
),
call_update AS (
    UPDATE routing_waitingcall c
    SET state = 'offered', state_changed_at = %(now)s, offered_agent_id = chosen.agent_id,
        offered_at = %(now)s, offer_count = c.offer_count + 1
    FROM chosen, target WHERE c.id = target.id
    RETURNING c.id, c.queue_id, c.is_callback, c.call_uuid, c.node, c.telephony_call_id,
              c.caller_number, c.customer_ref, c.telephony_node_id
),
change AS (
    INSERT INTO routing_agentstatechange
        (agent_id, from_state, to_state, reason, at, previous_state_seconds, waiting_call_id)
    SELECT chosen.agent_id, 'available', 'reserved', '', %(now)s,
           EXTRACT(EPOCH FROM (%(now)s - chosen.state_since)), target.id
    FROM chosen, target
),
offer AS (
    INSERT INTO routing_offer
        (waiting_call_id, agent_id, status, created_at, ring_deadline, token, agent_leg_uuid)
    SELECT target.id, chosen.agent_id, 'ringing', %(now)s,
           %(now)s + make_interval(secs => target.ring_timeout_seconds), %(token)s,
           %(agent_leg_uuid)s
    FROM chosen, target
    RETURNING id, agent_id, agent_leg_uuid
)
SELECT offer.id, offer.agent_id, call_update.id, call_update.queue_id, offer.agent_leg_uuid,
       target.ring_timeout_seconds, call_update.is_callback, call_update.call_uuid,
       call_update.node, call_update.telephony_call_id, call_update.caller_number,
       call_update.customer_ref, chosen.extension, call_update.telephony_node_id, target.strategy
FROM offer, call_update, target, chosen
"""

ROUTE_CALL_SQL = f"""
WITH target AS MATERIALIZED (
    SELECT c.id, c.queue_id, c.required_tokens, c.eligible_team_ids, c.sticky_until,
           c.last_agent_id, q.strategy, q.ring_timeout_seconds, q.round_robin_cursor
    FROM routing_waitingcall c JOIN routing_queue q ON q.id = c.queue_id
    WHERE c.id = %(waiting_call_id)s AND c.state IN ('waiting', 'callback')
      AND (c.route_after IS NULL OR c.route_after <= %(now)s)
    FOR UPDATE OF c SKIP LOCKED
),
chosen AS MATERIALIZED (
    SELECT p.agent_id, p.state_since, a.extension
    FROM target, routing_agentpresence p JOIN accounts_agent a ON a.id = p.agent_id
    WHERE p.state = 'available' AND a.is_active
      AND p.skill_tokens @> target.required_tokens
      AND (target.eligible_team_ids IS NULL OR a.team_id = ANY(target.eligible_team_ids))
      AND (target.sticky_until IS NULL OR target.sticky_until <= %(now)s
           OR p.agent_id = target.last_agent_id)
    ORDER BY {_AGENT_ORDER}
    LIMIT 1
    FOR UPDATE OF p SKIP LOCKED
),
{_RESERVE}
"""  # noqa: S608 (constant fragments only)

ROUTE_AGENT_SQL = f"""
WITH me AS MATERIALIZED (
    SELECT p.agent_id, p.state_since, p.skill_tokens, a.team_id, a.extension
    FROM routing_agentpresence p JOIN accounts_agent a ON a.id = p.agent_id
    WHERE p.agent_id = %(agent_id)s AND p.state = 'available' AND a.is_active
    FOR UPDATE OF p SKIP LOCKED
),
best AS MATERIALIZED (
    -- The agent's attributes are one-time subqueries (not a join) so that PostgreSQL walks the
    -- line index in rank order and stops at the first call that fits.
    SELECT c.id, c.queue_id
    FROM routing_waitingcall c
    WHERE EXISTS (SELECT 1 FROM me)
      AND c.state IN ('waiting', 'callback')
      AND (c.route_after IS NULL OR c.route_after <= %(now)s)
      AND c.required_tokens <@ (SELECT skill_tokens FROM me)
      AND (c.eligible_team_ids IS NULL OR (SELECT team_id FROM me) = ANY(c.eligible_team_ids))
      AND (c.sticky_until IS NULL OR c.sticky_until <= %(now)s
           OR c.last_agent_id = %(agent_id)s)
    ORDER BY c.rank_at, c.id
    LIMIT 1
    FOR UPDATE OF c SKIP LOCKED
),
target AS MATERIALIZED (
    SELECT best.id, best.queue_id, q.strategy, q.ring_timeout_seconds
    FROM best JOIN routing_queue q ON q.id = best.queue_id
),
chosen AS MATERIALIZED (
    SELECT me.agent_id, me.state_since, me.extension FROM me WHERE EXISTS (SELECT 1 FROM target)
),
{_RESERVE}
"""  # noqa: S608 (constant fragments only)


# Planner settings, per kind of decision, for the statements that follow in the turn's
# transaction. The statements always run with their generic plan (planned once per connection).
# For the agent side, PostgreSQL cannot estimate how many waiting calls fit an agent's skills (the
# tokens are only known at run time) and would read and sort the whole line; walking the
# (rank_at, id) index and stopping at the first call that fits is what we want. The call side
# keeps the default planner settings (switched back whenever the kind of decision changes).
_CALL_SIDE = (
    "SELECT set_config('plan_cache_mode', 'force_generic_plan', true), "
    "set_config('enable_seqscan', 'on', true), set_config('enable_bitmapscan', 'on', true), "
    "set_config('enable_sort', 'on', true)"
)
_AGENT_SIDE = (
    "SELECT set_config('plan_cache_mode', 'force_generic_plan', true), "
    "set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true), "
    "set_config('enable_sort', 'off', true)"
)

# Moves the round-robin cursor of every queue the turn offered a call of, to the agent of its
# last such offer. A queue row someone else holds (an admin edit, a service locking a call with
# its queue) is skipped rather than waited for: a turn holds many rows, and waiting here could
# deadlock; a cursor left behind only means the next offer starts from the previous agent (who is
# reserved now, so the one after is chosen).
_ROUND_ROBIN_SQL = """
WITH moved AS (
    SELECT * FROM unnest(%(queue_ids)s::bigint[], %(agent_ids)s::bigint[]) AS m(queue_id, agent_id)
),
locked AS (
    SELECT q.id FROM routing_queue q WHERE q.id IN (SELECT queue_id FROM moved)
    FOR NO KEY UPDATE SKIP LOCKED
)
UPDATE routing_queue q SET round_robin_cursor = moved.agent_id
FROM locked, moved WHERE q.id = locked.id AND moved.queue_id = locked.id
"""

# Most decisions one transaction makes (route_pending splits its work into turns of this size).
TURN_SIZE = 64

Event = tuple[str, int]
AGENT_EVENT = "agent"
CALL_EVENT = "call"


def _reservation(row: tuple, token: uuid.UUID, agent_leg_uuid: uuid.UUID) -> Reservation:
    return Reservation(
        offer_id=row[0],
        token=token,
        agent_id=row[1],
        waiting_call_id=row[2],
        queue_id=row[3],
        agent_leg_uuid=agent_leg_uuid,
        ring_timeout_seconds=row[5],
        is_callback=row[6],
        call_uuid=row[7],
        node=row[8],
        telephony_call_id=row[9],
        caller_number=row[10],
        customer_ref=row[11],
        agent_extension=row[12],
        telephony_node_id=row[13],
    )


def _move_round_robin_cursors(cursors: dict[int, int]) -> None:
    prepared.fetch_each(
        [(_ROUND_ROBIN_SQL, {"queue_ids": list(cursors), "agent_ids": list(cursors.values())})]
    )


def route_events(
    events: Iterable[Event], *, now: datetime | None = None
) -> list[Reservation | None]:
    """Decide on a turn of router events: ("agent", agent id) or ("call", waiting call id).

    The decisions are made in order, as ``route_agent`` / ``route_call`` would one after the
    other, but in ONE transaction and one round trip: each decision is still one statement that
    locks its call and agent with SKIP LOCKED and re-checks them under the lock (so concurrent
    routers never wait on each other, and never double-book), later decisions see the earlier
    ones, the turn's originates are stored in the same transaction and published in one Celery
    message after the commit. A repeated event is decided once.
    Return each event's reservation (None when it led to no decision), in order.
    """
    now = now or timezone.now()
    events = list(events)
    unique = list(dict.fromkeys(events))
    if not unique:
        return []
    statements: list[tuple[str, dict[str, object]]] = []
    # Per statement: the event it decides and its offer's names (None for planner settings).
    slots: list[tuple[Event, uuid.UUID, uuid.UUID] | None] = []
    side = ""
    for kind, object_id in unique:
        if kind not in (AGENT_EVENT, CALL_EVENT):
            raise ValueError(f"Unknown router event {kind!r}.")
        if kind != side:
            side = kind
            statements.append((_AGENT_SIDE if kind == AGENT_EVENT else _CALL_SIDE, {}))
            slots.append(None)
        # The offer's legs are named before the decision, so one round trip stores everything.
        token = uuid.uuid4()
        leg = telephony_gateway.agent_leg_uuid(token)
        params: dict[str, object] = {"now": now, "token": token, "agent_leg_uuid": leg}
        if kind == AGENT_EVENT:
            statements.append((ROUTE_AGENT_SQL, {**params, "agent_id": object_id}))
        else:
            statements.append((ROUTE_CALL_SQL, {**params, "waiting_call_id": object_id}))
        slots.append(((kind, object_id), token, leg))
    decided: dict[Event, Reservation] = {}
    with command_dispatch.batched(), transaction.atomic():
        round_robin: dict[int, int] = {}
        for row, slot in zip(prepared.fetch_each(statements), slots, strict=True):
            if slot is None or row is None:
                continue
            event, token, leg = slot
            decided[event] = _reservation(row, token, leg)
            if row[14] == "round_robin":
                round_robin[row[3]] = row[1]
        if round_robin:
            _move_round_robin_cursors(round_robin)
        if decided:
            telephony_gateway.request_agent_rings(list(decided.values()))
        for reservation in decided.values():
            notifications.offer_made(reservation, now=now)
    # A repeated event gets None: its decision is reported once, at its first occurrence.
    return [decided.pop(event, None) for event in events]


def route_call(waiting_call_id: int, *, now: datetime | None = None) -> Reservation | None:
    """Offer the waiting call to the best available agent for it, if there is one.

    Return the reservation, or None when the call is not in line, is being decided by another
    router, or no qualified agent is available.
    """
    return route_events([(CALL_EVENT, waiting_call_id)], now=now)[0]


def route_agent(agent_id: int, *, now: datetime | None = None) -> Reservation | None:
    """Offer the agent the waiting call with the highest effective priority they qualify for.

    Return the reservation, or None when the agent is not available (or is being decided by
    another router) or no waiting call fits them.
    """
    return route_events([(AGENT_EVENT, agent_id)], now=now)[0]


def _available_agent_ids(limit: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT agent_id FROM routing_agentpresence WHERE state = 'available' "
            "ORDER BY idle_since, agent_id LIMIT %s",
            [limit],
        )
        return [row[0] for row in cursor.fetchall()]


def _routable_call_ids(now: datetime, limit: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM routing_waitingcall WHERE state IN ('waiting', 'callback') "
            "AND (route_after IS NULL OR route_after <= %s) ORDER BY rank_at, id LIMIT %s",
            [now, limit],
        )
        return [row[0] for row in cursor.fetchall()]


def route_pending(*, now: datetime | None = None, limit: int = 5000) -> list[Reservation]:
    """Make every decision currently possible (the sweep's safety net for lost events).

    Walk the smaller side: each available agent takes their best call when agents are scarce;
    otherwise each waiting call, best first, takes its best agent. Every pair that can be made is
    found either way. The attempts are router turns of ``TURN_SIZE`` events (one transaction
    and one round trip each); their originates leave in one Celery message at the end.
    """
    now = now or timezone.now()
    agents = _available_agent_ids(limit)
    if not agents:
        return []
    calls = _routable_call_ids(now, limit)
    if not calls:
        return []
    events: list[Event] = (
        [(AGENT_EVENT, agent_id) for agent_id in agents]
        if len(agents) <= len(calls)
        else [(CALL_EVENT, waiting_call_id) for waiting_call_id in calls]
    )
    reservations: list[Reservation] = []
    with command_dispatch.batched():
        for start in range(0, len(events), TURN_SIZE):
            turn = route_events(events[start : start + TURN_SIZE], now=now)
            reservations += [reservation for reservation in turn if reservation is not None]
    return reservations
