"""Test doubles for the ESL layer: captured transcripts and small loopback fake servers.

Everything here runs on the gevent hub of the test thread (no threads, no sleeps): the
servers are greenlets that answer on 127.0.0.1 with an ephemeral port.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import gevent
import gevent.event
import gevent.socket

# The repo is /work/main; CI clones it with shared/ beside it.
FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures"
ESL_DIR = FIXTURES / "esl"
HTTAPI_DIR = FIXTURES / "httapi"
# The event socket password of the captures.
FS_PASSWORD = "ClueCon"


@dataclass(frozen=True)
class Transcript:
    """One capture: the bytes FreeSWITCH sent, the client's commands, the recv/send sizes."""

    name: str
    raw: bytes
    sent: bytes
    steps: list[tuple[str, int]]

    @property
    def in_chunks(self) -> list[bytes]:
        """Return ``raw`` cut exactly as the capturing client's ``recv()`` calls returned it."""
        chunks, offset = [], 0
        for direction, size in self.steps:
            if direction == "in":
                chunks.append(self.raw[offset : offset + size])
                offset += size
        return chunks

    @property
    def commands(self) -> list[bytes]:
        """Return the client's commands, each with its terminating blank line."""
        return [part + b"\n\n" for part in self.sent.split(b"\n\n") if part.strip()]


def transcript_paths() -> list[Path]:
    """Return every ESL transcript ``.raw`` of the fixtures (esl/ and httapi/)."""
    return sorted(ESL_DIR.glob("*.raw")) + sorted(HTTAPI_DIR.glob("*_esl*.raw"))


def load_transcript(path_or_name: Path | str) -> Transcript:
    """Load ``<name>.raw``, ``.sent`` and ``.chunks.log`` of a capture."""
    path = Path(path_or_name)
    if not path.suffix:
        directory = HTTAPI_DIR if path.name[0].isdigit() else ESL_DIR
        path = directory / f"{path.name}.raw"
    base = path.with_suffix("")
    steps = []
    for line in (base.parent / f"{base.name}.chunks.log").read_text().splitlines():
        _, direction, size = line.split()
        steps.append((direction, int(size)))
    sent = (base.parent / f"{base.name}.sent").read_bytes()
    return Transcript(base.name, path.read_bytes(), sent, steps)


def split_frames(raw: bytes) -> list[bytes]:
    """Cut a capture into frame byte strings (a deliberately naive, independent splitter)."""
    frames, offset = [], 0
    while offset < len(raw):
        end = raw.index(b"\n\n", offset) + 2
        match = re.search(rb"(?m)^Content-Length: (\d+)$", raw[offset:end])
        if match:
            end += int(match.group(1))
        frames.append(raw[offset:end])
        offset = end
    return frames


def read_command(sock: gevent.socket.socket, buffer: bytearray) -> bytes | None:
    """Read one client command (header block, plus body when it has a Content-Length)."""
    while b"\n\n" not in buffer:
        data = sock.recv(65536)
        if not data:
            return None
        buffer += data
    end = buffer.index(b"\n\n") + 2
    match = re.search(rb"(?m)^Content-Length: (\d+)$", bytes(buffer[:end]))
    if match:
        end += int(match.group(1))
        while len(buffer) < end:
            data = sock.recv(65536)
            if not data:
                return None
            buffer += data
    command = bytes(buffer[:end])
    del buffer[:end]
    return command


def strip_job_uuid(command: bytes) -> bytes:
    """Remove the ``Job-UUID`` header line the client adds to every bgapi."""
    return re.sub(rb"\nJob-UUID: [^\n]*", b"", command)


