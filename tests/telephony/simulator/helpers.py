"""Shared helpers of the simulator tests: a raw ESL socket client and capture readers."""

from __future__ import annotations

import json
import socket
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "esl"
PASSWORD = "ClueCon"


@dataclass
class Frame:
    """One ESL frame: outer headers and body bytes."""

    headers: dict[str, str]
    body: bytes = b""
    raw: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


@dataclass
class ParsedEvent:
    """An event body decoded from plain or json."""

    headers: list[tuple[str, str]]
    body: str = ""
    fmt: str = "plain"
    values: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.values = {}
        for name, value in self.headers:
            self.values.setdefault(name, value)

    @property
    def name(self) -> str:
        return self.values["Event-Name"]

    @property
    def sequence(self) -> int:
        return int(self.values["Event-Sequence"])

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.values.get(name, default)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.headers]


def parse_frames(data: bytes) -> tuple[list[Frame], bytes]:
    """Split ``data`` into complete frames; return them and the unparsed rest."""
    frames: list[Frame] = []
    index = 0
    while True:
        end = data.find(b"\n\n", index)
        if end < 0:
            break
        head = data[index:end].decode()
        headers = dict(line.split(": ", 1) for line in head.split("\n") if ": " in line)
        start = end + 2
        length = int(headers.get("Content-Length", "0"))
        if len(data) < start + length:
            break
        frames.append(Frame(headers, data[start : start + length], data[index : start + length]))
        index = start + length
    return frames, data[index:]


def parse_event(frame: Frame, *, decode: bool = True) -> ParsedEvent:
    """Decode a text/event-plain or text/event-json frame (plain values url-decoded)."""
    if frame.content_type == "text/event-json":
        obj = json.loads(frame.body)
        body = obj.pop("_body", "")
        return ParsedEvent(list(obj.items()), body, "json")
    text = frame.body.decode()
    head, _, rest = text.partition("\n\n")
    pairs = []
    for line in head.split("\n"):
        name, _, value = line.partition(": ")
        pairs.append((name, urllib.parse.unquote(value) if decode else value))
    body = ""
    inner = dict(pairs)
    if "Content-Length" in inner:
        body = rest[: int(inner["Content-Length"])]
    return ParsedEvent(pairs, body, "plain")


def capture_frames(name: str) -> list[Frame]:
    """Return every frame of capture ``name`` (e.g. ``d1_bridge_plain.raw``)."""
    frames, _ = parse_frames((FIXTURES / name).read_bytes())
    return frames


def capture_events(name: str, *, decode: bool = True) -> list[ParsedEvent]:
    """Return the events of capture ``name``, in arrival order."""
    return [
        parse_event(frame, decode=decode)
        for frame in capture_frames(name)
        if frame.content_type in ("text/event-plain", "text/event-json")
    ]


