"""Browser pushes of routing (after commit): offers and agent states to the agent's group, agent
states to the team's wallboard, queue statistics to the queue's group.

Payload types: ``call.offered`` (with the agent's new state), ``agent.state``, ``queue.stats``.

Why not ``apps.core.realtime.push_now``: it runs ``async_to_sync(group_send)``, which builds a new
event loop, hence a new Redis connection, for every message (about 5 ms of CPU each), and the
router sends one per decision. Here each process keeps ONE event loop in a background thread with
a persistent channel-layer connection; messages are handed over without waiting and sent in order.
Processes patched by gevent (the telephony worker and event process) keep using ``push_now``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction

from apps.core.realtime import agent_group, push_now, queue_group, team_group

if TYPE_CHECKING:
    from apps.routing.models import AgentPresence
    from apps.routing.router import Reservation

logger = logging.getLogger(__name__)


class _Sender:
    """One background event loop per process that sends channel-layer messages in order."""

    def __init__(self) -> None:
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[str, dict[str, Any]]] | None = None
        self._drainer: asyncio.Task[None] | None = None

    def _start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            self._queue = asyncio.Queue()
            self._drainer = loop.create_task(self._drain(self._queue))
            ready.set()
            loop.run_forever()

        threading.Thread(target=run, name="routing-push", daemon=True).start()
        ready.wait(timeout=5)
        self._pid = os.getpid()

    @staticmethod
    async def _drain(queue: asyncio.Queue[tuple[str, dict[str, Any]]]) -> None:
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        while True:
            group, message = await queue.get()
            try:
                if layer is not None:
                    await layer.group_send(group, message)
            except Exception:  # a browser update must never break routing
                logger.exception("routing push to %s failed", group)
            finally:
                queue.task_done()

    def send(self, group: str, message_type: str, payload: dict[str, Any]) -> None:
        if _gevent_patched():
            push_now(group, message_type, payload)
            return
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked child
                self._start()
        if self._loop is None or self._queue is None:  # the thread failed to start
            push_now(group, message_type, payload)
            return
        message = {"type": "broadcast", "message": {"type": message_type, **payload}}
        self._loop.call_soon_threadsafe(self._queue.put_nowait, (group, message))

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every message handed over so far was sent (tests, shutdown)."""
        if self._pid != os.getpid() or self._loop is None or self._queue is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._queue.join(), self._loop)
        future.result(timeout=timeout)


def _gevent_patched() -> bool:
    try:
        from gevent import monkey
    except ImportError:
        return False
    return bool(monkey.is_module_patched("threading"))


_sender = _Sender()


def push_on_commit(group: str, message_type: str, payload: dict[str, Any]) -> None:
    """Send a message to a group once the current transaction commits."""
    transaction.on_commit(lambda: _sender.send(group, message_type, payload))


def flush(timeout: float = 5.0) -> None:
    """Wait until the pushes handed over by this process were sent."""
    _sender.flush(timeout)


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
    _sender.send(queue_group(queue_id), "queue.stats", {"queue_id": queue_id, **stats})
