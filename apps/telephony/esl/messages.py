"""Decode ESL frames into typed messages and events.

``decode_frame`` turns a ``Frame`` into one of: ``AuthRequest``, ``CommandReply``,
``ApiResponse``, ``Event`` (plain, json or xml), ``DisconnectNotice``, ``LogData``,
``RudeRejection`` or ``UnknownMessage``.

Plain events are framed twice: the outer body is itself a header block, url-encoded value by
value, optionally followed by its own ``Content-Length`` body (BACKGROUND_JOB results, the SIP
INFO payload of RECV_INFO with CRLFs). The header block is split into lines *before* any value is
url-decoded, so values that decode to several lines (SDP in ``variable_switch_r_sdp``) stay whole.

A header can repeat inside one event: FreeSWITCH re-fires a COMMAND event as PRIVATE_COMMAND
with a second ``Event-Name``, ``Event-Sequence``, ``Event-Date-*`` ... and the channel's headers
appended to the old block (d1, i1 captures). The last occurrence wins, as in any JSON
decoder, so plain and json subscribers see the same values (``Event-Name: PRIVATE_COMMAND``,
the later sequence).

Speed: events are decoded on the socket reader's path, so the plain decoder avoids per-header
Python work. FreeSWITCH url-encodes every value of a plain event (``switch_url_encode`` escapes
space, ``:``, ``%``, ``\\``, quotes and control characters), so in a well-formed block the only raw
``:`` and space are the ``": "`` after each name and every ``"\n"`` ends a line. One
``bytes.translate`` turns ``:`` and ``"\n"`` into NUL and deletes the spaces (NUL cannot occur in a
value: FreeSWITCH values are C strings), the ``%XX`` escapes are decoded in one C call
(``codecs.escape_decode`` after turning ``%`` into ``\\x``), and a single ``split`` yields
alternating names and values. Line structure is fixed before decoding, exactly as with a
line-by-line decoder. The counts prove the shape: one deleted space per line, and two parts per
line; a block that breaks them (a raw space or colon in a value, a malformed escape) is decoded by
the straightforward line-by-line path, which gives the same result for well-formed input.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote
from xml.etree import ElementTree

import orjson

from .errors import MessageDecodeError
from .frames import Frame

__all__ = [
    "ApiResponse",
    "AuthRequest",
    "CommandReply",
    "DisconnectNotice",
    "Event",
    "LogData",
    "Message",
    "RudeRejection",
    "UnknownMessage",
    "decode_frame",
    "decode_plain_headers",
    "parse_json_event",
    "parse_plain_event",
    "parse_xml_event",
]

_escape_decode = codecs.escape_decode  # type: ignore[attr-defined]

# ":" and "\n" become NUL in one pass (see the module docstring).
_SEPARATORS_TO_NUL = bytes.maketrans(b":\n", b"\0\0")

_STRING_TYPE = frozenset({str})

ARRAY_PREFIX = "ARRAY::"
ARRAY_SEPARATOR = "|:"


class Event:
    """Hold one FreeSWITCH event: decoded headers, optional body, and typed accessors.

    ``headers`` maps header names to decoded string values for every wire format (JSON array
    values are rendered as FreeSWITCH renders them in plain events, ``ARRAY::a|:b``; use
    ``get_array``). ``body`` is the event's own body (e.g. the BACKGROUND_JOB result) or ``None``.
    """

    __slots__ = ("_variables", "body", "headers", "wire_format")

    def __init__(
        self, headers: dict[str, str], body: str | None = None, wire_format: str = "plain"
    ) -> None:
        self.headers = headers
        self.body = body
        self.wire_format = wire_format
        self._variables: dict[str, str] | None = None

    @property
    def name(self) -> str:
        """Return ``Event-Name`` (``CUSTOM`` for custom events; see ``subclass``)."""
        return self.headers.get("Event-Name", "")

    @property
    def subclass(self) -> str | None:
        """Return ``Event-Subclass`` (e.g. ``callcenter::info``) or ``None``."""
        return self.headers.get("Event-Subclass")

    @property
    def routing_key(self) -> str:
        """Return the subclass for CUSTOM events, the event name otherwise."""
        headers = self.headers
        name = headers.get("Event-Name", "")
        if name == "CUSTOM":
            return headers.get("Event-Subclass") or name
        return name

    @property
    def unique_id(self) -> str | None:
        """Return the channel ``Unique-ID`` or ``None`` for non-channel events."""
        return self.headers.get("Unique-ID")

    @property
    def sequence(self) -> int | None:
        """Return ``Event-Sequence`` as an int (events can arrive out of sequence order)."""
        value = self.headers.get("Event-Sequence")
        return int(value) if value else None

    @property
    def timestamp(self) -> int | None:
        """Return ``Event-Date-Timestamp`` in microseconds since the epoch."""
        value = self.headers.get("Event-Date-Timestamp")
        return int(value) if value else None

    @property
    def job_uuid(self) -> str | None:
        """Return ``Job-UUID`` (BACKGROUND_JOB events) or ``None``."""
        return self.headers.get("Job-UUID")

    @property
    def variables(self) -> dict[str, str]:
        """Return the channel variables (``variable_*`` headers) without their prefix."""
        variables = self._variables
        if variables is None:
            variables = {
                key[9:]: value for key, value in self.headers.items() if key.startswith("variable_")
            }
            self._variables = variables
        return variables

    def get(self, name: str, default: str | None = None) -> str | None:
        """Return a header value or ``default``."""
        return self.headers.get(name, default)

    def get_array(self, name: str) -> list[str]:
        """Return a header as a list: ``ARRAY::a|:b`` gives ``[a, b]``, a plain value ``[v]``."""
        value = self.headers.get(name)
        if value is None:
            return []
        if value.startswith(ARRAY_PREFIX):
            return value[len(ARRAY_PREFIX) :].split(ARRAY_SEPARATOR)
        return [value]

    def __getitem__(self, name: str) -> str:
        return self.headers[name]

    def __contains__(self, name: object) -> bool:
        return name in self.headers

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return self.headers == other.headers and self.body == other.body

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Event({self.routing_key!r}, sequence={self.sequence!r}, "
            f"unique_id={self.unique_id!r}, format={self.wire_format!r})"
        )


@dataclass(frozen=True, slots=True, eq=True)
class AuthRequest:
    """Greeting of an inbound connection: FreeSWITCH waits for ``auth <password>``."""


@dataclass(frozen=True, slots=True)
class CommandReply:
    """Reply to a non-``api`` command (``auth``, ``event``, ``bgapi``, ``filter``, ...).

    ``channel`` is set only for the outbound-mode ``connect`` reply, whose header block carries
    the whole channel (url-encoded, like a plain event) and a url-encoded ``Reply-Text``.
    """

    reply_text: str
    headers: dict[str, str] = field(repr=False)
    channel: Event | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """Tell whether FreeSWITCH accepted the command (``+OK``)."""
        return self.reply_text.startswith("+OK")

    @property
    def job_uuid(self) -> str | None:
        """Return the ``Job-UUID`` header of a ``bgapi`` acknowledgement."""
        return self.headers.get("Job-UUID")


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """Result of ``api <command>``: the command output, exactly as sent (newline or not)."""

    body: str


@dataclass(frozen=True, slots=True)
class DisconnectNotice:
    """``text/disconnect-notice``: FreeSWITCH is closing (or lingering on) the connection."""

    body: str
    headers: dict[str, str] = field(repr=False)

    @property
    def disposition(self) -> str | None:
        """Return ``Content-Disposition`` (``linger``, ``disconnect``) or ``None``."""
        return self.headers.get("Content-Disposition")

    @property
    def is_linger(self) -> bool:
        """Tell whether the socket stays open after the hangup (outbound ``linger``)."""
        return self.headers.get("Content-Disposition") == "linger"

    @property
    def linger_time(self) -> int | None:
        """Return ``Linger-Time`` in seconds (``-1`` = until the client closes) or ``None``."""
        value = self.headers.get("Linger-Time")
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    @property
    def controlled_session_uuid(self) -> str | None:
        """Return the channel uuid of an outbound-mode session, if any."""
        return self.headers.get("Controlled-Session-UUID")


@dataclass(frozen=True, slots=True)
class LogData:
    """``log/data`` frame: one FreeSWITCH log line (after ``log <level>``)."""

    text: str
    headers: dict[str, str] = field(repr=False)

    @property
    def level(self) -> int | None:
        """Return ``Log-Level`` (0 console .. 7 debug) or ``None``."""
        value = self.headers.get("Log-Level")
        return int(value) if value and value.isdigit() else None


@dataclass(frozen=True, slots=True)
class RudeRejection:
    """``text/rude-rejection``: the event socket ACL refused this client."""

    body: str


@dataclass(frozen=True, slots=True)
class UnknownMessage:
    """A frame with a content type this module does not know; kept for logging."""

    frame: Frame


Message = (
    AuthRequest
    | CommandReply
    | ApiResponse
    | Event
    | DisconnectNotice
    | LogData
    | RudeRejection
    | UnknownMessage
)


def _decode_plain_headers_slow(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").split("\n"):
        name, sep, value = line.partition(": ")
        if not sep:
            if line.endswith(":"):
                headers[line[:-1]] = ""
                continue
            if not line:
                continue
            raise MessageDecodeError(f"malformed event header line: {line[:80]!r}")
        headers[name] = unquote(value) if "%" in value else value
    return headers


def decode_plain_headers(block: bytes) -> dict[str, str]:
    """Decode a url-encoded ``Name: value`` block (no trailing blank line) into a dict."""
    if not block:
        return {}
    headers = _decode_terminated_block(block + b"\n\n")
    if headers is None:
        return _decode_plain_headers_slow(block)
    return headers


def _decode_terminated_block(data: bytes) -> dict[str, str] | None:
    """Decode ``block + b"\\n\\n"`` in bulk, or return ``None`` if the block is irregular.

    Regular means: every line is ``name: value`` with exactly one raw colon and one raw space,
    which is what FreeSWITCH's plain serializer produces.
    """
    lines = data.count(b"\n") - 1
    joined = data.translate(_SEPARATORS_TO_NUL, b" ")
    if len(data) - len(joined) != lines:  # not exactly one space per line
        return None
    if b"%" in joined:
        if b"\\" in joined:
            joined = joined.replace(b"\\", b"\\\\")
        try:
            joined = _escape_decode(joined.replace(b"%", b"\\x"))[0]
        except ValueError:  # a "%" not followed by two hex digits
            return None
    parts = joined.decode("utf-8", "replace").split("\0")
    # Two parts per line plus the two empty strings of the terminating blank line.
    if len(parts) != 2 * lines + 2:
        return None
    del parts[-2:]
    pairs = iter(parts)
    return dict(zip(pairs, pairs, strict=False))


def _inner_body(headers: dict[str, str], rest: bytes) -> str | None:
    length_text = headers.get("Content-Length")
    if length_text is None:
        return None
    if not length_text.isdigit():
        raise MessageDecodeError(f"invalid inner Content-Length: {length_text!r}")
    length = int(length_text)
    if len(rest) < length:
        raise MessageDecodeError(f"inner body has {len(rest)} of {length} bytes")
    return rest[:length].decode("utf-8", "replace")


def parse_plain_event(data: bytes) -> Event:
    """Decode the body of a ``text/event-plain`` frame."""
    if data.endswith(b"\n\n"):
        # Common case: no inner body, the block runs to the end. An inner body is announced by
        # an inner Content-Length (always the block's last line), which sends us the long way.
        headers = _decode_terminated_block(data)
        if headers is not None and "Content-Length" not in headers:
            return Event(headers, None, "plain")
    end = data.find(b"\n\n")
    if end < 0:
        return Event(decode_plain_headers(data.rstrip(b"\n")), None, "plain")
    headers = decode_plain_headers(data[:end])
    if "Content-Length" in headers:
        return Event(headers, _inner_body(headers, data[end + 2 :]), "plain")
    return Event(headers, None, "plain")


def _json_value(value: object) -> str:
    if isinstance(value, list):
        return ARRAY_PREFIX + ARRAY_SEPARATOR.join(_json_value(item) for item in value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_json_event(data: bytes) -> Event:
    """Decode the body of a ``text/event-json`` frame (``_body`` becomes ``Event.body``)."""
    try:
        # orjson: events carry every channel variable (5-8 KB) and it decodes them about three
        # times as fast as json.loads, on the reader's path.
        obj = orjson.loads(data)
    except orjson.JSONDecodeError:
        try:  # the standard decoder's message says where the document is broken
            obj = json.loads(data)
        except ValueError as exc:
            raise MessageDecodeError(f"invalid JSON event: {exc}") from exc
    if not isinstance(obj, dict):
        raise MessageDecodeError("JSON event is not an object")
    body = obj.pop("_body", None)
    # FreeSWITCH sends strings, and lists for ARRAY headers; render anything else as text.
    if set(map(type, obj.values())) - _STRING_TYPE:
        for key, value in obj.items():
            if value.__class__ is not str:
                obj[key] = _json_value(value)
    return Event(obj, None if body is None else _json_value(body), "json")


def parse_xml_event(data: bytes) -> Event:
    """Decode the body of a ``text/event-xml`` frame (values are url-encoded XML text)."""
    try:
        # The peer is our own FreeSWITCH on a trusted link, and expat (>= 2.4.1) bounds
        # entity expansion; defusedxml would add a dependency for no practical gain.
        root = ElementTree.fromstring(data)  # noqa: S314
    except ElementTree.ParseError as exc:
        raise MessageDecodeError(f"invalid XML event: {exc}") from exc
    headers: dict[str, str] = {}
    container = root.find("headers")
    for element in container if container is not None else ():
        text = element.text or ""
        headers[element.tag] = unquote(text) if "%" in text else text
    body_element = root.find("body")
    body = None
    if body_element is not None:
        body = body_element.text or ""
    return Event(headers, body, "xml")


def _decode_command_reply(frame: Frame) -> CommandReply:
    headers = frame.headers
    if "Event-Name" in headers or "Unique-ID" in headers:
        # Outbound ``connect`` reply: the whole block is url-encoded like a plain event.
        decoded = {name: unquote(value) for name, value in headers.items()}
        return CommandReply(
            decoded.get("Reply-Text", "").rstrip("\n"),
            decoded,
            Event(decoded, None, "plain"),
        )
    return CommandReply(headers.get("Reply-Text", ""), headers)


def _text(frame: Frame) -> str:
    return frame.body.decode("utf-8", "replace")


_DECODERS: dict[str, Callable[[Frame], Message]] = {
    "text/event-plain": lambda frame: parse_plain_event(frame.body),
    "text/event-json": lambda frame: parse_json_event(frame.body),
    "text/event-xml": lambda frame: parse_xml_event(frame.body),
    "command/reply": _decode_command_reply,
    "api/response": lambda frame: ApiResponse(_text(frame)),
    "auth/request": lambda frame: AuthRequest(),
    "text/disconnect-notice": lambda frame: DisconnectNotice(_text(frame), frame.headers),
    "log/data": lambda frame: LogData(_text(frame), frame.headers),
    "text/rude-rejection": lambda frame: RudeRejection(_text(frame)),
}


def decode_frame(frame: Frame) -> Message:
    """Decode a frame into its typed message; raise ``MessageDecodeError`` on a bad payload."""
    decoder = _DECODERS.get(frame.headers.get("Content-Type", ""))
    if decoder is None:
        return UnknownMessage(frame)
    return decoder(frame)
