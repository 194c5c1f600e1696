"""The telephony event process: FreeSWITCH events in, Call/CallLeg/CDR rows and domain events out.

Per node:

- the ESL connection's reader greenlet decodes events (json: faster than plain for events that
  carry every channel variable) and hands them to ``NodeIngest._on_event``, which only appends to
  a bounded in-memory buffer: the socket is never held up by the database (FreeSWITCH queues at
  most 100,000 events per listener and drops a listener that loses 500);
- the writer greenlet takes batches (up to ``batch_size`` events or ``batch_wait`` seconds after
  the first one), applies each in one transaction (``listener.process_batch``) with the node's
  live calls and legs kept in a ``LegCache`` between batches; a failed batch is retried (the
  cache dropped), never lost;
- the announcer greenlet takes each committed batch in commit order: hold music for callers
  just parked, browser pushes handed to the ``PushSender`` (its own native thread), domain
  events queued to their subscribers' lanes (one ordered queue and native thread per
  subscribing app, see ``domain_events``), so slow subscribers never delay the next commit, nor
  the other subscribers;
- the connection's supervisor reconnects; after every (re)connect a snapshot of FreeSWITCH
  (``show channels``/``show calls``/``show registrations``) is framed in the buffer by a start
  marker (queued before the commands are sent) and an end marker (queued when the answers are
  in), so the writer reconciles in stream order: channels we did not know are adopted at the
  start marker, legs open at the start, absent from the snapshot and not closed by an event
  before the end marker ended while we were away (LOST_WHILE_DISCONNECTED).

If the buffer ever fills (database down for long), new events are dropped and counted, and a
fresh snapshot is taken once the writer has caught up: state converges without the lost events.

Run it with ``manage.py telephony_events``; it runs under gevent (patched before Django loads).
"""

from __future__ import annotations

import gc
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import gevent
import gevent.event
from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction

from apps.telephony import domain_events, listener, node_status, services
from apps.telephony.esl import (
    CommandError,
    ConnectionConfig,
    ESLConnection,
    ESLError,
    Event,
    FreeSwitchClient,
    parse_json_event,
)
from apps.telephony.ledger import Ledger, LegCache
from apps.telephony.models import EndpointRegistration, FreeswitchNode
from apps.telephony.realtime import PushSender

logger = logging.getLogger(__name__)

# Channels adopted in a resync get their variables (cc_*, agent) from uuid_dump, up to this many.
MAX_DUMPS_PER_RESYNC = 200
STATUS_REFRESH_SECONDS = 30.0
# Sequence given to facts learnt from a snapshot: newer than "never", older than any real event.
SNAPSHOT_SEQUENCE = "1"

_CALLSTATE_ANSWER = {
    "ACTIVE": "answered",
    "HELD": "answered",
    "EARLY": "early",
    "RINGING": "ringing",
    "DOWN": "ringing",
    "RING_WAIT": "ringing",
}


def hold_music() -> str:
    """Return what a parked caller hears (settings.FREESWITCH_HOLD_MUSIC)."""
    return settings.FREESWITCH_HOLD_MUSIC


@dataclass(eq=False)
class Snapshot:
    """What FreeSWITCH had right after a (re)connect, and the legs it no longer had.

    Two markers frame it in the buffer: ``SnapshotStart`` goes in *before* the ``show``
    commands are sent and ``SnapshotEnd`` once their answers are in. At the start marker the
    writer adopts the channels it did not know; at the end marker it closes the legs that were
    open at the start, are absent from the snapshot, and still got no hangup event meanwhile.
    """

    taken_at: datetime | None = None
    channels: list[dict[str, str]] = field(default_factory=list)
    calls: list[dict[str, str]] = field(default_factory=list)
    registrations: list[dict[str, str]] | None = None
    failed: bool = False
    ready: gevent.event.Event = field(default_factory=gevent.event.Event)
    candidates: set[str] = field(default_factory=set)


