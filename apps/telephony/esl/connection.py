"""Inbound ESL connection on gevent: auth, api/bgapi, subscriptions, reconnect, watchdog.

Why not subclass greenswitch's ``InboundESL``: its parsing is woven into the receive loop
(``readline`` + ``ESLEvent``, which url-decodes the whole body before splitting lines), its
``send`` waits forever (no timeout; a reply that never comes blocks the caller and leaves the
reply FIFO out of step), its event queue is unbounded, and it neither reconnects nor
re-subscribes. Replacing all of that would leave nothing of the class but its name, so this
module uses gevent sockets directly in greenswitch's style (one reader greenlet per TCP
session, a FIFO of pending replies, ``AsyncResult`` hand-off).

Threading model: everything runs on the gevent hub of the thread that created the connection;
call it only from greenlets of that hub (a call from another thread raises ``RuntimeError``
instead of corrupting the hub). The reader greenlet never blocks on consumers: each
decoded event is handed to ``on_event`` (must return quickly) and/or ``put_nowait`` into the
caller's bounded ``event_queue``; when the queue is full the event is dropped, counted in
``stats.events_dropped`` and reported at ERROR level (at most once per ``drop_log_interval``)
so that a slow consumer can never stall the socket (FreeSWITCH would otherwise buffer and
eventually drop this listener). Size the queue for your burst: FreeSWITCH produced up to
~10,000 events/s during mass hangups in the captured load tests.

Life cycle: ``connect()`` makes one attempt and raises on failure; ``start()`` keeps trying in
the background. Once a session is up, a supervisor greenlet watches it; when it ends (EOF,
socket error, protocol error, disconnect notice, heartbeat timeout) ``on_down(reason)`` fires,
pending commands fail with ``ConnectionLost``, and the supervisor reconnects with capped
exponential backoff and jitter, logging WARNING per failure and CRITICAL from the
``critical_after``-th consecutive failure on. After every (re)connect the subscription and the
filters are re-applied, then ``on_up()`` and ``on_connected(connection)`` (the place to resync
state) run in the supervisor greenlet.

bgapi: every ``bgapi`` carries a client-chosen ``Job-UUID`` header (FreeSWITCH honours it), the
waiter is registered before the command is written, and the BACKGROUND_JOB event is matched by
``Job-UUID``, so results may arrive in any order. BACKGROUND_JOB is always part of the
subscription (and, when filters are set, ``filter Event-Name BACKGROUND_JOB`` is added so the
filters cannot hide job results); the events are passed to consumers only when the caller
subscribed to them (or to ``ALL``). HEARTBEAT is added the same way while the watchdog is on.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import random
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import gevent
import gevent.event
import gevent.lock
import gevent.socket

from .errors import (
    AuthenticationError,
    CommandTimeout,
    ConnectionLost,
    ESLError,
    MessageDecodeError,
    NotConnected,
    ProtocolError,
    error_from_reply,
    is_error_reply,
)
from .frames import DEFAULT_MAX_CONTENT_LENGTH, DEFAULT_MAX_HEADER_SIZE, FrameParser
from .messages import (
    ApiResponse,
    AuthRequest,
    CommandReply,
    DisconnectNotice,
    Event,
    LogData,
    RudeRejection,
    UnknownMessage,
    decode_frame,
)

__all__ = ["ConnectionConfig", "ConnectionStats", "ESLConnection", "EventQueue"]

logger = logging.getLogger(__name__)

_INTERNAL_EVENTS = ("BACKGROUND_JOB", "HEARTBEAT")
_UNCLAIMED_JOBS_KEPT = 64


class EventQueue(Protocol):
    """Anything with a non-blocking ``put_nowait`` that raises ``queue.Full`` when full.

    ``gevent.queue.Queue(maxsize=N)`` and ``queue.Queue(maxsize=N)`` both qualify.
    """

    def put_nowait(self, item: Event) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionConfig:
    """Settings of an inbound ESL connection; every timeout is in seconds."""

    #: The event socket password (``event_socket.conf.xml``); required, no default.
    password: str
    host: str = "127.0.0.1"
    port: int = 8021
    #: TCP connect timeout.
    connect_timeout: float = 5.0
    #: Time allowed for the ``auth/request`` greeting, the auth reply and the subscription.
    handshake_timeout: float = 5.0
    #: Default timeout of ``api`` and ``command``.
    command_timeout: float = 10.0
    #: Default timeout of ``bgapi`` (acknowledgement plus result).
    bgapi_timeout: float = 120.0
    #: Declare the node down when nothing came for this long: no HEARTBEAT (FreeSWITCH sends
    #: one every 20 s, the first up to 20 s after subscribing) and no other bytes. Received
    #: bytes count as a sign of life because under a burst the HEARTBEAT waits behind
    #: megabytes of events in FreeSWITCH's queue and the socket, while the node is plainly
    #: alive. ``None`` disables the watchdog.
    heartbeat_timeout: float | None = 45.0
    #: Event format for ``event <format> ...``: ``plain`` (fastest to decode here) or ``json``.
    event_format: str = "plain"
    #: Reconnect after a session ends; when False the supervisor stops after the first loss.
    reconnect: bool = True
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    backoff_multiplier: float = 2.0
    #: Each delay is scaled by a random factor in ``[1 - backoff_jitter, 1]``.
    backoff_jitter: float = 0.5
    #: Log CRITICAL (instead of WARNING) from this many consecutive failed attempts on.
    critical_after: int = 5
    recv_size: int = 65536
    max_header_size: int = DEFAULT_MAX_HEADER_SIZE
    max_content_length: int = DEFAULT_MAX_CONTENT_LENGTH
    #: Minimum interval between two ERROR logs about dropped events.
    drop_log_interval: float = 10.0

    def __post_init__(self) -> None:
        if self.event_format not in ("plain", "json", "xml"):
            raise ValueError(f"unsupported event format: {self.event_format!r}")
        if self.backoff_initial <= 0 or self.backoff_max < self.backoff_initial:
            raise ValueError("backoff_initial must be > 0 and <= backoff_max")
        if not 0 <= self.backoff_jitter <= 1:
            raise ValueError("backoff_jitter must be within [0, 1]")


@dataclass(slots=True)
class ConnectionStats:
    """Counters of one ``ESLConnection`` (cumulative over reconnects)."""

    connects: int = 0
    disconnects: int = 0
    failed_attempts: int = 0
    consecutive_failures: int = 0
    frames_received: int = 0
    events_received: int = 0
    events_delivered: int = 0
    events_dropped: int = 0
    decode_errors: int = 0
    protocol_errors: int = 0
    heartbeats: int = 0
    last_failure: str | None = None


class _Pending:
    __slots__ = ("abandoned", "command", "result")

    def __init__(self, command: str) -> None:
        self.command = command
        self.result: gevent.event.AsyncResult = gevent.event.AsyncResult()
        self.abandoned = False


@dataclass(eq=False)
class _Session:
    sock: gevent.socket.socket
    parser: FrameParser
    pending: deque[_Pending] = field(default_factory=deque)
    greeted: gevent.event.Event = field(default_factory=gevent.event.Event)
    dead: gevent.event.Event = field(default_factory=gevent.event.Event)
    reader: gevent.Greenlet | None = None
    up: bool = False
    reason: str = ""
    last_heartbeat: float = 0.0
    last_received: float = 0.0

    def fail(self, reason: str) -> None:
        if not self.reason:
            self.reason = reason
        self.dead.set()


def _check_line(text: str, what: str) -> str:
    if "\n" in text or "\r" in text:
        raise ValueError(f"{what} must not contain line breaks: {text!r}")
    return text


class ESLConnection:
    """Manage one inbound ESL connection to FreeSWITCH (see the module docstring)."""

    def __init__(
        self,
        config: ConnectionConfig,
        *,
        events: Iterable[str] = (),
        filters: Iterable[tuple[str, str]] = (),
        on_event: Callable[[Event], None] | None = None,
        event_queue: EventQueue | None = None,
        on_up: Callable[[], None] | None = None,
        on_down: Callable[[str], None] | None = None,
        on_connected: Callable[[ESLConnection], None] | None = None,
        on_log: Callable[[LogData], None] | None = None,
        job_id_factory: Callable[[], str] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.stats = ConnectionStats()
        self._events: list[str] = []
        self._filters: list[tuple[str, str]] = []
        for name in events:
            self._add_event_name(name)
        for header, value in filters:
            pair = (_check_line(header, "filter header"), _check_line(value, "filter value"))
            self._filters.append(pair)
        self._on_event = on_event
        self._event_queue = event_queue
        self._on_up = on_up
        self._on_down = on_down
        self._on_connected = on_connected
        self._on_log = on_log
        self._job_id_factory = job_id_factory or (lambda: str(uuid.uuid4()))
        # Jitter only spreads reconnects; it needs no cryptographic randomness.
        self._rng = rng or random.Random()  # noqa: S311
        self._session: _Session | None = None
        self._send_lock = gevent.lock.Semaphore()
        self._jobs: dict[str, tuple[_Session, gevent.event.AsyncResult]] = {}
        # BACKGROUND_JOB events nobody waited for (yet): a peer that ignores our Job-UUID is
        # only known after its acknowledgement, which may be processed after the result.
        self._unclaimed_jobs: OrderedDict[str, Event] = OrderedDict()
        self._supervisor: gevent.Greenlet | None = None
        self._closed = False
        self._wakeup = gevent.event.Event()
        self._up_event = gevent.event.Event()
        self._last_drop_log = float("-inf")
        self._drops_since_log = 0
        # gevent objects belong to the hub of the thread that created them.
        self._hub = gevent.get_hub()

    # ------------------------------------------------------------------ state

    @property
    def is_up(self) -> bool:
        """Tell whether an authenticated, subscribed session is currently up."""
        session = self._session
        return session is not None and session.up and not session.dead.is_set()

    @property
    def subscribed_events(self) -> tuple[str, ...]:
        """Return the caller's event names (re-subscribed after every reconnect)."""
        return tuple(self._events)

    @property
    def filters(self) -> tuple[tuple[str, str], ...]:
        """Return the caller's event filters (re-applied after every reconnect)."""
        return tuple(self._filters)

    def wait_until_up(self, timeout: float | None = None) -> bool:
        """Block the calling greenlet until a session is up; return False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.is_up:
            if self._closed:
                return False
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            self._up_event.wait(remaining)
        return True

    # -------------------------------------------------------------- lifecycle

    def connect(self) -> None:
        """Open a session now (one attempt) and supervise it; raise if the attempt fails.

        Raises ``AuthenticationError`` on a refused password, ``ConnectionLost`` when
        FreeSWITCH cannot be reached, ``CommandError`` when the subscription is refused.
        """
        if self._closed:
            raise ConnectionLost("connection was closed")
        if self._supervisor is not None:
            raise RuntimeError("connection is already started")
        session = self._open_session()
        self._supervisor = gevent.spawn(self._supervise, session)

    def start(self) -> None:
        """Connect in the background and keep reconnecting until ``close()``."""
        if self._closed:
            raise ConnectionLost("connection was closed")
        if self._supervisor is not None:
            raise RuntimeError("connection is already started")
        self._supervisor = gevent.spawn(self._supervise, None)

    def close(self) -> None:
        """Send ``exit`` (best effort), drop the session and stop reconnecting."""
        if self._closed:
            return
        self._closed = True
        self._wakeup.set()
        self._up_event.set()
        session = self._session
        if session is not None and not session.dead.is_set():
            # Under the send lock so that "exit" never lands inside another command.
            with contextlib.suppress(OSError, gevent.Timeout), gevent.Timeout(1.0), self._send_lock:
                session.sock.sendall(b"exit\n\n")
            self._kill_session(session, "closed by client")
        supervisor = self._supervisor
        if supervisor is not None and supervisor is not gevent.getcurrent():
            supervisor.join(timeout=2.0)
            supervisor.kill(block=False)

    def __enter__(self) -> ESLConnection:
        self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ----------------------------------------------------------- subscription

    def _add_event_name(self, name: str) -> None:
        for part in _check_line(name, "event name").split():
            if part not in self._events:
                self._events.append(part)

    def _subscription(self) -> list[str]:
        if not self._events:
            names: list[str] = []
        elif "ALL" in self._events:
            return ["ALL"]
        else:
            names = list(self._events)
        names.extend(self._internal_events())
        return list(dict.fromkeys(names))

    def _subscribe_command(self) -> str:
        return f"event {self.config.event_format} {' '.join(self._subscription())}"

    def _internal_events(self) -> tuple[str, ...]:
        if self.config.heartbeat_timeout is None:
            return ("BACKGROUND_JOB",)
        return _INTERNAL_EVENTS

    def _internal_filters(self) -> list[tuple[str, str]]:
        # With filters FreeSWITCH sends only events matching one of them (mod_event_socket
        # ORs the filters): keep bgapi results and heartbeats flowing.
        return [
            ("Event-Name", name)
            for name in self._internal_events()
            if ("Event-Name", name) not in self._filters
        ]

    def _filter_commands(self) -> list[str]:
        if not self._filters:
            return []
        pairs = [*self._filters, *self._internal_filters()]
        return [f"filter {header} {value}" for header, value in pairs]

    def subscribe(self, *names: str, timeout: float | None = None) -> None:
        """Add event names (``CUSTOM`` subclasses as separate words) to the subscription.

        Applied immediately when a session is up and after every reconnect.
        """
        previous = list(self._events)
        for name in names:
            self._add_event_name(name)
        if self.is_up:
            try:
                self.command(self._subscribe_command(), timeout=timeout)
            except Exception:
                # Keep a refused name (e.g. "-ERR no keywords supplied") out of re-subscriptions.
                self._events = previous
                raise

    def add_filter(self, header: str, value: str, *, timeout: float | None = None) -> None:
        """Add ``filter <header> <value>`` (applied now and after every reconnect)."""
        pair = (_check_line(header, "filter header"), _check_line(value, "filter value"))
        if pair in self._filters:
            return
        first = not self._filters
        self._filters.append(pair)
        if self.is_up:
            extra = self._internal_filters() if first else []
            for name, text in [pair, *extra]:
                self.command(f"filter {name} {text}", timeout=timeout)

    def delete_filter(self, header: str, value: str, *, timeout: float | None = None) -> None:
        """Remove a filter added with ``add_filter``."""
        pair = (header, value)
        if pair not in self._filters:
            return
        self._filters.remove(pair)
        if self.is_up:
            extra = self._internal_filters() if not self._filters else []
            for name, text in [pair, *extra]:
                self.command(f"filter delete {name} {text}", timeout=timeout)

    # --------------------------------------------------------------- commands

    def command(
        self,
        text: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
        timeout: float | None = None,
        check: bool = True,
    ) -> CommandReply:
        """Send a raw ESL command (``filter ...``, ``sendevent ...``, ``sendmsg ...``).

        ``headers`` become extra header lines, ``body`` is sent with its Content-Length.
        Raises ``CommandError`` on ``-ERR`` unless ``check`` is False.
        """
        session = self._require_session()
        payload = _render_command(text, headers, body)
        reply = self._request(session, payload, text, self._timeout(timeout))
        if not isinstance(reply, CommandReply):
            raise self._desynchronised(session, text, reply)
        if check and is_error_reply(reply.reply_text):
            raise error_from_reply(reply.reply_text, text)
        return reply

    def api(self, command: str, *, timeout: float | None = None, check: bool = True) -> str:
        """Run ``api <command>`` and return its output exactly as FreeSWITCH sent it.

        Raises ``CommandError`` (or a subclass) when the output starts with ``-ERR`` or
        ``-USAGE`` unless ``check`` is False, ``CommandTimeout`` after ``timeout``.
        """
        session = self._require_session()
        _check_line(command, "api command")
        reply = self._request(
            session, f"api {command}\n\n".encode(), command, self._timeout(timeout)
        )
        if isinstance(reply, CommandReply):
            # Before auth (or on an outbound socket in the wrong mode) FreeSWITCH answers
            # ``api`` with a command/reply such as "-ERR command not found".
            if check and is_error_reply(reply.reply_text):
                raise error_from_reply(reply.reply_text, command)
            return reply.reply_text
        if not isinstance(reply, ApiResponse):
            raise self._desynchronised(session, command, reply)
        if check and is_error_reply(reply.body):
            raise error_from_reply(reply.body, command)
        return reply.body

    def bgapi(
        self,
        command: str,
        *,
        timeout: float | None = None,
        job_uuid: str | None = None,
        check: bool = True,
    ) -> str:
        """Run ``bgapi <command>`` and return the BACKGROUND_JOB result body.

        The whole call (acknowledgement and result) is bounded by ``timeout`` (default
        ``config.bgapi_timeout``). Raises ``CommandError`` subclasses for ``-ERR``/``-USAGE``
        results (e.g. ``UserNotRegistered`` for ``-ERR USER_NOT_REGISTERED``) unless ``check``
        is False, ``CommandTimeout`` when the result does not arrive in time.
        """
        session = self._require_session()
        _check_line(command, "bgapi command")
        job_id = _check_line(job_uuid or self._job_id_factory(), "job uuid")
        limit = self.config.bgapi_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        waiter: gevent.event.AsyncResult = gevent.event.AsyncResult()
        self._jobs[job_id] = (session, waiter)
        try:
            payload = f"bgapi {command}\nJob-UUID: {job_id}\n\n".encode()
            reply = self._request(session, payload, command, limit)
            if not isinstance(reply, CommandReply):
                raise self._desynchronised(session, command, reply)
            if is_error_reply(reply.reply_text):
                raise error_from_reply(reply.reply_text, command)
            acknowledged = reply.job_uuid
            if acknowledged and acknowledged != job_id:
                # A peer that ignores the client-chosen id: follow the one it assigned.
                self._jobs[acknowledged] = (session, waiter)
                self._jobs.pop(job_id, None)
                job_id = acknowledged
                early = self._unclaimed_jobs.pop(job_id, None)
                if early is not None and not waiter.ready():
                    waiter.set(early)
            try:
                event: Event = waiter.get(timeout=max(0.0, deadline - time.monotonic()))
            except gevent.Timeout:
                raise CommandTimeout(
                    f"no BACKGROUND_JOB for {command!r} (Job-UUID {job_id}) within {limit} s"
                ) from None
        finally:
            self._jobs.pop(job_id, None)
        result = event.body or ""
        if check and is_error_reply(result):
            raise error_from_reply(result, command)
        return result

    def sendevent(
        self,
        event_name: str,
        headers: Mapping[str, str],
        *,
        body: str | None = None,
        timeout: float | None = None,
    ) -> str:
        """Fire an event into FreeSWITCH (``sendevent``); return the new event's uuid."""
        reply = self.command(
            f"sendevent {_check_line(event_name, 'event name')}",
            headers=headers,
            body=body,
            timeout=timeout,
        )
        return reply.reply_text.removeprefix("+OK").strip()

    # -------------------------------------------------------------- internals

    def _desynchronised(self, session: _Session, command: str, reply: object) -> ProtocolError:
        # A reply of the wrong kind means replies and commands are out of step: start over.
        reason = f"unexpected {type(reply).__name__} in reply to {command!r}"
        self.stats.protocol_errors += 1
        self._kill_session(session, f"protocol error: {reason}")
        return ProtocolError(reason)

    def _timeout(self, timeout: float | None) -> float:
        return self.config.command_timeout if timeout is None else timeout

    def _require_session(self) -> _Session:
        if gevent.get_hub() is not self._hub:
            raise RuntimeError(
                "ESLConnection used from another thread: call it only from greenlets of the "
                "thread (gevent hub) that created it"
            )
        session = self._session
        if session is None or not session.up or session.dead.is_set():
            raise NotConnected("no FreeSWITCH session is up")
        return session

    def _request(
        self, session: _Session, payload: bytes, command: str, timeout: float
    ) -> CommandReply | ApiResponse:
        if timeout <= 0:
            raise CommandTimeout(f"no time left to send {command!r}")
        pending = _Pending(command)
        deadline = time.monotonic() + timeout
        try:
            with gevent.Timeout(timeout), self._send_lock:
                if session.dead.is_set():
                    raise ConnectionLost(session.reason or "session ended")
                session.pending.append(pending)
                try:
                    session.sock.sendall(payload)
                except OSError as exc:
                    self._kill_session(session, f"send failed: {exc}")
                    raise ConnectionLost(f"send failed: {exc}") from exc
        except gevent.Timeout:
            # A partially written command would desynchronise the stream: drop the session.
            self._kill_session(session, f"send of {command!r} timed out")
            raise CommandTimeout(f"could not send {command!r} within {timeout} s") from None
        try:
            return pending.result.get(timeout=max(0.0, deadline - time.monotonic()))
        except gevent.Timeout:
            # The reply may still come: the reader discards it so later replies stay matched.
            pending.abandoned = True
            raise CommandTimeout(f"no reply to {command!r} within {timeout} s") from None

    def _open_session(self) -> _Session:
        config = self.config
        try:
            sock = gevent.socket.create_connection(
                (config.host, config.port), timeout=config.connect_timeout
            )
        except OSError as exc:
            raise ConnectionLost(f"cannot connect to {config.host}:{config.port}: {exc}") from exc
        sock.settimeout(None)
        session = _Session(
            sock,
            FrameParser(
                max_header_size=config.max_header_size,
                max_content_length=config.max_content_length,
            ),
        )
        self._session = session
        session.reader = gevent.spawn(self._read_loop, session)
        try:
            self._handshake(session)
        except BaseException as exc:
            self._kill_session(session, f"handshake failed: {exc}")
            raise
        session.up = True
        session.last_heartbeat = time.monotonic()
        self.stats.connects += 1
        self.stats.consecutive_failures = 0
        self._up_event.set()
        self._up_event = gevent.event.Event()
        logger.info("ESL session up to %s:%s", config.host, config.port)
        self._call(self._on_up)
        if self._on_connected is not None and not session.dead.is_set():
            self._call(self._on_connected, self)
        return session

    def _handshake(self, session: _Session) -> None:
        config = self.config
        deadline = time.monotonic() + config.handshake_timeout

        def remaining() -> float:
            return max(0.0, deadline - time.monotonic())

        ready = gevent.wait([session.greeted, session.dead], timeout=remaining(), count=1)
        if session.dead.is_set():
            raise _session_error(session)
        if not ready:
            raise ConnectionLost("no auth/request greeting from FreeSWITCH")
        reply = self._request(session, f"auth {config.password}\n\n".encode(), "auth", remaining())
        if not isinstance(reply, CommandReply) or not reply.ok:
            text = reply.reply_text if isinstance(reply, CommandReply) else repr(reply)
            raise AuthenticationError(f"FreeSWITCH refused authentication: {text}")
        # Always subscribe: bgapi results (BACKGROUND_JOB) and the watchdog need events.
        commands = [self._subscribe_command(), *self._filter_commands()]
        for command in commands:
            answer = self._request(session, f"{command}\n\n".encode(), command, remaining())
            if not isinstance(answer, CommandReply) or is_error_reply(answer.reply_text):
                text = answer.reply_text if isinstance(answer, CommandReply) else repr(answer)
                raise error_from_reply(text, command)

    def _read_loop(self, session: _Session) -> None:
        parser = session.parser
        sock = session.sock
        recv_size = self.config.recv_size
        try:
            while True:
                data = sock.recv(recv_size)
                if not data:
                    parser.feed_eof()
                    session.fail("connection closed by FreeSWITCH")
                    return
                session.last_received = time.monotonic()
                for frame in parser.feed(data):
                    self.stats.frames_received += 1
                    try:
                        message = decode_frame(frame)
                    except MessageDecodeError as exc:
                        self.stats.decode_errors += 1
                        logger.error(
                            "undecodable ESL %s frame skipped: %s", frame.content_type, exc
                        )
                        continue
                    self._dispatch(session, message)
                # recv returns at once while the socket holds data: without a yield here a
                # peer that sends faster than we decode (a backlog after a burst) would keep
                # every other greenlet, the event writer waiting on its database, from running.
                gevent.sleep(0)
        except ProtocolError as exc:
            self.stats.protocol_errors += 1
            logger.error("ESL protocol error from %s: %s", self.config.host, exc)
            session.fail(f"protocol error: {exc}")
        except OSError as exc:
            session.fail(f"socket error: {exc}")
        finally:
            self._kill_session(session, session.reason or "reader stopped")

    def _dispatch(self, session: _Session, message: object) -> None:
        if isinstance(message, Event):
            self._handle_event(session, message)
        elif isinstance(message, (CommandReply, ApiResponse)):
            if not session.pending:
                logger.warning("unsolicited ESL reply ignored: %r", message)
                return
            pending = session.pending.popleft()
            if pending.abandoned:
                logger.info("late reply to %r discarded (caller timed out)", pending.command)
            else:
                pending.result.set(message)
        elif isinstance(message, AuthRequest):
            session.greeted.set()
        elif isinstance(message, DisconnectNotice):
            self._handle_disconnect_notice(session, message)
        elif isinstance(message, LogData):
            if self._on_log is not None:
                self._call(self._on_log, message)
        elif isinstance(message, RudeRejection):
            session.fail(f"rejected by FreeSWITCH ACL: {message.body.strip()}")
        elif isinstance(message, UnknownMessage):
            logger.warning("ESL frame of unknown type ignored: %r", message.frame)

    def _handle_event(self, session: _Session, event: Event) -> None:
        self.stats.events_received += 1
        name = event.name
        if name == "BACKGROUND_JOB":
            job_id = event.job_uuid or ""
            job = self._jobs.get(job_id)
            if job is not None:
                if not job[1].ready():
                    job[1].set(event)
            elif job_id:
                self._unclaimed_jobs[job_id] = event
                while len(self._unclaimed_jobs) > _UNCLAIMED_JOBS_KEPT:
                    self._unclaimed_jobs.popitem(last=False)
        elif name == "HEARTBEAT":
            self.stats.heartbeats += 1
            session.last_heartbeat = time.monotonic()
        if name in _INTERNAL_EVENTS and name not in self._events and "ALL" not in self._events:
            return
        self._deliver(event)

    def _deliver(self, event: Event) -> None:
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:
                logger.exception("on_event callback failed for %r", event)
        event_queue = self._event_queue
        if event_queue is None:
            self.stats.events_delivered += 1
            return
        try:
            event_queue.put_nowait(event)
        except queue.Full:
            self.stats.events_dropped += 1
            self._drops_since_log += 1
            now = time.monotonic()
            if now - self._last_drop_log >= self.config.drop_log_interval:
                logger.error(
                    "ESL event queue full: dropped %d event(s) since last report "
                    "(%d in total); the consumer is too slow or the queue too small",
                    self._drops_since_log,
                    self.stats.events_dropped,
                )
                self._last_drop_log = now
                self._drops_since_log = 0
        else:
            self.stats.events_delivered += 1

    def _handle_disconnect_notice(self, session: _Session, notice: DisconnectNotice) -> None:
        if notice.is_linger:
            # Outbound-mode linger: the socket stays open and events keep coming.
            logger.info("ESL linger notice (Linger-Time %s)", notice.linger_time)
            return
        text = notice.body.strip() or "disconnect notice"
        if "shut down" in text:
            logger.warning("FreeSWITCH is shutting down: %s", text)
        else:
            logger.info("ESL disconnect notice: %s", text)
        # FreeSWITCH closes the socket right after the notice; the reader sees EOF next.
        session.reason = session.reason or f"disconnect notice: {text}"

    def _kill_session(self, session: _Session, reason: str) -> None:
        session.fail(reason)
        with contextlib.suppress(OSError):
            session.sock.close()
        error = _session_error(session)
        while session.pending:
            pending = session.pending.popleft()
            if not pending.result.ready():
                pending.result.set_exception(error)
        for owner, waiter in list(self._jobs.values()):
            if owner is session and not waiter.ready():
                waiter.set_exception(ConnectionLost(f"session ended: {session.reason}"))
        reader = session.reader
        if reader is not None and reader is not gevent.getcurrent():
            reader.kill(block=False)

    # ------------------------------------------------------------- supervisor

    def _supervise(self, session: _Session | None) -> None:
        attempt = 0
        while True:
            if session is None:
                if self._closed:
                    break
                try:
                    session = self._open_session()
                except (ESLError, OSError) as exc:
                    attempt += 1
                    self._record_failure(exc)
                    self._sleep_backoff(attempt)
                    continue
            attempt = 0
            reason = self._watch(session)
            self._kill_session(session, reason)
            self.stats.disconnects += 1
            if not self._closed:
                logger.warning("ESL session to %s lost: %s", self.config.host, reason)
            self._call(self._on_down, reason)
            session = None
            if self._closed or not self.config.reconnect:
                break
            attempt = 1
            self._sleep_backoff(attempt)
        self._up_event.set()

    def _watch(self, session: _Session) -> str:
        timeout = self.config.heartbeat_timeout
        while True:
            if self._closed:
                return "closed by client"
            wait_for = None
            if timeout is not None:
                silent = time.monotonic() - max(session.last_heartbeat, session.last_received)
                if silent >= timeout:
                    return f"no HEARTBEAT nor data for {silent:.1f} s (watchdog {timeout} s)"
                wait_for = timeout - silent
            if session.dead.wait(wait_for):
                return session.reason or "session ended"

    def _record_failure(self, exc: BaseException) -> None:
        stats = self.stats
        stats.failed_attempts += 1
        stats.consecutive_failures += 1
        stats.last_failure = str(exc)
        level = (
            logging.CRITICAL
            if stats.consecutive_failures >= self.config.critical_after
            else logging.WARNING
        )
        logger.log(
            level,
            "ESL connection to %s:%s failed (%d consecutive): %s",
            self.config.host,
            self.config.port,
            stats.consecutive_failures,
            exc,
        )

    def backoff_delay(self, attempt: int) -> float:
        """Return the delay before reconnect attempt number ``attempt`` (1-based)."""
        config = self.config
        base = min(
            config.backoff_max,
            config.backoff_initial * config.backoff_multiplier ** max(0, attempt - 1),
        )
        return base * (1.0 - config.backoff_jitter * self._rng.random())

    def _sleep_backoff(self, attempt: int) -> None:
        if not self._closed:
            self._wakeup.wait(self.backoff_delay(attempt))

    def _call(self, callback: Callable[..., object] | None, *args: object) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:
            logger.exception("ESL callback %r failed", callback)


def _session_error(session: _Session) -> ESLError:
    reason = session.reason or "session ended"
    if reason.startswith("rejected by FreeSWITCH ACL"):
        return AuthenticationError(reason)
    return ConnectionLost(reason)


def _render_command(text: str, headers: Mapping[str, str] | None, body: str | None) -> bytes:
    lines = [_check_line(text, "command")]
    for name, value in (headers or {}).items():
        lines.append(f"{_check_line(name, 'header name')}: {_check_line(str(value), 'value')}")
    encoded_body = b""
    if body is not None:
        encoded_body = body.encode()
        lines.append(f"Content-Length: {len(encoded_body)}")
    return ("\n".join(lines) + "\n\n").encode() + encoded_body