class RawClient:
    """A minimal blocking ESL client that keeps every byte it reads."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=5)
        self.buffer = b""
        self.frames: list[Frame] = []
        self.received = b""
        # Every event received, in arrival order (waiting for one does not remove it here).
        self.log: list[ParsedEvent] = []

    def send(self, command: str) -> None:
        self.sock.sendall(command.encode() + b"\n\n")

    def _fill(self, deadline: float) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(262144)
        except TimeoutError:
            return False
        if not chunk:
            raise EOFError("connection closed")
        self.received += chunk
        self.buffer += chunk
        frames, self.buffer = parse_frames(self.buffer)
        self.frames.extend(frames)
        self.log.extend(
            parse_event(frame) for frame in frames if frame.content_type.startswith("text/event")
        )
        return True

    def next_frame(self, timeout: float = 5.0) -> Frame:
        deadline = time.monotonic() + timeout
        while not self.frames:
            if not self._fill(deadline):
                raise TimeoutError("no frame")
        return self.frames.pop(0)

    def next_matching(self, predicate, timeout: float = 5.0) -> Frame:
        """Return the first frame satisfying ``predicate``; skipped frames are kept."""
        deadline = time.monotonic() + timeout
        skipped: list[Frame] = []
        try:
            while True:
                while self.frames:
                    frame = self.frames.pop(0)
                    if predicate(frame):
                        return frame
                    skipped.append(frame)
                if not self._fill(deadline):
                    raise TimeoutError("no matching frame")
        finally:
            self.frames[:0] = skipped

    def reply(self, timeout: float = 5.0) -> Frame:
        """Return the next command/reply or api/response frame."""
        return self.next_matching(
            lambda f: f.content_type in ("command/reply", "api/response"), timeout
        )

    def command(self, command: str) -> str:
        """Send a command and return its Reply-Text."""
        self.send(command)
        return self.reply().headers["Reply-Text"]

    def api(self, command: str) -> str:
        """Send ``api <command>`` and return the response body."""
        self.send(f"api {command}")
        return self.reply().body.decode()

    def login(self, password: str = PASSWORD) -> None:
        greeting = self.next_frame()
        assert greeting.content_type == "auth/request"
        assert self.command(f"auth {password}") == "+OK accepted"

    def events(self) -> list[ParsedEvent]:
        """Pop every buffered event frame."""
        events = [parse_event(f) for f in self.frames if f.content_type.startswith("text/event")]
        self.frames = [f for f in self.frames if not f.content_type.startswith("text/event")]
        return events

    def wait_event(self, predicate, timeout: float = 5.0) -> ParsedEvent:
        """Return the first event matching ``predicate`` (earlier events stay buffered)."""

        def match(frame: Frame) -> bool:
            return frame.content_type.startswith("text/event") and predicate(parse_event(frame))

        return parse_event(self.next_matching(match, timeout))

    def collect_until(self, predicate, timeout: float = 5.0) -> list[ParsedEvent]:
        """Return all events up to and including the first matching ``predicate``."""
        deadline = time.monotonic() + timeout
        seen: list[ParsedEvent] = []
        while True:
            while self.frames:
                frame = self.frames.pop(0)
                if not frame.content_type.startswith("text/event"):
                    continue
                event = parse_event(frame)
                seen.append(event)
                if predicate(event):
                    return seen
            if not self._fill(deadline):
                raise TimeoutError(f"condition not met after {len(seen)} events")

    def read_to_eof(self, timeout: float = 5.0) -> bytes:
        """Read until the server closes; return everything received since connecting."""
        deadline = time.monotonic() + timeout
        try:
            while self._fill(deadline):
                pass
        except EOFError:
            return self.received
        raise TimeoutError("server did not close")

    def close(self) -> None:
        self.sock.close()


def destroyed(uuid: str):
    """Return a predicate matching the CHANNEL_DESTROY of ``uuid``."""
    return lambda event: event.name == "CHANNEL_DESTROY" and event.get("Unique-ID") == uuid


class GreenClient:
    """greenswitch's InboundESL (a real third-party client) collecting every event."""

    def __init__(self, port: int, password: str = PASSWORD):
        from greenswitch.esl import InboundESL

        self.esl = InboundESL("127.0.0.1", port, password)
        self.events: list[dict[str, str]] = []
        self.esl.register_handle("*", self._collect)
        self.esl.connect()

    def _collect(self, event) -> None:
        if event.headers:
            self.events.append(dict(event.headers))

    def api(self, command: str) -> str:
        return self.esl.send(f"api {command}").data

    def send(self, command: str) -> str:
        return self.esl.send(command).headers.get("Reply-Text", "")

    def wait(self, predicate, timeout: float = 5.0) -> dict[str, str]:
        """Return the first collected event matching ``predicate`` (polling cooperatively)."""
        import gevent

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if predicate(event):
                    return event
            gevent.sleep(0.005)
        raise TimeoutError("event not received")

    def of(self, uuid: str) -> list[str]:
        """Return the names of the collected events of channel ``uuid``."""
        return [e["Event-Name"] for e in self.events if e.get("Unique-ID") == uuid]

    def close(self) -> None:
        """Say exit, then stop greenswitch's greenlets without its 1 s queue timeout."""
        import gevent
        from greenswitch.esl import ESLEvent

        esl = self.esl
        if esl.connected:
            esl.send("exit")
        esl._run = False
        esl._esl_event_queue.put(ESLEvent(""))  # wakes the event-processing greenlet
        gevent.joinall([esl._receive_events_greenlet, esl._process_events_greenlet], timeout=2)
        esl.sock.close()