@dataclass(frozen=True, eq=False)
class SnapshotStart:
    snapshot: Snapshot


@dataclass(frozen=True, eq=False)
class SnapshotEnd:
    snapshot: Snapshot


SNAPSHOT_WAIT_SECONDS = 60.0

# Group commit: the writer takes what is buffered when it is free, waiting at most a few
# milliseconds for more. At low traffic an event is written at once (screen-pops wait for
# its commit); under a burst events pile up while a batch is written, so batches grow on
# their own, and big ones amortise each transaction's round trips (bench/event_ingest.py:
# 500 calls/s keep p99 lag under 1 s with 2,000/5 ms, not with 500/50 ms).
DEFAULT_BATCH_SIZE = 2000
DEFAULT_BATCH_WAIT = 0.005


# The collector's default (a pass every 700 new container objects, a full pass whenever the
# survivors grew by a quarter) runs constantly here: every event allocates dozens of objects
# and tens of thousands stay alive (the leg cache, a buffered burst), so full passes over
# them cost seconds per minute at 6,000 events/s (bench/event_ingest.py prints the pauses).
GC_THRESHOLDS = (50_000, 20, 20)


def tune_gc() -> None:
    """Make garbage collection rare and cheap for the event process (once, after start-up).

    What is loaded by then (Django, apps, settings) lives as long as the process: ``freeze``
    moves it out of the collector's way. Reference counting still frees nearly everything the
    writer drops; the raised thresholds only space out the searches for cycles.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


@dataclass
class IngestStats:
    """Counters and lag samples of one node's ingest (cumulative)."""

    received: int = 0
    ingested: int = 0
    dropped: int = 0
    batches: int = 0
    failed_batches: int = 0
    skipped: int = 0
    resyncs: int = 0
    closed_by_resync: int = 0
    adopted_by_resync: int = 0
    lags: list[float] = field(default_factory=list)
    publish_lags: list[float] = field(default_factory=list)
    max_lag_samples: int = 200_000

    def record_publish_lag(self, seconds: float) -> None:
        if len(self.publish_lags) < self.max_lag_samples:
            self.publish_lags.append(seconds)

    def record_lags(self, arrivals: list[float], committed: float) -> None:
        if len(self.lags) >= self.max_lag_samples:
            return
        self.lags.extend(committed - arrival for arrival in arrivals)

    def lag_percentile(self, fraction: float) -> float | None:
        """Return a lag percentile in seconds (``fraction`` in 0..1), or None without data."""
        return domain_events.percentile(self.lags, fraction)


