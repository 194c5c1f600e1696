"""The inbound Event Socket server side: framing, authentication, subscriptions, commands.

Command handling follows mod_event_socket's ``parse_command`` in order and wording (checked
against the ``a``, ``b``, ``h`` and ``z`` captures): the greeting, ``auth`` (a failed one
closes the socket after the goodbye notice), everything before ``auth`` answered with
``-ERR command not found`` on an open socket, ``exit``, ``event``/``nixevent``/``noevents``,
``filter``, ``myevents``, ``log``/``nolog``, ``sendevent``, ``sendmsg``, ``api`` and ``bgapi``.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import re
import socket
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from . import api as api_commands
from .catalog import EVENT_NAMES, GOODBYE, LOG_LEVELS, MYEVENTS, SHUTDOWN_NOTICE
from .dialplan import CallSession
from .events import Event
from .rendering import Block

if TYPE_CHECKING:
    from .channel import Channel
    from .switch import Switch

logger = logging.getLogger(__name__)

# Bytes handed to the transport per write: small enough that asyncio's buffer stays small
# (it copies the whole remaining buffer after every partial send).
WRITE_SLICE = 256 * 1024

_AUTH_REQUEST = b"Content-Type: auth/request\n\n"


def command_reply(text: str) -> bytes:
    """Return a ``command/reply`` frame with ``Reply-Text: text``."""
    return f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode()


def api_response(body: str) -> bytes:
    """Return an ``api/response`` frame carrying ``body``."""
    data = body.encode("utf-8")
    return b"Content-Type: api/response\nContent-Length: %d\n\n" % len(data) + data


def disconnect_notice(message: str) -> bytes:
    """Return a ``text/disconnect-notice`` frame."""
    data = message.encode()
    return b"Content-Type: text/disconnect-notice\nContent-Length: %d\n\n" % len(data) + data


class EslConnection(asyncio.Protocol):
    """One inbound ESL client."""

    def __init__(self, server: EslServer):
        self.server = server
        self.switch: Switch = server.switch
        self.transport: asyncio.Transport | None = None
        self.peer: tuple[str, int] | None = None
        self.authed = False
        self.closing = False
        self._buffer = bytearray()
        self._out: collections.deque[bytes] = collections.deque()
        self._paused = False
        self._missed = 0
        self._queue: collections.deque[tuple[str, dict[str, str], bytes]] = collections.deque()
        self._busy = False
        # subscription state (mod_event_socket listener_t)
        self.format = "plain"
        self.events_enabled = False
        self.all_events = False
        self.event_names: set[str] = set()
        self.subclasses: set[str] = set()
        self.filters: list[tuple[str, str]] = []
        self.myevents = False
        self.myevents_uuid: str | None = None
        self.logging = False
        self.log_level = 7

    # ----------------------------------------------------------------- transport
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Greet the client with ``auth/request``."""
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.peer = transport.get_extra_info("peername")
        self.server.connections.add(self)
        self.switch.add_listener(self)
        transport.write(_AUTH_REQUEST)

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the client."""
        self.closing = True
        self.server.connections.discard(self)
        self.switch.remove_listener(self)

    def data_received(self, data: bytes) -> None:
        """Split the input into command packets and run them in order."""
        self._buffer += data
        while not self.closing:
            packet = self._next_packet()
            if packet is None:
                break
            self._queue.append(packet)
        self._pump()

    def _next_packet(self) -> tuple[str, dict[str, str], bytes] | None:
        buffer = self._buffer
        match = re.search(rb"\r?\n\r?\n", buffer)
        if match is None:
            return None
        head = buffer[: match.start()].decode("utf-8", "replace")
        lines = [line.rstrip("\r") for line in head.split("\n")]
        while lines and not lines[0].strip():
            lines.pop(0)
        command = lines[0].strip() if lines else ""
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip()] = value.strip()
        end = match.end()
        body = b""
        length = headers.get("Content-Length")
        if length and length.isdigit():
            if len(buffer) < end + int(length):
                return None
            body = bytes(buffer[end : end + int(length)])
            end += int(length)
        del buffer[:end]
        return command, headers, body

    def write(self, data: bytes) -> None:
        """Queue bytes for the client; what is queued in one loop turn goes out together."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        # Batching the frames of a burst (a call's setup fires a dozen events at once)
        # saves a system call per frame on both ends of the socket.
        self._out.append(data)
        if len(self._out) == 1 and not self._paused:
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Hand queued bytes to the transport in slices until it asks us to pause."""
        transport = self.transport
        out = self._out
        if transport is None or transport.is_closing():
            out.clear()
            return
        while out and not self._paused:
            size = 0
            batch = []
            while out and size < WRITE_SLICE:
                frame = out.popleft()
                batch.append(frame)
                size += len(frame)
            transport.write(b"".join(batch))

    def pause_writing(self) -> None:
        """The client is not keeping up: keep frames queued here."""
        self._paused = True

    def resume_writing(self) -> None:
        """The client caught up: send the backlog."""
        self._paused = False
        self.flush()

    def close_after(self, notice: str) -> None:
        """Send a disconnect notice and close once it is flushed."""
        if self.closing:
            return
        self.write(disconnect_notice(notice))
        # Whatever is still queued goes to the transport, which sends it before closing.
        self._paused = False
        self.flush()
        self.closing = True
        self.switch.remove_listener(self)
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Drop the TCP connection at once, without a notice."""
        self._out.clear()
        self.closing = True
        self.switch.remove_listener(self)
        if self.transport is not None:
            self.transport.abort()

    # ----------------------------------------------------------------- listener
    def wants(self, event: Event) -> bool:
        """Apply the subscription, the filters and ``myevents`` like mod_event_socket."""
        if not self.events_enabled or self.closing:
            return False
        if not self.all_events and not self._subscribed(event):
            return False
        if self.filters and not self._passes_filters(event):
            return False
        return not self.myevents or self._mine(event)

    def _subscribed(self, event: Event) -> bool:
        if event.name not in self.event_names:
            return False
        # A CUSTOM event with a subclass needs that subclass subscribed (event_hash).
        return event.name != "CUSTOM" or event.subclass is None or event.subclass in self.subclasses

    def _mine(self, event: Event) -> bool:
        if event.unique_id is None:
            return False
        return self.myevents_uuid is None or event.unique_id == self.myevents_uuid

    def _passes_filters(self, event: Event) -> bool:
        send = False
        for name, value in self.filters:
            lowered = name.lower()
            if lowered == "unique-id":
                actual = event.unique_id
            elif lowered == "event-name":
                actual = event.name
            else:
                actual = event.header(name)
            if actual is None:
                continue
            positive, compare = _filter_sign(value)
            if send and positive:
                continue
            if _filter_matches(actual, value, compare):
                if not positive:
                    return False
                send = True
        return send

    def subscribed_names(self) -> set[str] | None:
        """Return the event names this client may receive (None: all)."""
        if not self.events_enabled or self.closing:
            return set()
        if self.all_events:
            return None
        return set(self.event_names)

    def deliver(self, event: Event) -> None:
        """Write the event in this client's format (dropped if the client is too far behind)."""
        # mod_event_socket drops events for a listener whose queue is full and kills it
        # after too many drops in a row.
        config = self.switch.config
        if len(self._out) >= config.client_queue_limit:
            self._missed += 1
            if self._missed > config.client_max_missed:
                logger.warning("ESL client %s stopped reading; dropping it", self.peer)
                self.abort()
            return
        self._missed = 0
        self.write(event.frame(self.format))

    def log(self, level: int, frame: bytes) -> None:
        """Write a ``log/data`` frame when logging at ``level`` or more verbose."""
        if self.logging and level <= self.log_level:
            self.write(frame)

    # ----------------------------------------------------------------- commands
    def _pump(self) -> None:
        while self._queue and not self._busy and not self.closing:
            command, headers, body = self._queue.popleft()
            try:
                self._handle(command, headers, body)
            except Exception:  # one broken command must not kill the connection
                logger.exception("ESL command %r failed", command)
                self.write(command_reply("-ERR command failed"))

    def _handle(self, command: str, headers: dict[str, str], body: bytes) -> None:
        lower = command.lower()
        if lower.startswith("exit") or command.startswith("..."):
            self.write(command_reply("+OK bye"))
            self.close_after(GOODBYE)
            return
        if not self.authed:
            self._unauthenticated(command, lower)
            return
        # Prefix matching in mod_event_socket's order (so e.g. "events" is an event command).
        for prefix, handler in _COMMANDS:
            if lower.startswith(prefix):
                handler(self, command, headers, body)
                return
        self.write(command_reply("-ERR command not found"))

    def _unauthenticated(self, command: str, lower: str) -> None:
        if lower.startswith("auth "):
            if command[5:] == self.server.password:
                self.authed = True
                self.write(command_reply("+OK accepted"))
            else:
                self.write(command_reply("-ERR invalid"))
                self.close_after(GOODBYE)
        elif lower.startswith("userauth "):
            self.write(command_reply("-ERR invalid"))
            self.close_after(GOODBYE)
        else:
            # The socket stays open: the client may still authenticate (a3).
            self.write(command_reply("-ERR command not found"))

    def _cmd_filter(self, command: str, headers: dict[str, str], body: bytes) -> None:
        self.write(command_reply(self._filter(command[7:])))

    def _cmd_myevents(self, command: str, headers: dict[str, str], body: bytes) -> None:
        self.write(command_reply(self._myevents(command[9:])))
        self.switch.subscriptions_changed()

    def _cmd_divert(self, command: str, headers: dict[str, str], body: bytes) -> None:
        self.write(command_reply("-ERR not controlling a session."))

    def _cmd_sendmsg(self, command: str, headers: dict[str, str], body: bytes) -> None:
        self.write(command_reply(self._sendmsg(command[7:].strip(), headers)))

    def _cmd_sendevent(self, command: str, headers: dict[str, str], body: bytes) -> None:
        self.write(command_reply(self._sendevent(command[9:].strip(), headers, body)))

    def _cmd_api(self, command: str, headers: dict[str, str], body: bytes) -> None:
        self._api(command[4:].strip())

    def _cmd_bgapi(self, command: str, headers: dict[str, str], body: bytes) -> None:
        self._bgapi(command[6:].strip(), headers)

    def _cmd_log(self, command: str, headers: dict[str, str], body: bytes) -> None:
        self.write(command_reply(self._log(command)))

    def _cmd_linger(self, command: str, headers: dict[str, str], body: bytes) -> None:
        self.write(command_reply("-ERR not controlling a session"))

    def _cmd_nolog(self, command: str, headers: dict[str, str], body: bytes) -> None:
        if self.logging:
            self.logging = False
            self.write(command_reply("+OK no longer logging"))
        else:
            self.write(command_reply("-ERR not loging"))

    def _cmd_event(self, command: str, headers: dict[str, str], body: bytes) -> None:
        self.write(command_reply(self._event(command)))
        self.switch.subscriptions_changed()

    def _cmd_nixevent(self, command: str, headers: dict[str, str], body: bytes) -> None:
        self.write(command_reply(self._nixevent(command)))
        self.switch.subscriptions_changed()

    def _cmd_noevents(self, command: str, headers: dict[str, str], body: bytes) -> None:
        if self.events_enabled:
            self.events_enabled = False
            self.all_events = False
            self.event_names.clear()
            self.subclasses.clear()
            self.write(command_reply("+OK no longer listening for events"))
        else:
            self.write(command_reply("-ERR not listening for events"))
        self.switch.subscriptions_changed()

    # ----------------------------------------------------------------- subscriptions
    def _event(self, command: str) -> str:
        words = command.split(" ")[1:]
        key_count = 0
        custom = False
        for index, word in enumerate(words):
            if not word:
                continue
            if index == 0 and word.lower() in ("plain", "json", "xml"):
                self.format = word.lower()
                continue
            if custom:
                self.subclasses.add(word)
                continue
            name = word.upper()
            if name not in EVENT_NAMES:
                continue
            key_count += 1
            if name == "ALL":
                self.all_events = True
            else:
                self.event_names.add(name)
            if name == "CUSTOM":
                custom = True
        if not key_count:
            return "-ERR no keywords supplied"
        self.events_enabled = True
        return f"+OK event listener enabled {self.format}"

    def _nixevent(self, command: str) -> str:
        words = command.split(" ")[1:]
        key_count = 0
        custom = False
        for word in words:
            if not word:
                continue
            if custom:
                self.subclasses.discard(word)
                continue
            name = word.upper()
            if name not in EVENT_NAMES:
                continue
            key_count += 1
            if name == "CUSTOM":
                custom = True
            elif name == "ALL":
                self.all_events = False
                self.event_names.clear()
            else:
                if self.all_events:
                    self.all_events = False
                    self.event_names = set(EVENT_NAMES) - {"ALL"}
                self.event_names.discard(name)
        if not key_count:
            return "-ERR no keywords supplied"
        self.events_enabled = True
        return "+OK events nixed"

    def _filter(self, text: str) -> str:
        text = text.lstrip(" ")
        name, sep, value = text.partition(" ")
        if name.lower() == "delete" and sep:
            name, sep2, value = value.partition(" ")
            if name.lower() == "all":
                self.filters.clear()
            else:
                self.filters = [
                    (header, val)
                    for header, val in self.filters
                    if not (header.lower() == name.lower() and (not sep2 or val == value))
                ]
            return f"+OK filter deleted. [{name}][{value if sep2 else ''}]"
        if sep:
            if name.lower() == "add":
                name, _, value = value.partition(" ")
            self.filters.append((name, value))
            return f"+OK filter added. [{name}]=[{value}]"
        return "-ERR invalid syntax"

    def _myevents(self, text: str) -> str:
        if self.myevents:
            return "-ERR aready enabled."
        uuid, _, fmt = text.strip().partition(" ")
        channel = self.switch.find(uuid) if uuid else None
        if channel is None and fmt:
            return "-ERR invalid uuid"
        self.myevents_uuid = channel.uuid if channel is not None else None
        self.myevents = True
        self.events_enabled = True
        self.event_names |= MYEVENTS
        lowered = text.lower()
        if "xml" in lowered:
            self.format = "xml"
        if "json" in lowered:
            self.format = "json"
        return "+OK Events Enabled"

    def _log(self, command: str) -> str:
        level_text = command[3:]
        if level_text:
            level_text = level_text[1:]
        level = 7
        if level_text:
            if level_text.isdigit():
                level = int(level_text)
                if level > 7:
                    return "-ERR invalid log level"
            else:
                names = [name.lower() for name in LOG_LEVELS]
                aliases = {"error": "err", "warn": "warning"}
                key = aliases.get(level_text.lower(), level_text.lower())
                if key not in names:
                    return "-ERR invalid log level"
                level = names.index(key)
        self.logging = True
        self.log_level = level
        return f"+OK log level {level_text} [{level}]"

    # ----------------------------------------------------------------- events & messages
    def _sendevent(self, name: str, headers: dict[str, str], body: bytes) -> str:
        sw = self.switch
        event_uuid = sw.new_uuid()
        event_name = name.upper() if name.upper() in EVENT_NAMES else "CUSTOM"
        subclass = headers.get("Event-Subclass") if event_name == "CUSTOM" else None
        target_uuid = next(
            (value for key, value in headers.items() if key.lower() == "unique-id"), None
        )
        if target_uuid:
            channel = sw.find(target_uuid)
            if channel is not None:
                # Queued to the session, not broadcast (j2): eavesdrop reads its command.
                command = next(
                    (v for k, v in headers.items() if k.lower() == "eavesdrop-command"), None
                )
                if command and channel.dtmf_reader is not None:
                    for digit in command:
                        channel.dtmf_reader(digit)
                return f"+OK {event_uuid}"
        pairs = [
            (key, value)
            for key, value in headers.items()
            if key not in ("Event-Name", "Event-Subclass", "Content-Length")
        ]
        pairs.append(("Event-UUID", event_uuid))
        event = sw.factory.create(
            event_name,
            [Block(pairs)],
            subclass=subclass,
            body=body.decode("utf-8", "replace") or None,
            calling="CUSTOM",
        )
        sw.fire(event)
        return f"+OK {event_uuid}"

    def _sendmsg(self, uuid: str, headers: dict[str, str]) -> str:
        sw = self.switch
        lowered = {key.lower(): value for key, value in headers.items()}
        uuid = uuid or lowered.get("session-id", "")
        channel = sw.find(uuid) if uuid else None
        if channel is None or not channel.alive:
            return f"-ERR invalid session id [{uuid}]"
        action = lowered.get("call-command", "")
        if action == "hangup":
            sw.loop.call_soon(sw.hangup, channel, lowered.get("hangup-cause", "NORMAL_CLEARING"))
        elif action == "execute":
            app = lowered.get("execute-app-name", "")
            arg = lowered.get("execute-app-arg")
            sw.loop.call_soon(self._execute_on, channel, app, arg)
        return "+OK"

    def _execute_on(self, channel: Channel, app: str, arg: str | None) -> None:
        if not channel.alive or channel.hangup_cause:
            return
        session = CallSession(self.switch, channel)
        self.switch.loop.create_task(session.execute(app, arg))

    # ----------------------------------------------------------------- api
    def _split(self, text: str) -> tuple[str, str | None]:
        name, sep, args = text.partition(" ")
        return name, args if sep else None

    def _api_event(self, name: str, args: str | None) -> Event:
        pairs = [("API-Command", name)]
        if args:
            pairs.append(("API-Command-Argument", args))
        return self.switch.factory.create("API", [Block(pairs)])

    def _api(self, text: str) -> None:
        sw = self.switch
        name, args = self._split(text)
        late = sw.config.late_api_events
        api_event = self._api_event(name, args) if late else None
        with sw.hold_events() as held:
            reply = api_commands.execute(sw, name, args or "")
        if reply is None:
            self.write(api_response(f"-ERR {name} Command not found!\n"))
            sw.release(held)
            return
        if isinstance(reply, str):
            self.write(api_response(reply or "-ERR no reply\n"))
            sw.release(held)
            sw.fire(api_event or self._api_event(name, args))
            return
        sw.release(held)
        self._busy = True
        task = sw.loop.create_task(_wait(reply))

        def finished(done: asyncio.Task[str]) -> None:
            self._busy = False
            body = _result(done)
            self.write(api_response(body or "-ERR no reply\n"))
            sw.fire(api_event or self._api_event(name, args))
            self._pump()

        task.add_done_callback(finished)

    def _bgapi(self, text: str, headers: dict[str, str]) -> None:
        sw = self.switch
        job_uuid = (
            next((value for key, value in headers.items() if key.lower() == "job-uuid"), None)
            or sw.new_uuid()
        )
        self.write(
            (
                "Content-Type: command/reply\n"
                f"Reply-Text: +OK Job-UUID: {job_uuid}\nJob-UUID: {job_uuid}\n\n"
            ).encode()
        )
        sw.loop.call_soon(self._run_job, text, job_uuid)

    def _run_job(self, text: str, job_uuid: str) -> None:
        sw = self.switch
        name, args = self._split(text)
        late = sw.config.late_api_events
        api_event = self._api_event(name, args) if late else None
        reply = api_commands.execute(sw, name, args or "")

        def publish(body: str, known: bool) -> None:
            if known:
                sw.fire(api_event or self._api_event(name, args))
            pairs = [("Job-UUID", job_uuid), ("Job-Command", name)]
            if args:
                pairs.append(("Job-Command-Arg", args))
            sw.fire_plain("BACKGROUND_JOB", pairs, body=body)

        if reply is None:
            publish(f"-ERR {name} Command not found!\n", False)
        elif isinstance(reply, str):
            publish(reply, True)
        else:
            task = sw.loop.create_task(_wait(reply))
            task.add_done_callback(lambda done: publish(_result(done), True))


