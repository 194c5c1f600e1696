"""Telephony domain events: what happened to calls, endpoints and commands, for other apps.

Other apps subscribe in their ``AppConfig.ready``::

    from apps.telephony import domain_events

    domain_events.subscribe("call.parked", on_call_parked)

Telephony services publish after their transaction commits, so a handler never sees a fact that
was rolled back. A handler that raises is logged and does not stop the others.

Where handlers run:

- in the event process (it calls ``start_lanes``), each subscriber's *lane* (by default its app:
  "routing", "console"; ``subscribe(..., lane=...)`` names another) is an ordered queue. Events
  reach a lane in commit order and its handlers in that order. One native thread serves the
  lanes, urgent ones first, the others in turn, an event of each (see ``Lanes``): a lane's
  backlog does not stand in front of another lane's events, so the console's screen-pops (an
  urgent lane) do not queue behind routing's database work. A lane's queue is bounded: when
  full, the publisher waits for room (nothing is dropped; new events then reach every lane only
  as fast as the full one drains) and the lane is logged, as is a large backlog;
- in another gevent process (the telephony worker), synchronously in a native thread of gevent's
  threadpool, every subscriber in turn, while the publishing greenlet waits cooperatively;
- elsewhere (web, tests), synchronously in the publisher's thread.

Native threads, not the hub: handlers may use ``async_to_sync`` (channel-layer pushes), whose
event loop would otherwise be "running" on the hub's OS thread while it waits, making Django
refuse every other greenlet's database calls (SynchronousOnlyOperation) and a second concurrent
``async_to_sync`` fail. Keep handlers quick all the same (enqueue a task, make a small write):
a lane is as fast as its slowest handler.
"""

from __future__ import annotations

