"""Router events: what happened that may allow a decision, queued in Redis for the router process.

Services publish an event after their transaction commits: a call joined (or came back to) the
line, an agent became available. A router process (``manage.py run_router``) takes every event
queued since its last turn, up to a batch, and decides on them in one turn
(``router.route_events``: one transaction, one round trip, one Celery message for the
originates). Any number of router processes may drain the same queue: the decisions are made
safe by the database (row locks with SKIP LOCKED, partial unique indexes), not by the queue.

The queue is a Redis list per database (events name rows of one database). Events carry the time
they were published, so a router can tell its lag. Delivery is at most once: an event lost (Redis
restarted, a router killed mid-turn, the router process not running) delays its decision until
the periodic sweep (``sweep.run_sweep``, every second) makes every decision still possible.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import transaction

from apps.routing import conf

logger = logging.getLogger(__name__)

AGENT = "agent"
CALL = "call"
_CODES = {AGENT: "a", CALL: "c"}
_KINDS = {code: kind for kind, code in _CODES.items()}


@dataclass(frozen=True)
class RouterEvent:
    """One event for the router: ``kind`` ("agent" or "call"), the row's id, when published."""

    kind: str
    object_id: int
    published_at: float

    @property
    def key(self) -> tuple[str, int]:
        """Return the (kind, id) pair ``router.route_events`` takes."""
        return (self.kind, self.object_id)


def queue_key() -> str:
    """Return the Redis list of this database's router events."""
    return f"routing:events:{settings.DATABASES['default']['NAME']}"


@functools.cache
def _client(url: str) -> redis.Redis:
    # redis-py's pool reconnects after a fork, so one client per process and URL is enough.
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)


def client() -> redis.Redis:
    """Return this process's Redis client for the router events."""
    return _client(conf.events_redis_url())


def encode(kind: str, object_id: int, published_at: float) -> bytes:
    """Return an event's wire form: "<a|c><id>:<unix time>"."""
    return f"{_CODES[kind]}{object_id}:{published_at:.6f}".encode()


def decode(raw: bytes) -> RouterEvent | None:
    """Return the event of a wire form, or None (logged) for a malformed one."""
    try:
        head, _, stamp = raw.decode().partition(":")
        return RouterEvent(_KINDS[head[0]], int(head[1:]), float(stamp))
    except (KeyError, IndexError, ValueError, UnicodeDecodeError):
        logger.warning("ignoring a malformed router event %r", raw)
        return None


def publish(kind: str, object_id: int) -> None:
    """Queue an event for the routers now. A failure is logged, never raised: the sweep covers."""
    try:
        client().rpush(queue_key(), encode(kind, object_id, time.time()))
    except redis.RedisError:
        logger.warning("could not queue router event %s %s; the sweep will decide", kind, object_id)


def publish_on_commit(kind: str, object_id: int) -> None:
    """Queue an event for the routers once the current transaction commits."""
    transaction.on_commit(functools.partial(publish, kind, object_id))


def take(*, limit: int, timeout: float) -> list[RouterEvent]:
    """Wait up to ``timeout`` seconds for events; return those queued (at most ``limit``).

    One blocking pop waits for the first event, one LPOP with a count takes the rest queued
    meanwhile: two Redis round trips per turn, whatever the number of events.
    """
    connection = client()
    first = connection.blpop([queue_key()], timeout=timeout)
    if first is None:
        return []
    raw = [first[1]]
    if limit > 1:
        raw += connection.lpop(queue_key(), limit - 1) or []
    return [event for event in map(decode, raw) if event is not None]
