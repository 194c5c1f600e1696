"""The router: pair waiting calls with available agents, safely with any number of routers at once.

Two entry points, one per side that changed:

- ``route_call(waiting_call_id)`` (a call arrived, or came back after RONA, or overflowed): when
  several agents could take it, the queue's strategy picks one (agent surplus);
- ``route_agent(agent_id)`` (an agent became available): the agent takes the waiting call with the
  highest effective priority among those they qualify for (call surplus);

and ``route_pending`` (the periodic sweep) that retries every pair an event may have missed.

Each decision is ONE SQL statement in its own short transaction: it locks the call and the agent
with ``FOR UPDATE SKIP LOCKED`` (so concurrent routers never wait on each other nor deadlock; a row
someone else is deciding is simply skipped), re-checks their states under the lock, and in the same
statement moves the agent to Reserved, the call to Offered, writes the agent's state change and the
offer. Partial unique indexes (models.py) back this up. The telephony command that rings the agent
is stored in the same transaction (telephony_gateway), so a committed reservation always has its
originate, and a rolled-back one never rings anybody. Raw SQL here is deliberate: it is the hot
path measured by bench/routing.py (one round trip per decision).
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
cursor_update AS (
    UPDATE routing_queue q SET round_robin_cursor = chosen.agent_id
    FROM chosen, target
    WHERE q.id = target.queue_id AND target.strategy = 'round_robin'
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
       call_update.customer_ref, chosen.extension, call_update.telephony_node_id
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


# Planner settings for one decision's transaction. The statements always run with their generic
# plan (planned once per connection). For the agent side, PostgreSQL cannot estimate how many
# waiting calls fit an agent's skills (the tokens are only known at run time) and would read and
# sort the whole line; walking the (rank_at, id) index and stopping at the first call that fits
# is what we want.
_WALK_THE_LINE = (
    "SELECT set_config('plan_cache_mode', 'force_generic_plan', true), "
    "set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true), "
    "set_config('enable_sort', 'off', true)"
)


def _reserve(sql: str, params: dict[str, object], *, walk_line: bool = False) -> Reservation | None:
    # The offer's legs are named before the decision, so one round trip stores everything.
    token = uuid.uuid4()
    agent_leg_uuid = telephony_gateway.agent_leg_uuid(token)
    row = prepared.fetch_one(
        sql,
        {**params, "token": token, "agent_leg_uuid": agent_leg_uuid},
        settings_sql=_WALK_THE_LINE if walk_line else prepared.GENERIC_PLAN,
    )
    if row is None:
        return None
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


def _after_reservation(reservation: Reservation, now: datetime) -> None:
    telephony_gateway.request_agent_ring(reservation)
    notifications.offer_made(reservation, now=now)


def route_call(waiting_call_id: int, *, now: datetime | None = None) -> Reservation | None:
    """Offer the waiting call to the best available agent for it, if there is one.

    Return the reservation, or None when the call is not in line, is being decided by another
    router, or no qualified agent is available.
    """
    now = now or timezone.now()
    with transaction.atomic():
        reservation = _reserve(ROUTE_CALL_SQL, {"waiting_call_id": waiting_call_id, "now": now})
        if reservation is not None:
            _after_reservation(reservation, now)
    return reservation


def route_agent(agent_id: int, *, now: datetime | None = None) -> Reservation | None:
    """Offer the agent the waiting call with the highest effective priority they qualify for.

    Return the reservation, or None when the agent is not available (or is being decided by
    another router) or no waiting call fits them.
    """
    now = now or timezone.now()
    with transaction.atomic():
        reservation = _reserve(ROUTE_AGENT_SQL, {"agent_id": agent_id, "now": now}, walk_line=True)
        if reservation is not None:
            _after_reservation(reservation, now)
    return reservation


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
    found either way, and each attempt that finds nothing costs one short query.
    """
    now = now or timezone.now()
    agents = _available_agent_ids(limit)
    if not agents:
        return []
    calls = _routable_call_ids(now, limit)
    if not calls:
        return []
    reservations: list[Reservation] = []
    # Each decision commits on its own; their originates leave in one Celery message at the end.
    with command_dispatch.batched():
        if len(agents) <= len(calls):
            for agent_id in agents:
                reservation = route_agent(agent_id, now=now)
                if reservation is not None:
                    reservations.append(reservation)
        else:
            for waiting_call_id in calls:
                reservation = route_call(waiting_call_id, now=now)
                if reservation is not None:
                    reservations.append(reservation)
    return reservations


def route_events(
    events: Iterable[tuple[str, int]], *, now: datetime | None = None
) -> list[Reservation | None]:
    """Decide on several router events in turn: ("agent", agent id) or ("call", waiting call id).

    For a router process that takes the events queued since its last turn: every decision keeps
    its own transaction (and guarantees), and their originates leave in one Celery message.
    Return each event's reservation (None when it led to no decision), in order.
    """
    reservations: list[Reservation | None] = []
    with command_dispatch.batched():
        for kind, object_id in events:
            if kind == "agent":
                reservations.append(route_agent(object_id, now=now))
            else:
                reservations.append(route_call(object_id, now=now))
    return reservations
