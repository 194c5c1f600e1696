"""Telephony domain events: what happened to calls, endpoints and commands, for other apps.

Other apps subscribe in their ``AppConfig.ready``::

    from apps.telephony import domain_events

    domain_events.subscribe("call.parked", on_call_parked)

Telephony services publish after their transaction commits, so a handler never sees a fact that
was rolled back. A handler that raises is logged and does not stop the others.

Where handlers run:

- in the event process (it calls ``start_lanes``), each subscriber's *lane* (by default its app:
  "routing", "console"; ``subscribe(..., lane=...)`` names another) is an ordered queue served
  by a greenlet of its own on the process's hub. Events reach a lane in commit order and its
  handlers in that order; lanes run side by side, so a lane waiting on its database or Redis
  round trips never delays another lane's events (the console's screen-pops do not queue behind
  routing's work). A lane's queue is bounded: when full, the publisher waits for room (nothing
  is dropped; new events then reach every lane only as fast as the full one drains) and the
  lane is logged, as is a large backlog;
- in another gevent process (the telephony worker), synchronously in a native thread of gevent's
  threadpool, every subscriber in turn, while the publishing greenlet waits cooperatively;
- elsewhere (web, tests), synchronously in the publisher's thread.

On the hub, not in a native thread: a native thread's every socket round trip had to win the
GIL back from the busy hub (up to the 5 ms switch interval each), which made a screen-pop of
three round trips cost 15 ms and the lanes fall seconds behind at 50 calls/s. Handlers there must
therefore be gevent-friendly: blocking I/O through patched sockets (Django's database, Redis,
Celery), pushes through apps.core.realtime (synchronous under gevent), never ``async_to_sync``
(its loop on the hub's OS thread would make Django refuse every other greenlet's database
calls). Keep them quick all the same (enqueue a task, make a small write): a lane is as fast as
its slowest handler.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, NamedTuple

from django.db import transaction

logger = logging.getLogger(__name__)

CALL_CREATED: Final = "call.created"
CALL_RINGING: Final = "call.ringing"
CALL_ANSWERED: Final = "call.answered"
CALL_BRIDGED: Final = "call.bridged"
CALL_UNBRIDGED: Final = "call.unbridged"
CALL_PARKED: Final = "call.parked"
CALL_HELD: Final = "call.held"
CALL_UNHELD: Final = "call.unheld"
CALL_DTMF: Final = "call.dtmf"
CALL_RECORDING_STARTED: Final = "call.recording_started"
CALL_RECORDING_STOPPED: Final = "call.recording_stopped"
CALL_HUNGUP: Final = "call.hungup"
ENDPOINT_REGISTERED: Final = "endpoint.registered"
ENDPOINT_UNREGISTERED: Final = "endpoint.unregistered"
COMMAND_SUCCEEDED: Final = "command.succeeded"
COMMAND_FAILED: Final = "command.failed"

KINDS: Final = frozenset(
    {
        CALL_CREATED,
        CALL_RINGING,
        CALL_ANSWERED,
        CALL_BRIDGED,
        CALL_UNBRIDGED,
        CALL_PARKED,
        CALL_HELD,
        CALL_UNHELD,
        CALL_DTMF,
        CALL_RECORDING_STARTED,
        CALL_RECORDING_STOPPED,
        CALL_HUNGUP,
        ENDPOINT_REGISTERED,
        ENDPOINT_UNREGISTERED,
        COMMAND_SUCCEEDED,
        COMMAND_FAILED,
    }
)


@dataclass(frozen=True)
class CallEvent:
    """One telephony fact.

    ``call_id``/``call_uuid`` name the call (absent for endpoint events); ``leg_uuid``,
    ``leg_role`` and ``agent_id`` the leg it happened on, when it happened on one. ``data`` holds
    the kind's own details:

    - call.created: direction, caller_number, callee_number, did
    - call.parked: queue (cc_queue slug), cc (all cc_* variables), customer_id
    - call.hungup: hangup_cause (of the leg; the call's when ``call_ended`` is true), call_ended,
      queue (the call's cc_queue slug, "" when it never queued)
    - call.dtmf: digit, source
    - call.bridged / call.unbridged: other_leg_uuid
    - call.recording_started / stopped: path, recording_id
    - endpoint.registered / unregistered: username, realm, contact
    - command.succeeded / failed: command_id, kind, idempotency_key, result / error_code,
      error_message
    """

    kind: str
    node: str
    occurred_at: datetime
    call_id: int | None = None
    call_uuid: str | None = None
    leg_uuid: str | None = None
    leg_role: str | None = None
    agent_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[CallEvent], None]

# Default bound of a lane's queue (events). A full lane makes the publisher wait (never drops:
# routing must see every hangup), so it is far above any healthy backlog.
LANE_MAX_PENDING: Final = 50_000
# A lane's backlog from which it is logged (at most every LANE_WARN_SECONDS).
LANE_WARN_BACKLOG: Final = 1_000
LANE_WARN_SECONDS: Final = 10.0
# Greenlets per lane: calls whose handlers wait on round trips go on side by side (each its own
# database connection), while each call's events keep their order.
LANE_SHARDS: Final = 4


class Subscription(NamedTuple):
    handler: Handler
    lane: str


_subscribers: dict[str, list[Subscription]] = defaultdict(list)


def lane_of(handler: Handler) -> str:
    """Return the lane a handler gets by default: its app ("routing" for apps.routing.*)."""
    module = getattr(handler, "__module__", None) or ""
    parts = module.split(".")
    if len(parts) > 1 and parts[0] == "apps":
        return parts[1]
    return module or "default"


def subscribe(kind: str, handler: Handler, *, lane: str | None = None) -> None:
    """Call ``handler(event)`` for every published event of this kind ("*" for every kind).

    ``lane`` names the ordered queue the handler is called from in the event process (default:
    its app, see ``lane_of``); give time-critical handlers a lane of their own, so that no other
    handler's round trips stand in front of theirs.
    """
    if kind != "*" and kind not in KINDS:
        raise ValueError(f"Unknown telephony event kind: {kind}")
    if all(subscription.handler != handler for subscription in _subscribers[kind]):
        _subscribers[kind].append(Subscription(handler, lane or lane_of(handler)))


def unsubscribe(kind: str, handler: Handler) -> None:
    """Stop calling a handler subscribed with ``subscribe``."""
    subscriptions = _subscribers.get(kind, [])
    for subscription in subscriptions:
        if subscription.handler == handler:
            subscriptions.remove(subscription)
            return


def _subscriptions(kind: str) -> list[Subscription]:
    return [*_subscribers.get(kind, ()), *_subscribers.get("*", ())]


def _call(handler: Handler, event: CallEvent) -> bool:
    try:
        handler(event)
    except Exception:  # one subscriber's bug must not starve the others or the ingest loop
        logger.exception("telephony event handler %r failed on %s", handler, event.kind)
        return False
    return True


def publish(event: CallEvent) -> None:
    """Deliver an event to its subscribers now (callers publish after commit)."""
    for subscription in _subscriptions(event.kind):
        _call(subscription.handler, event)


def publish_all(events: Iterable[CallEvent]) -> None:
    """Deliver events in order (callers publish after commit).

    On the gevent hub of a process that started the lanes (the event process): queue them to
    the lanes and return. On another gevent hub: wait cooperatively while a native thread calls
    every subscriber. Elsewhere: call them now.
    """
    events = list(events)
    if not events:
        return
    if _on_gevent_hub():
        if _LANES is not None:
            _LANES.submit(events)
            return
        import gevent

        gevent.get_hub().threadpool.apply(_publish_in_pool, (events,))
        return
    for event in events:
        publish(event)


def _publish_in_pool(events: list[CallEvent]) -> None:
    _enter_native_thread()
    for event in events:
        publish(event)


def _enter_native_thread() -> None:
    from django.db import close_old_connections

    _native_local().in_pool = True
    # No request cycle closes this thread's connection: drop it when broken or too old.
    close_old_connections()


# ------------------------------------------------------------------------------------- lanes


def percentile(values: list[float], fraction: float) -> float | None:
    """Return the nearest-rank percentile of ``values`` (``fraction`` in 0..1), or None."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


@dataclass
class LaneStats:
    """Counters of one lane (cumulative) and its lags, queued -> every handler returned."""

    queued: int = 0
    delivered: int = 0
    failed: int = 0
    max_backlog: int = 0
    full_waits: int = 0
    lags: list[float] = field(default_factory=list)
    max_lag_samples: int = 200_000

    def lag_percentile(self, fraction: float) -> float | None:
        """Return a lag percentile in seconds (``fraction`` in 0..1), or None without data."""
        return percentile(self.lags, fraction)


def order_key(event: CallEvent) -> str:
    """Return what a lane keeps in order: one call's events (an endpoint's, for registrations)."""
    if event.call_uuid:
        return event.call_uuid
    if event.call_id is not None:
        return str(event.call_id)
    return str(event.data.get("username") or event.data.get("command_id") or "")


class _Shard:
    """A part of a lane: its own queue and greenlet, for the calls whose order key maps to it."""

    def __init__(self, lane: Lane) -> None:
        import gevent.event

        self.lane = lane
        self.queue: deque[tuple[float, CallEvent, tuple[Handler, ...]]] = deque()
        self.in_flight = 0
        self.greenlet: Any = None
        self.room = gevent.event.Event()
        self.room.set()
        self.wake = gevent.event.Event()

    @property
    def is_idle(self) -> bool:
        return not self.queue and not self.in_flight

    def serve(self, lanes: Lanes) -> None:
        """Deliver this shard's events in order until the lanes stop (its greenlet)."""
        import gevent
        from django.db import close_old_connections

        stats = self.lane.stats
        while True:
            if not self.queue:
                lanes.lane_idle()
                if lanes.stopping:
                    return
                self.wake.clear()
                self.wake.wait()
                # No request cycle closes this greenlet's connection: drop it when broken or
                # too old, once per burst of events.
                close_old_connections()
                continue
            queued_at, event, handlers = self.queue.popleft()
            self.in_flight = 1
            self.room.set()
            try:
                for handler in handlers:
                    if not _call(handler, event):
                        stats.failed += 1
            finally:
                self.in_flight = 0
            stats.delivered += 1
            if len(stats.lags) < stats.max_lag_samples:
                stats.lags.append(time.monotonic() - queued_at)
            # Handlers that never block must not keep the hub (the ESL reader, the writer,
            # the other lanes) for a whole backlog.
            gevent.sleep(0)


class Lane:
    """One subscriber's queue of events (with the handlers of this lane to call).

    Order is kept per call (``order_key``), which is what handlers rely on: a lane is split in
    ``shards``, each with its own greenlet, and a call's events all go to the same one. So a
    lane waiting on one call's round trips goes on with other calls meanwhile.
    """

    def __init__(
        self,
        name: str,
        *,
        max_pending: int = LANE_MAX_PENDING,
        warn_backlog: int = LANE_WARN_BACKLOG,
        shards: int = LANE_SHARDS,
    ) -> None:
        self.name = name
        self.max_pending = max_pending
        self.warn_backlog = warn_backlog
        self.stats = LaneStats()
        self.shards = [_Shard(self) for _ in range(max(1, shards))]
        self._warned_at = 0.0

    @property
    def backlog(self) -> int:
        """Return how many events wait (not counting those being delivered)."""
        return sum(len(shard.queue) for shard in self.shards)

    @property
    def is_full(self) -> bool:
        return any(len(shard.queue) >= self.max_pending for shard in self.shards)

    @property
    def is_idle(self) -> bool:
        return all(shard.is_idle for shard in self.shards)

    def start(self, lanes: Lanes) -> None:
        import gevent

        for shard in self.shards:
            shard.greenlet = gevent.spawn(shard.serve, lanes)

    def put(self, items: list[tuple[CallEvent, tuple[Handler, ...]]]) -> None:
        """Queue events; waits (cooperatively) while the shard an event goes to is full."""
        count = len(self.shards)
        for event, handlers in items:
            shard = self.shards[hash(order_key(event)) % count] if count > 1 else self.shards[0]
            while len(shard.queue) >= self.max_pending:
                self.stats.full_waits += 1
                self._warn(f"is full ({len(shard.queue)} events): the publisher waits")
                shard.room.clear()
                shard.wake.set()
                shard.room.wait(1.0)
            shard.queue.append((time.monotonic(), event, handlers))
            shard.wake.set()
        self.stats.queued += len(items)
        backlog = self.backlog
        self.stats.max_backlog = max(self.stats.max_backlog, backlog)
        if backlog >= self.warn_backlog:
            self._warn(f"has {backlog} events waiting: its subscriber is slower than the events")

    def greenlets(self) -> list[Any]:
        return [shard.greenlet for shard in self.shards if shard.greenlet is not None]

    def wake(self) -> None:
        for shard in self.shards:
            shard.wake.set()

    def summary(self) -> str:
        """Return one line of counters and lag percentiles (ms)."""
        stats = self.stats

        def ms(fraction: float) -> str:
            value = stats.lag_percentile(fraction)
            return "-" if value is None else f"{value * 1000:.1f}"

        return (
            f"domain-event lane {self.name}: delivered={stats.delivered} failed={stats.failed} "
            f"max_backlog={stats.max_backlog} full_waits={stats.full_waits} "
            f"lag_p50={ms(0.5)}ms lag_p95={ms(0.95)}ms lag_max={ms(1.0)}ms"
        )

    def _warn(self, message: str) -> None:
        now = time.monotonic()
        if now - self._warned_at > LANE_WARN_SECONDS:
            self._warned_at = now
            logger.warning("domain-event lane %s %s", self.name, message)


class Lanes:
    """The lanes of one process (one per subscribers' lane name, created on first use), served
    by greenlets on the hub (see the module docstring)."""

    def __init__(
        self,
        *,
        max_pending: int = LANE_MAX_PENDING,
        warn_backlog: int = LANE_WARN_BACKLOG,
        shards: int = LANE_SHARDS,
    ) -> None:
        import gevent.event

        self.max_pending = max_pending
        self.warn_backlog = warn_backlog
        self.shards = shards
        self.lanes: dict[str, Lane] = {}
        self.stopping = False
        self._idle = gevent.event.Event()
        self._idle.set()

    def submit(self, events: list[CallEvent]) -> None:
        """Queue each event to the lanes of its subscribers, in order within every lane."""
        per_lane: dict[str, list[tuple[CallEvent, tuple[Handler, ...]]]] = {}
        for event in events:
            handlers: dict[str, list[Handler]] = {}
            for subscription in _subscriptions(event.kind):
                handlers.setdefault(subscription.lane, []).append(subscription.handler)
            for name, lane_handlers in handlers.items():
                per_lane.setdefault(name, []).append((event, tuple(lane_handlers)))
        if not per_lane:
            return
        lanes = [(self.lane(name), items) for name, items in per_lane.items()]
        # Lanes with room first: a full lane makes this wait, the others need not wait with it.
        lanes.sort(key=lambda pair: pair[0].is_full)
        self._idle.clear()
        for lane, items in lanes:
            lane.put(items)

    def lane(self, name: str) -> Lane:
        """Return the lane of that name (created, and its greenlets started, on first use)."""
        lane = self.lanes.get(name)
        if lane is None:
            lane = self.lanes[name] = Lane(
                name,
                max_pending=self.max_pending,
                warn_backlog=self.warn_backlog,
                shards=self.shards,
            )
            lane.start(self)
        return lane

    def lane_idle(self) -> None:
        if self.is_idle:
            self._idle.set()

    @property
    def is_idle(self) -> bool:
        return all(lane.is_idle for lane in self.lanes.values())

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block (cooperatively) until every lane delivered what it was given."""
        return self._idle.wait(timeout)

    def backlog(self) -> dict[str, int]:
        """Return each lane's waiting events."""
        return {name: lane.backlog for name, lane in self.lanes.items()}

    def stop(self, *, timeout: float = 30.0) -> None:
        """Deliver what is queued (up to ``timeout``), then stop the lanes' greenlets."""
        import gevent

        self.stopping = True
        greenlets = [greenlet for lane in self.lanes.values() for greenlet in lane.greenlets()]
        for lane in self.lanes.values():
            lane.wake()
        gevent.joinall(greenlets, timeout=timeout)
        if not all(greenlet.dead for greenlet in greenlets):
            logger.error("domain-event lanes: %s event(s) not delivered", self.backlog())
            gevent.killall(greenlets, block=False)

    def summary(self) -> list[str]:
        return [lane.summary() for lane in self.lanes.values()]


_LANES: Lanes | None = None


def start_lanes() -> Lanes:
    """Deliver this process's hub-published events through lanes (the event process)."""
    global _LANES  # noqa: PLW0603  (one set of lanes per process)
    if _LANES is None:
        _LANES = Lanes()
    return _LANES


def lanes() -> Lanes | None:
    """Return this process's lanes, None when it publishes inline."""
    return _LANES


def stop_lanes(*, timeout: float = 30.0) -> list[str]:
    """Drain and stop the lanes; return their summaries (one line each)."""
    global _LANES
    current, _LANES = _LANES, None
    if current is None:
        return []
    current.stop(timeout=timeout)
    # What the handlers queued for batched sending (apps.core.batched_tasks) leaves now.
    from apps.core import batched_tasks

    batched_tasks.flush()
    return current.summary()


_NATIVE_LOCAL: Any = None


def _native_local() -> Any:
    """Return a per-OS-thread namespace (monkey-patching makes threading.local per greenlet)."""
    global _NATIVE_LOCAL  # noqa: PLW0603  (created once, lazily: gevent may be absent)
    if _NATIVE_LOCAL is None:
        from gevent import monkey

        _NATIVE_LOCAL = monkey.get_original("threading", "local")()
    return _NATIVE_LOCAL


def _on_gevent_hub() -> bool:
    try:
        from gevent import monkey
    except ImportError:
        return False
    if not monkey.is_module_patched("threading"):
        return False
    return not getattr(_native_local(), "in_pool", False)


def publish_on_commit(events: list[CallEvent]) -> None:
    """Deliver events once the current transaction commits (nothing if it rolls back)."""
    if events:
        transaction.on_commit(lambda: publish_all(events))