_COMMANDS = (
    ("filter ", EslConnection._cmd_filter),
    ("myevents ", EslConnection._cmd_myevents),
    ("divert_events", EslConnection._cmd_divert),
    ("sendmsg", EslConnection._cmd_sendmsg),
    ("sendevent", EslConnection._cmd_sendevent),
    ("api ", EslConnection._cmd_api),
    ("bgapi ", EslConnection._cmd_bgapi),
    ("log", EslConnection._cmd_log),
    ("linger", EslConnection._cmd_linger),
    ("nolinger", EslConnection._cmd_linger),
    ("nolog", EslConnection._cmd_nolog),
    ("event", EslConnection._cmd_event),
    ("nixevent", EslConnection._cmd_nixevent),
    ("noevents", EslConnection._cmd_noevents),
)


def _filter_sign(value: str) -> tuple[bool, str]:
    """Strip mod_event_socket's leading ``+``/``-`` (and spaces) off a filter value."""
    positive = True
    compare = value
    while compare and compare[0] in "+- ":
        if compare[0] != " ":
            positive = compare[0] == "+"
        compare = compare[1:]
    return positive, compare


def _filter_matches(actual: str, value: str, compare: str) -> bool:
    """Compare a header value with a filter: ``/regex/`` or case-insensitive equality."""
    if value.startswith("/"):
        try:
            return re.search(compare.strip("/"), actual) is not None
        except re.error:
            return False
    return actual.lower() == compare.lower()


