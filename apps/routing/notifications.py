"""Browser pushes of routing (after commit): offers and agent states to the agent's group, agent
states to the team's wallboard, queue statistics to the queue's group.

Payload types: ``call.offered`` (with the agent's new state), ``agent.state``, ``queue.stats``.

Decisions only hand their pushes over (``realtime.push_soon``): apps.core.realtime's persistent
sender delivers them in order on its long-lived channel-layer connection, off the decision path.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction

from apps.core import realtime
from apps.core.realtime import agent_group, queue_group, team_group

if TYPE_CHECKING:
    from apps.routing.models import AgentPresence
    from apps.routing.router import Reservation


def push_on_commit(group: str, message_type: str, payload: dict[str, Any]) -> None:
    """Hand a message over for sending once the current transaction commits."""
    transaction.on_commit(lambda: realtime.push_soon(group, message_type, payload))


def flush(timeout: float = realtime.SEND_TIMEOUT_SECONDS) -> None:
    """Wait until the pushes handed over by this process were sent."""
    realtime.flush(timeout)


def offer_made(reservation: Reservation, *, now: datetime) -> None:
    """Tell the agent's console a call is ringing for them (the screen-pop starts here)."""
    push_on_commit(
        agent_group(reservation.agent_id),
        "call.offered",
        {
            "waiting_call_id": reservation.waiting_call_id,
            "offer_id": reservation.offer_id,
            "queue_id": reservation.queue_id,
            "call_uuid": reservation.call_uuid,
            "telephony_call_id": reservation.telephony_call_id,
            "caller_number": reservation.caller_number,
            "customer_ref": reservation.customer_ref,
            "is_callback": reservation.is_callback,
            "ring_timeout_seconds": reservation.ring_timeout_seconds,
            "offered_at": now.isoformat(),
            "agent_state": {
                "agent_id": reservation.agent_id,
                "state": "reserved",
                "reason": "",
                "since": now.isoformat(),
            },
        },
    )


def agent_state_changed(presence: AgentPresence, *, team_id: int | None) -> None:
    """Tell the agent's console and their team's wallboard the agent's new state."""
    payload: dict[str, Any] = {
        "agent_id": presence.agent_id,
        "state": presence.state,
        "reason": presence.reason,
        "since": presence.state_since.isoformat(),
        "wrap_up_until": presence.wrap_up_until.isoformat() if presence.wrap_up_until else None,
    }
    push_on_commit(agent_group(presence.agent_id), "agent.state", payload)
    if team_id is not None:
        push_on_commit(team_group(team_id), "agent.state", payload)


def queue_stats(queue_id: int, stats: dict[str, Any]) -> None:
    """Send a queue's live statistics to its group (callers are outside a transaction)."""
    realtime.push_soon(queue_group(queue_id), "queue.stats", {"queue_id": queue_id, **stats})