class _Listener:
    def __init__(self) -> None:
        self._listener = gevent.socket.socket()
        self._listener.setsockopt(gevent.socket.SOL_SOCKET, gevent.socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self.port: int = self._listener.getsockname()[1]
        self._greenlets: list[gevent.Greenlet] = []
        self._accept = gevent.spawn(self._accept_loop)

    def _accept_loop(self) -> None:
        while True:
            sock, _ = self._listener.accept()
            self._greenlets.append(gevent.spawn(self._serve_safely, sock))

    def _serve_safely(self, sock: gevent.socket.socket) -> None:
        try:
            self.serve(sock)
        except OSError:
            pass
        finally:
            sock.close()

    def serve(self, sock: gevent.socket.socket) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Stop accepting and end every connection."""
        self._accept.kill()
        self._listener.close()
        gevent.killall(self._greenlets)


class TranscriptServer(_Listener):
    """Replay a capture to the first client, in the captured chunk sizes.

    At every captured ``out`` step the server reads the client's next command and checks it
    against the captured one (ignoring the ``Job-UUID`` header our client adds to every bgapi),
    so the replies arrive exactly when they did for the capturing client. Extra ``event`` /
    ``filter`` commands (our client always subscribes) get a synthetic ``+OK``; any other
    difference is recorded in ``mismatches`` and ends the replay. Later connections are
    closed at once (FreeSWITCH is "gone").
    """

    def __init__(self, transcript: Transcript, *, close_at_end: bool = False) -> None:
        self.transcript = transcript
        self.close_at_end = close_at_end
        self.received: list[bytes] = []
        self.mismatches: list[tuple[bytes, bytes]] = []
        self.finished = gevent.event.Event()
        self.connections = 0
        super().__init__()

    def wait_received(self, count: int, timeout: float = 5.0) -> None:
        """Wait until the client has sent ``count`` commands."""
        with gevent.Timeout(timeout):
            while len(self.received) < count:
                gevent.sleep(0.001)

    def serve(self, sock: gevent.socket.socket) -> None:
        self.connections += 1
        if self.connections > 1:
            return
        buffer = bytearray()
        offset = 0
        raw = self.transcript.raw
        expected = iter(self.transcript.commands)
        for direction, size in self.transcript.steps:
            if direction == "in":
                sock.sendall(raw[offset : offset + size])
                offset += size
            elif not self._expect(sock, buffer, next(expected)):
                return
        self.finished.set()
        if self.close_at_end:
            return
        while (command := read_command(sock, buffer)) is not None:
            self.received.append(command)

    def _expect(self, sock: gevent.socket.socket, buffer: bytearray, wanted: bytes) -> bool:
        while True:
            command = read_command(sock, buffer)
            if command is None:
                return False
            self.received.append(command)
            comparable = command if b"\nJob-UUID: " in wanted else strip_job_uuid(command)
            if comparable.startswith(b"event ") and wanted.startswith(b"event "):
                comparable = _without_internal_events(comparable, wanted)
            if comparable == wanted:
                return True
            if command.startswith(b"event "):
                sock.sendall(
                    b"Content-Type: command/reply\nReply-Text: +OK event listener enabled "
                    + command.split()[1]
                    + b"\n\n"
                )
            elif command.startswith(b"filter "):
                sock.sendall(b"Content-Type: command/reply\nReply-Text: +OK filter added.\n\n")
            else:
                self.mismatches.append((wanted, command))
                return False


def _without_internal_events(command: bytes, wanted: bytes) -> bytes:
    """Drop the names our client adds to every subscription unless the capture had them."""
    words = command.rstrip(b"\n").split(b" ")
    wanted_words = set(wanted.rstrip(b"\n").split(b" "))
    kept = [w for w in words if w not in (b"BACKGROUND_JOB", b"HEARTBEAT") or w in wanted_words]
    return b" ".join(kept) + b"\n\n"


Handler = Callable[["FakeSession", str], None]


@dataclass(eq=False)
class FakeSession:
    """One client connection to ``FakeFreeSwitch``."""

    sock: gevent.socket.socket
    commands: list[str] = field(default_factory=list)

    def send(self, data: bytes) -> None:
        """Write raw bytes to the client."""
        self.sock.sendall(data)

    def reply(self, text: str, extra: str = "") -> None:
        """Send a ``command/reply``."""
        self.send(f"Content-Type: command/reply\nReply-Text: {text}\n{extra}\n".encode())

    def api_response(self, body: str) -> None:
        """Send an ``api/response`` with ``body``."""
        data = body.encode()
        self.send(b"Content-Type: api/response\nContent-Length: %d\n\n" % len(data) + data)

    def drop(self) -> None:
        """Close the connection abruptly (like a crashed FreeSWITCH)."""
        self.sock.close()


def plain_event(headers: dict[str, str], body: str | None = None) -> bytes:
    """Render a ``text/event-plain`` frame the way FreeSWITCH does (url-encoded values)."""
    from urllib.parse import quote

    lines = "".join(f"{name}: {quote(value, safe='')}\n" for name, value in headers.items())
    inner = lines.encode()
    if body is not None:
        encoded = body.encode()
        inner += b"Content-Length: %d\n\n" % len(encoded) + encoded
    else:
        inner += b"\n"
    return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(inner) + inner


def background_job(job_uuid: str, body: str, sequence: int = 1) -> bytes:
    """Render a BACKGROUND_JOB event carrying ``body`` for ``job_uuid``."""
    headers = {
        "Event-Name": "BACKGROUND_JOB",
        "Event-Sequence": str(sequence),
        "Job-UUID": job_uuid,
    }
    return plain_event(headers, body)


class FakeFreeSwitch(_Listener):
    """A scripted inbound event socket: greeting, auth, event/filter, api, bgapi, exit.

    ``api_handlers`` map an api command to its reply body; ``on_command`` (if set) sees every
    command first and may answer it itself by returning True. ``sessions`` keeps every
    connection so tests can check what was sent after a reconnect.
    """

    def __init__(self, password: str = FS_PASSWORD) -> None:
        self.password = password
        self.sessions: list[FakeSession] = []
        self.api_handlers: dict[str, str] = {}
        self.bgapi_handlers: dict[str, str] = {}
        self.on_command: Callable[[FakeSession, str], bool] | None = None
        self.new_session = gevent.event.Event()
        self.greet = True
        super().__init__()

    @property
    def current(self) -> FakeSession:
        """Return the most recent connection."""
        return self.sessions[-1]

    def wait_sessions(self, count: int, timeout: float = 5.0) -> FakeSession:
        """Wait until ``count`` connections were accepted; return the last one."""
        with gevent.Timeout(timeout):
            while len(self.sessions) < count:
                self.new_session.wait()
                self.new_session.clear()
        return self.sessions[count - 1]

    def serve(self, sock: gevent.socket.socket) -> None:
        session = FakeSession(sock)
        self.sessions.append(session)
        self.new_session.set()
        if self.greet:
            session.send(b"Content-Type: auth/request\n\n")
        buffer = bytearray()
        while (raw := read_command(sock, buffer)) is not None:
            command = raw.decode().rstrip("\n")
            session.commands.append(command)
            if self.on_command is not None and self.on_command(session, command):
                continue
            self._answer(session, command)

    def _answer(self, session: FakeSession, command: str) -> None:
        first, _, rest = command.partition("\n")
        if first.startswith("auth "):
            if first == f"auth {self.password}":
                session.reply("+OK accepted")
            else:
                session.reply("-ERR invalid")
                session.send(DISCONNECT_GOODBYE)
                session.drop()
        elif first.startswith("event "):
            session.reply(f"+OK event listener enabled {first.split()[1]}")
        elif first.startswith("filter "):
            session.reply("+OK filter added.")
        elif first.startswith("api "):
            session.api_response(
                self.api_handlers.get(
                    first[4:], f"-ERR {first[4:].split()[0]} Command not found!\n"
                )
            )
        elif first.startswith("bgapi "):
            job = re.search(r"Job-UUID: (\S+)", rest)
            job_uuid = job.group(1) if job else "00000000-0000-0000-0000-000000000001"
            session.reply(f"+OK Job-UUID: {job_uuid}", f"Job-UUID: {job_uuid}\n")
            result = self.bgapi_handlers.get(first[6:])
            if result is not None:
                session.send(background_job(job_uuid, result))
        elif first == "exit":
            session.reply("+OK bye")
            session.send(DISCONNECT_GOODBYE)
            session.drop()
        else:
            session.reply("-ERR command not found")


DISCONNECT_GOODBYE = (
    b"Content-Type: text/disconnect-notice\nContent-Length: 67\n\n"
    b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
)


# Event names read without the decoder. A header may repeat inside one event (FreeSWITCH
# re-fires a COMMAND event as PRIVATE_COMMAND and appends the new headers to the old ones, see
# d1/i1); like a JSON decoder, the last occurrence wins.
_EVENT_NAME_PATTERNS = {
    b"text/event-plain": re.compile(rb"(?m)^Event-Name: ([A-Z_]+)$"),
    b"text/event-json": re.compile(rb'"Event-Name":"([A-Z_]+)"'),
    b"text/event-xml": re.compile(rb"<Event-Name>([A-Z_]+)</Event-Name>"),
}


def event_names_in(raw: bytes) -> list[str]:
    """Return the event names of a capture, read with regular expressions only."""
    names = []
    for piece in split_frames(raw):
        header, _, body = piece.partition(b"\n\n")
        content_type = re.search(rb"(?m)^Content-Type: (\S+)$", header)
        kind = content_type.group(1) if content_type else b""
        pattern = _EVENT_NAME_PATTERNS.get(kind)
        if pattern is not None:
            inner = body.partition(b"\n\n")[0] if kind == b"text/event-plain" else body
            names.append(pattern.findall(inner)[-1].decode())
    return names


def captured_frames(name: str, *, event_name: str | None = None) -> list[bytes]:
    """Return the frames of capture ``name``, optionally only the events called ``event_name``."""
    frames = split_frames(load_transcript(name).raw)
    if event_name is None:
        return frames
    marker = re.compile(
        rb"\n\n(?:Event-Subclass: [^\n]*\n)?Event-Name: " + event_name.encode() + rb"\n"
    )
    return [frame for frame in frames if marker.search(frame)]