async def _wait(reply: Awaitable[str]) -> str:
    return await reply


def _result(task: asyncio.Task[str]) -> str:
    if task.cancelled():
        return "-ERR cancelled\n"
    error = task.exception()
    if error is not None:
        logger.error("api command failed", exc_info=error)
        return f"-ERR {error}\n"
    return task.result()


class EslServer:
    """The listening socket and its connections."""

    def __init__(self, switch: Switch, host: str, port: int, password: str):
        self.switch = switch
        self.host = host
        self.port = port
        self.password = password
        self.connections: set[EslConnection] = set()
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> int:
        """Start listening; return the bound port."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: EslConnection(self), self.host, self.port, reuse_address=True
        )
        sockets = self._server.sockets or ()
        self.port = sockets[0].getsockname()[1] if sockets else self.port
        return self.port

    def stop_listening(self) -> None:
        """Refuse new connections."""
        if self._server is not None:
            self._server.close()

    async def wait_closed(self) -> None:
        """Wait until the listening socket is closed."""
        if self._server is not None:
            await self._server.wait_closed()

    def shutdown_notice(self) -> None:
        """Tell every client the system is shutting down, then close them (z1)."""
        for connection in list(self.connections):
            connection.close_after(SHUTDOWN_NOTICE)

    def drop_all(self) -> int:
        """Abruptly close every client socket; return how many there were."""
        connections = list(self.connections)
        for connection in connections:
            connection.abort()
        return len(connections)