import itertools
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
    - call.hungup: hangup_cause (of the leg; the call's when ``call_ended`` is true), call_ended
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
# Events taken from each lane per round (one round trip between the hub and the thread): a
# lane's new event waits at most for the round in progress.
LANE_SLICE: Final = 5
URGENT_SLICE: Final = 50


class Subscription(NamedTuple):
    handler: Handler
    lane: str
    urgent: bool = False


_subscribers: dict[str, list[Subscription]] = defaultdict(list)


def lane_of(handler: Handler) -> str:
    """Return the lane a handler gets by default: its app ("routing" for apps.routing.*)."""
    module = getattr(handler, "__module__", None) or ""
    parts = module.split(".")
    if len(parts) > 1 and parts[0] == "apps":
        return parts[1]
    return module or "default"


def subscribe(
    kind: str, handler: Handler, *, lane: str | None = None, urgent: bool = False
) -> None:
    """Call ``handler(event)`` for every published event of this kind ("*" for every kind).

    ``lane`` names the ordered queue the handler is called from in the event process (default:
    its app, see ``lane_of``); give time-critical handlers a lane of their own, ``urgent`` (served
    before the others whenever it has events; keep its handlers few and quick).
    """
    if kind != "*" and kind not in KINDS:
        raise ValueError(f"Unknown telephony event kind: {kind}")
    if all(subscription.handler != handler for subscription in _subscribers[kind]):
        _subscribers[kind].append(Subscription(handler, lane or lane_of(handler), urgent))


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


class Lane:
    """One subscriber's ordered queue (events with the handlers of this lane to call)."""

    def __init__(
        self,
        name: str,
        *,
        max_pending: int = LANE_MAX_PENDING,
        warn_backlog: int = LANE_WARN_BACKLOG,
    ) -> None:
        import gevent.event

        self.name = name
        self.max_pending = max_pending
        self.warn_backlog = warn_backlog
        self.stats = LaneStats()
        self.queue: deque[tuple[float, CallEvent, tuple[Handler, ...]]] = deque()
        self.in_flight = 0
        self.urgent = False
        self._room = gevent.event.Event()
        self._room.set()
        self._warned_at = 0.0

    @property
    def backlog(self) -> int:
        """Return how many events wait (not counting those being delivered)."""
        return len(self.queue)

    @property
    def is_full(self) -> bool:
        return len(self.queue) >= self.max_pending

    @property
    def is_idle(self) -> bool:
        return not self.queue and not self.in_flight

    def put(self, items: list[tuple[CallEvent, tuple[Handler, ...]]]) -> None:
        """Queue events; waits (cooperatively) while the lane is full."""
        for event, handlers in items:
            while len(self.queue) >= self.max_pending:
                self.stats.full_waits += 1
                self._warn(f"is full ({len(self.queue)} events): the publisher waits")
                self._room.clear()
                self._room.wait(1.0)
            self.queue.append((time.monotonic(), event, handlers))
        self.stats.queued += len(items)
        backlog = len(self.queue)
        self.stats.max_backlog = max(self.stats.max_backlog, backlog)
        if backlog >= self.warn_backlog:
            self._warn(f"has {backlog} events waiting: its subscriber is slower than the events")

    def take(self, count: int) -> list[tuple[float, CallEvent, tuple[Handler, ...]]]:
        """Take the next ``count`` events at most (delivered by ``Lanes``)."""
        taken = [self.queue.popleft() for _ in range(min(len(self.queue), count))]
        self.in_flight += len(taken)
        self._room.set()
        return taken

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
    """The lanes of one process (one per subscribers' lane name, created on first use).

    One greenlet hands rounds to one native thread. While an urgent lane has events, a round
    takes up to ``URGENT_SLICE`` from each urgent lane only; otherwise up to ``LANE_SLICE`` from
    every lane that has some. The thread calls a round's events interleaved (one event of each
    lane in turn). So an urgent event waits at most for the round in progress, never for other
    lanes' backlog, and among the others a backlog delays another lane's event by one event of
    each lane. One thread, not one per lane: shared client pools (Celery's producer pool) hold
    gevent sockets bound to the OS thread that opened them ("Cannot switch to a different
    thread" when another thread uses them).
    """

    def __init__(
        self, *, max_pending: int = LANE_MAX_PENDING, warn_backlog: int = LANE_WARN_BACKLOG
    ) -> None:
        import gevent.event

        self.max_pending = max_pending
        self.warn_backlog = warn_backlog
        self.lanes: dict[str, Lane] = {}
        self._wake = gevent.event.Event()
        self._idle = gevent.event.Event()
        self._idle.set()
        self._stopping = False
        self._pool: Any = None
        self._greenlet: Any = None

    def submit(self, events: list[CallEvent]) -> None:
        """Queue each event to the lanes of its subscribers, in order within every lane."""
        per_lane: dict[str, list[tuple[CallEvent, tuple[Handler, ...]]]] = {}
        urgent: set[str] = set()
        for event in events:
            handlers: dict[str, list[Handler]] = {}
            for subscription in _subscriptions(event.kind):
                handlers.setdefault(subscription.lane, []).append(subscription.handler)
                if subscription.urgent:
                    urgent.add(subscription.lane)
            for name, lane_handlers in handlers.items():
                per_lane.setdefault(name, []).append((event, tuple(lane_handlers)))
        if not per_lane:
            return
        self._start()
        lanes = [(self.lane(name), items) for name, items in per_lane.items()]
        for lane, _ in lanes:
            lane.urgent = lane.urgent or lane.name in urgent
        # Lanes with room first: a full lane makes this wait, the others need not wait with it.
        lanes.sort(key=lambda pair: pair[0].is_full)
        self._idle.clear()
        for lane, items in lanes:
            lane.put(items)
            self._idle.clear()
            self._wake.set()

    def lane(self, name: str) -> Lane:
        """Return the lane of that name (created on first use)."""
        lane = self.lanes.get(name)
        if lane is None:
            lane = self.lanes[name] = Lane(
                name, max_pending=self.max_pending, warn_backlog=self.warn_backlog
            )
        return lane

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
        """Deliver what is queued (up to ``timeout``), then stop the greenlet and the thread."""
        self._stopping = True
        self._wake.set()
        if self._greenlet is not None:
            self._greenlet.join(timeout=timeout)
            if not self._greenlet.dead:
                logger.error("domain-event lanes: %s event(s) not delivered", self.backlog())
                self._greenlet.kill()
        if self._pool is not None:
            self._pool.kill()

    def summary(self) -> list[str]:
        return [lane.summary() for lane in self.lanes.values()]

    def _start(self) -> None:
        if self._greenlet is None:
            import gevent
            from gevent.threadpool import ThreadPool

            self._pool = ThreadPool(1)
            self._greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        while True:
            ready = [lane for lane in self.lanes.values() if lane.queue]
            if any(lane.urgent for lane in ready):
                round_ = [(lane, lane.take(URGENT_SLICE)) for lane in ready if lane.urgent]
            else:
                round_ = [(lane, lane.take(LANE_SLICE)) for lane in ready]
            if not round_:
                self._idle.set()
                if self._stopping:
                    return
                self._wake.clear()
                self._wake.wait()
                continue
            try:
                # Cooperative wait: the hub (and publishers) run while the thread works.
                self._pool.apply(_deliver_round, (round_,))
            except Exception:  # _deliver_round catches handlers' errors; this is the pool
                logger.exception("domain-event lanes: delivering a round failed")
            finally:
                for lane, taken in round_:
                    lane.in_flight -= len(taken)


def _deliver_round(
    round_: list[tuple[Lane, list[tuple[float, CallEvent, tuple[Handler, ...]]]]],
) -> None:
    """Call each lane's events in order, one event of each lane in turn (in the native thread)."""
    _enter_native_thread()
    for turn in itertools.zip_longest(*(taken for _, taken in round_)):
        for (lane, _), item in zip(round_, turn, strict=True):
            if item is None:
                continue
            queued_at, event, handlers = item
            stats = lane.stats
            for handler in handlers:
                if not _call(handler, event):
                    stats.failed += 1
            stats.delivered += 1
            if len(stats.lags) < stats.max_lag_samples:
                stats.lags.append(time.monotonic() - queued_at)


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