class NodeIngest:
    """Reader -> bounded buffer -> batching writer for one FreeSWITCH node."""

    def __init__(
        self,
        node: FreeswitchNode,
        *,
        buffer_size: int = 50_000,
        batch_size: int = DEFAULT_BATCH_SIZE,
        batch_wait: float = DEFAULT_BATCH_WAIT,
        connection_config: ConnectionConfig | None = None,
        status_interval: float = STATUS_REFRESH_SECONDS,
        push_sender: PushSender | None = None,
    ) -> None:
        self.node = node
        self._owns_push_sender = push_sender is None
        self.push_sender = push_sender or PushSender()
        self.status_interval = status_interval
        self.buffer_size = buffer_size
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self.stats = IngestStats()
        self.cache = LegCache()
        self._buffer: deque[tuple[float, Any]] = deque()
        self._wake = gevent.event.Event()
        self._idle = gevent.event.Event()
        self._idle.set()
        self._stopping = False
        self._stop_requested = gevent.event.Event()
        self._overflowed = False
        self._writer: gevent.Greenlet | None = None
        self._status: gevent.Greenlet | None = None
        self._announcer: gevent.Greenlet | None = None
        self._announcements: deque[tuple[float, Ledger]] = deque()
        self._announce_wake = gevent.event.Event()
        self._announcing = False
        self._writer_done = False
        self.connection = ESLConnection(
            connection_config
            or ConnectionConfig(
                host=node.host,
                port=node.port,
                password=node.password,
                # JSON: our events carry every channel variable (7-8 KB) and json.loads decodes
                # them about twice as fast as the plain decoder (bench/event_ingest.py).
                event_format="json",
            ),
            events=listener.SUBSCRIBED_EVENTS,
            on_event=self._on_event,
            on_up=self._on_up,
            on_down=self._on_down,
            on_connected=self._on_connected,
        )
        self.client = FreeSwitchClient(self.connection, api_timeout=30.0)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the writer and connect (reconnecting until ``stop``)."""
        if self._owns_push_sender:
            self.push_sender.start()
        domain_events.start_lanes()
        self._writer = gevent.spawn(self._write_loop)
        self._announcer = gevent.spawn(self._announce_loop)
        self._status = gevent.spawn(self._status_loop)
        self.connection.start()

    def stop(self, *, timeout: float = 30.0) -> None:
        """Stop reading, write what is buffered, close the connection."""
        self._stopping = True
        self._stop_requested.set()
        self.connection.close()
        self._wake.set()
        if self._writer is not None:
            self._writer.join(timeout=timeout)
            if not self._writer.dead:
                logger.error(
                    "node %s: %d buffered event(s) not written before shutdown",
                    self.node.name,
                    self.pending,
                )
                self._writer.kill()
        self._writer_done = True
        self._announce_wake.set()
        if self._announcer is not None:
            self._announcer.join(timeout=timeout)
            self._announcer.kill()
        lanes = domain_events.lanes()
        if lanes is not None and not lanes.wait_idle(timeout):
            logger.error("node %s: domain events still queued at shutdown", self.node.name)
        if self._status is not None:
            self._status.kill()
        if self._owns_push_sender:
            self.push_sender.stop()
        node_status.record_node_status(self.node.name, "down", "event process stopped")

    @property
    def pending(self) -> int:
        """Return how many events and snapshots wait in the buffer."""
        return len(self._buffer)

    @property
    def is_idle(self) -> bool:
        """Tell whether every received event is written and announced (subscribers included)."""
        lanes = domain_events.lanes()
        return (
            self._idle.is_set()
            and not self._announcements
            and not self._announcing
            and (lanes is None or lanes.is_idle)
        )

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every received event is written and announced (False on timeout)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.is_idle:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            gevent.sleep(0.01)
        return True

    # --------------------------------------------------------------- announcer

    def announce(self, ledger: Ledger) -> None:
        """Queue a committed batch's announcements (hold music, pushes, domain events).

        They run in their own greenlet, in commit order: subscribers' handlers (other apps'
        queries and tasks) then never hold up the next batch's commit. The greenlet only queues
        domain events to the subscribers' lanes; it waits for them only when a lane is full.
        """
        self._announcements.append((time.monotonic(), ledger))
        self._announce_wake.set()

    def _announce_loop(self) -> None:
        warned_at = 0.0
        while True:
            if not self._announcements:
                if self._writer_done:
                    return
                self._announce_wake.clear()
                self._announce_wake.wait(1.0)
                continue
            queued_at, ledger = self._announcements.popleft()
            self._announcing = True
            try:
                ledger.after_commit(self.play_hold_music, self.push_sender)
            except Exception:  # one announcement's failure must not stop the next
                logger.exception("node %s: announcing a batch failed", self.node.name)
            finally:
                self._announcing = False
            self.stats.record_publish_lag(time.monotonic() - queued_at)
            backlog = len(self._announcements)
            if backlog > 100 and time.monotonic() - warned_at > 10:
                warned_at = time.monotonic()
                lanes = domain_events.lanes()
                logger.warning(
                    "node %s: %d committed batches wait to be announced (hold music, or a full "
                    "domain-event lane; lanes' backlog: %s)",
                    self.node.name,
                    backlog,
                    lanes.backlog() if lanes is not None else {},
                )

    # ------------------------------------------------------------- reader side

    def _on_event(self, event: Event) -> None:
        # Runs in the connection's reader greenlet: no I/O here, ever.
        if not listener.is_handled(event):
            return
        self.stats.received += 1
        if len(self._buffer) >= self.buffer_size:
            self.stats.dropped += 1
            if not self._overflowed:
                logger.critical(
                    "node %s: event buffer full (%d); dropping events until the writer "
                    "catches up, then resynchronising",
                    self.node.name,
                    self.buffer_size,
                )
            self._overflowed = True
            return
        self._buffer.append((time.monotonic(), event))
        self._idle.clear()
        self._wake.set()

    def _on_up(self) -> None:
        node_status.record_node_status(self.node.name, "up", "ESL session up")

    def _on_down(self, reason: str) -> None:
        node_status.record_node_status(self.node.name, "down", reason)

    def _on_connected(self, connection: ESLConnection) -> None:
        # Runs right after the subscription: later events are queued behind the start marker.
        self.request_snapshot()

    def _append(self, item: Any) -> None:
        self._buffer.append((time.monotonic(), item))
        self._idle.clear()
        self._wake.set()

    def request_snapshot(self) -> Snapshot:
        """Queue a resync: the start marker now, the end marker once FreeSWITCH answered."""
        snapshot = Snapshot()
        self._append(SnapshotStart(snapshot))

        def fetch() -> None:
            try:
                self.fill_snapshot(snapshot)
            except (ESLError, ValueError) as error:
                logger.error("node %s: resync snapshot failed: %s", self.node.name, error)
                snapshot.failed = True
            finally:
                snapshot.ready.set()
                self._append(SnapshotEnd(snapshot))

        gevent.spawn(fetch)
        return snapshot

    def fill_snapshot(self, snapshot: Snapshot) -> Snapshot:
        """Ask FreeSWITCH for its live channels, bridged calls and registrations."""
        snapshot.taken_at = datetime.now(tz=UTC)
        snapshot.channels = self.client.show_channels()
        snapshot.calls = self.client.show_calls()
        try:
            snapshot.registrations = self.client.registrations()
        except CommandError:
            snapshot.registrations = None
        snapshot.ready.set()
        return snapshot

    # ------------------------------------------------------------- writer side

    def _next_batch(self) -> tuple[list[float], list[Event]] | SnapshotStart | SnapshotEnd | None:
        buffer = self._buffer
        if not buffer:
            return None
        first_arrival, first = buffer[0]
        if isinstance(first, SnapshotStart | SnapshotEnd):
            buffer.popleft()
            return first
        if len(buffer) < self.batch_size and not self._stopping:
            remaining = self.batch_wait - (time.monotonic() - first_arrival)
            if remaining > 0:
                # Interrupted by stop(): a shutdown does not wait for a batch to fill.
                self._stop_requested.wait(remaining)
        arrivals: list[float] = []
        batch: list[Event] = []
        while buffer and len(batch) < self.batch_size:
            arrival, item = buffer[0]
            if not isinstance(item, Event):
                break
            buffer.popleft()
            arrivals.append(arrival)
            batch.append(item)
        return arrivals, batch

    def _write_loop(self) -> None:
        while True:
            item = self._next_batch()
            if item is None:
                if self._overflowed and self.connection.is_up:
                    self._overflowed = False
                    logger.warning(
                        "node %s: resynchronising after dropping events (%d so far)",
                        self.node.name,
                        self.stats.dropped,
                    )
                    self.request_snapshot()
                    continue
                self._idle.set()
                if self._stopping:
                    return
                self._wake.clear()
                self._wake.wait(1.0)
                continue
            if isinstance(item, SnapshotStart):
                snapshot = item.snapshot
                snapshot.ready.wait(SNAPSHOT_WAIT_SECONDS)
                if snapshot.failed or snapshot.taken_at is None:
                    self._overflowed = True  # try again once idle
                    continue
                self._retrying(lambda snapshot=snapshot: self.apply_snapshot_start(snapshot))
            elif isinstance(item, SnapshotEnd):
                snapshot = item.snapshot
                if not snapshot.failed and snapshot.taken_at is not None:
                    self._retrying(lambda snapshot=snapshot: self.apply_snapshot_end(snapshot))
            else:
                arrivals, batch = item
                self._retrying(lambda batch=batch: self._write_batch(batch))
                self.stats.ingested += len(batch)
                self.stats.batches += 1
                self.stats.record_lags(arrivals, time.monotonic())

    def play_hold_music(self, ledger: Ledger) -> None:
        """Start hold music on callers just parked, before anyone hears they are waiting.

        ``park`` supplies no media; a broadcast into the parked channel does, and it is queued
        before ``call.parked`` is published, so the router cannot bridge the caller first.
        """
        music = hold_music()
        targets = [
            event.leg_uuid
            for event in ledger.events
            if event.kind == domain_events.CALL_PARKED
            and event.leg_role == "caller"
            and event.leg_uuid
        ]
        if not targets or not music or not self.connection.is_up:
            return

        def broadcast(uuid: str) -> None:
            try:
                self.client.uuid_broadcast(uuid=uuid, path=music)
            except (ESLError, ValueError) as error:
                logger.info("node %s: no hold music for %s: %s", self.node.name, uuid, error)

        gevent.joinall([gevent.spawn(broadcast, uuid) for uuid in targets], timeout=5.0)

    def _retrying(self, work: Any) -> None:
        """Run a write until the database takes it (a batch is never dropped for an outage)."""
        delay = 0.2
        while True:
            try:
                work()
            except DatabaseError as error:
                # The rolled-back batch may have changed cached rows: reload from the database.
                self.cache.clear()
                self.stats.failed_batches += 1
                logger.error(
                    "node %s: writing a batch failed (%s); retrying in %.1f s",
                    self.node.name,
                    error,
                    delay,
                )
                close_old_connections()
                gevent.sleep(delay)
                delay = min(delay * 2, 10.0)
            except Exception:
                self.cache.clear()
                raise
            else:
                self.cache.forget_ended(time.monotonic())
                return

    def _write_batch(self, batch: list[Event]) -> None:
        try:
            listener.process_batch(batch, node=self.node, announce=self.announce, cache=self.cache)
        except DatabaseError:
            raise
        except Exception:
            # A bug met by one event must not stop the node: write the others one by one,
            # skip the culprit, and resynchronise what it would have told us.
            logger.exception("node %s: a batch failed; isolating the event", self.node.name)
            self.cache.clear()
            for event in batch:
                try:
                    listener.process_batch(
                        [event], node=self.node, announce=self.announce, cache=self.cache
                    )
                except DatabaseError:
                    raise
                except Exception:
                    self.cache.clear()
                    self.stats.skipped += 1
                    logger.exception("node %s: event skipped: %r", self.node.name, event)
            self._overflowed = True

    def _status_loop(self) -> None:
        # Refresh the status before it expires; a node that never came up is reported down.
        while True:
            gevent.sleep(self.status_interval)
            try:
                if self.connection.is_up:
                    node_status.record_node_status(self.node.name, "up", "ESL session up")
                else:
                    detail = self.connection.stats.last_failure or "not connected"
                    node_status.record_node_status(self.node.name, "down", detail)
            except Exception:  # a status refresh must never stop the process
                logger.exception("node %s: status refresh failed", self.node.name)

    # ------------------------------------------------------------------- resync

    def apply_snapshot(self, snapshot: Snapshot) -> services.ResyncResult:
        """Reconcile our records with a filled snapshot at once (start and end together)."""
        adopted = self.apply_snapshot_start(snapshot)
        closed = self.apply_snapshot_end(snapshot)
        return services.ResyncResult(closed=closed, adopted=adopted)

    def apply_snapshot_start(self, snapshot: Snapshot) -> list[str]:
        """Adopt the channels FreeSWITCH has and we do not; note the legs it no longer has."""
        at = snapshot.taken_at or datetime.now(tz=UTC)
        with transaction.atomic():
            ledger = Ledger(self.node, self.cache)
            services.ledger_load_open(ledger)
            live = {row["uuid"]: row for row in snapshot.channels if row.get("uuid")}
            ledger.prefetch(uuids=list(live))
            snapshot.candidates = {
                leg.uuid
                for leg in ledger.legs.values()
                if leg.ended_at is None and leg.uuid not in live
            }
            unknown = [row for uuid, row in live.items() if ledger.leg(uuid) is None]
            # Originators first, so the legs they created join their calls.
            unknown.sort(
                key=lambda row: (
                    row.get("call_uuid") not in ("", row["uuid"]),
                    row.get("created_epoch", ""),
                )
            )
            adoption = [
                self._adoption_event(row, at, dump=index < MAX_DUMPS_PER_RESYNC)
                for index, row in enumerate(unknown)
            ]
            listener.apply_events(adoption, node=self.node, ledger=ledger)
            self._apply_bridges(ledger, snapshot, at)
            ledger.flush()
            if snapshot.registrations is not None:
                self._apply_registrations(ledger, snapshot, at)
                ledger.flush()
            transaction.on_commit(lambda: self.announce(ledger))
        self.stats.resyncs += 1
        self.stats.adopted_by_resync += len(unknown)
        if unknown:
            logger.warning(
                "node %s: resync adopted %d channel(s) that started while away",
                self.node.name,
                len(unknown),
            )
        return [row["uuid"] for row in unknown]

    def apply_snapshot_end(self, snapshot: Snapshot) -> list[str]:
        """Close the legs the snapshot lacked that no hangup event closed meanwhile."""
        if not snapshot.candidates:
            return []
        at = snapshot.taken_at or datetime.now(tz=UTC)
        with transaction.atomic():
            ledger = Ledger(self.node, self.cache)
            ledger.prefetch(uuids=snapshot.candidates)
            closed = services.node_resync_close_missing(
                ledger,
                live_uuids={uuid for uuid in ledger.legs if uuid not in snapshot.candidates},
                at=at,
            )
            ledger.flush()
            transaction.on_commit(lambda: self.announce(ledger))
        self.stats.closed_by_resync += len(closed)
        if closed:
            logger.warning(
                "node %s: resync closed %d leg(s) that ended while away",
                self.node.name,
                len(closed),
            )
        return closed

    def _adoption_event(self, row: dict[str, str], at: datetime, *, dump: bool) -> Event:
        if dump:
            try:
                headers = self.client.uuid_dump(uuid=row["uuid"])
            except (ESLError, ValueError):
                headers = None
            if headers:
                event = parse_json_event(_json_bytes(headers))
                event.headers["Event-Name"] = "CHANNEL_DATA"
                # Older than any real event: those queued behind the marker still apply.
                event.headers["Event-Sequence"] = SNAPSHOT_SEQUENCE
                if row.get("application") == "park":
                    event.headers["variable_current_application"] = "park"
                return event
        created = row.get("created_epoch", "")
        headers = {
            "Event-Name": "CHANNEL_DATA",
            "Event-Sequence": SNAPSHOT_SEQUENCE,
            "Event-Date-Timestamp": str(int(at.timestamp() * 1_000_000)),
            "Unique-ID": row["uuid"],
            "Call-Direction": row.get("direction", "inbound"),
            "Channel-Name": row.get("name", ""),
            "Channel-Call-UUID": row.get("call_uuid", ""),
            "Caller-Caller-ID-Number": row.get("cid_num", ""),
            "Caller-Caller-ID-Name": row.get("cid_name", ""),
            "Caller-Destination-Number": row.get("dest", ""),
            "Caller-Channel-Created-Time": (
                str(int(created) * 1_000_000) if created.isdigit() else "0"
            ),
            "Answer-State": _CALLSTATE_ANSWER.get(row.get("callstate", ""), "ringing"),
            "Channel-Call-State": row.get("callstate", ""),
            "variable_current_application": row.get("application", ""),
        }
        return Event(headers, None, "json")

    def _apply_bridges(self, ledger: Ledger, snapshot: Snapshot, at: datetime) -> None:
        for row in snapshot.calls:
            a_uuid, b_uuid = row.get("uuid"), row.get("b_uuid")
            leg = ledger.leg(a_uuid)
            if leg is None or not b_uuid or leg.ended_at is not None:
                continue
            if leg.bridged_to != b_uuid:
                services.leg_bridge(
                    ledger, leg, other_uuid=b_uuid, at=at, sequence=int(SNAPSHOT_SEQUENCE)
                )

    def _apply_registrations(self, ledger: Ledger, snapshot: Snapshot, at: datetime) -> None:
        live = {
            (row.get("reg_user", ""), row.get("realm", "")): row
            for row in snapshot.registrations or []
        }
        known = EndpointRegistration.objects.filter(node=self.node, is_registered=True)
        ledger.prefetch(
            uuids=(),
            registration_users=[*live, *((r.username, r.realm) for r in known)],
            extensions=[user for user, _ in live],
        )
        for (username, realm), row in live.items():
            registration = ledger.registration(username, realm)
            if registration is not None and registration.is_registered:
                continue
            expires = row.get("expires", "")
            seconds = int(expires) - int(at.timestamp()) if expires.isdigit() else None
            services.endpoint_register(
                ledger,
                username=username,
                realm=realm,
                registered=True,
                contact=row.get("url", ""),
                network_ip=row.get("network_ip", ""),
                user_agent="",
                expires_seconds=seconds if seconds and seconds > 0 else None,
                at=at,
                sequence=0,
                core_uuid="",
            )
        for registration in known:
            if (registration.username, registration.realm) not in live:
                services.endpoint_register(
                    ledger,
                    username=registration.username,
                    realm=registration.realm,
                    registered=False,
                    contact=registration.contact,
                    network_ip=registration.network_ip,
                    user_agent=registration.user_agent,
                    expires_seconds=None,
                    at=at,
                    sequence=0,
                    core_uuid="",
                )


def _json_bytes(headers: dict[str, str]) -> bytes:
    import json

    return json.dumps(headers).encode()


class EventProcess:
    """Every enabled node's ingest in one process, with a clean shutdown."""

    def __init__(self, nodes: list[FreeswitchNode], **ingest_options: Any) -> None:
        self.ingests = [NodeIngest(node, **ingest_options) for node in nodes]
        self._stop = gevent.event.Event()

    def run(self) -> None:
        """Run until ``request_stop`` (SIGTERM/SIGINT), then drain and close."""
        for ingest in self.ingests:
            ingest.start()
            logger.info("event process: listening to node %s", ingest.node.name)
        self._stop.wait()
        logger.info("event process: stopping; draining buffers")
        gevent.joinall([gevent.spawn(ingest.stop) for ingest in self.ingests])
        for line in domain_events.stop_lanes():
            logger.info("event process: %s", line)
        logger.info("event process: stopped")

    def request_stop(self) -> None:
        """Ask the process to stop (safe from a signal handler)."""
        self._stop.set()


def lag_summary(stats: IngestStats) -> str:
    """Return a one-line summary of an ingest's counters and lag percentiles."""
    p50 = stats.lag_percentile(0.50)
    p99 = stats.lag_percentile(0.99)
    return (
        f"received={stats.received} ingested={stats.ingested} dropped={stats.dropped} "
        f"batches={stats.batches} resyncs={stats.resyncs} "
        f"lag_p50={p50 if p50 is None else round(p50 * 1000, 1)}ms "
        f"lag_p99={p99 if p99 is None else round(p99 * 1000, 1)}ms"
    )


__all__ = ["EventProcess", "IngestStats", "NodeIngest", "Snapshot", "lag_summary", "tune_gc"]
