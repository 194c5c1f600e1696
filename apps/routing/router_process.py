"""The router process's turn: take the queued router events, decide on them in one turn.

``run_router`` (the management command) loops over ``router_turn``; the routing bench runs the
same function in its router processes, so it measures the production path.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import redis
from django.db import close_old_connections

from apps.routing import conf, events, router
from apps.routing.router import Reservation

logger = logging.getLogger(__name__)


@dataclass
class Turn:
    """What one turn took and decided: each event with its reservation (or None)."""

    decisions: list[tuple[events.RouterEvent, Reservation | None]] = field(default_factory=list)
    started_at: float = 0.0  # when the events were taken
    finished_at: float = 0.0  # when the decisions were committed and the originates published

    @property
    def offers(self) -> int:
        return sum(1 for _event, reservation in self.decisions if reservation is not None)


def router_turn(*, limit: int | None = None, timeout: float = 1.0) -> Turn:
    """Wait up to ``timeout`` seconds for router events, decide on those queued; return the turn.

    A turn that fails is logged and dropped: its transaction rolled back, and the sweep makes
    its decisions within a second. So is Redis being unavailable (the turn waits, then is
    empty): the process keeps running.
    """
    turn = Turn()
    try:
        taken = events.take(limit=limit or conf.router_batch(), timeout=timeout)
    except redis.RedisError:
        logger.warning("router events unavailable; retrying (the sweep decides meanwhile)")
        time.sleep(timeout)
        taken = []
    turn.started_at = time.time()
    if taken:
        close_old_connections()
        try:
            reservations = router.route_events([event.key for event in taken])
        except Exception:
            logger.exception("router turn of %d events failed; the sweep will decide", len(taken))
            reservations = [None] * len(taken)
        turn.decisions = list(zip(taken, reservations, strict=True))
    turn.finished_at = time.time()
    return turn
