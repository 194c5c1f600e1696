"""Incremental ESL frame parser working on bytes alone.

FreeSWITCH frames every message the same way (mod_event_socket): a header block of
``Name: value`` lines separated by ``\\n`` (never CRLF) and ended by an empty line, then exactly
``Content-Length`` body bytes when that header is present. Header order is not fixed.
Reads from the socket split frames arbitrarily and carry many frames at once, so the parser is
fed chunks and returns every frame completed so far.

Outer header values are returned as sent (not url-decoded); decoding is the job of
``messages.decode_frame`` because only some messages (the outbound ``connect`` reply) encode them.

Limits keep memory bounded on a hostile or broken peer: an unterminated header block longer than
``max_header_size`` and any ``Content-Length`` that is not a plain decimal number no larger than
``max_content_length`` raise ``ProtocolError``; after a ``ProtocolError`` the stream position is
unknown, so the caller must drop the connection (and may reconnect).
"""

from __future__ import annotations

import re
from itertools import repeat

from .errors import ProtocolError, TruncatedFrame

__all__ = [
    "DEFAULT_MAX_CONTENT_LENGTH",
    "DEFAULT_MAX_HEADER_SIZE",
    "Frame",
    "FrameParser",
    "parse_header_block",
]

DEFAULT_MAX_CONTENT_LENGTH = 8 * 1024 * 1024
# The largest real header block is the outbound ``connect`` reply (~146 lines, ~8 KB in f1);
# 64 KiB leaves room for long channel variables while bounding garbage.
DEFAULT_MAX_HEADER_SIZE = 64 * 1024

# Printable ASCII without space and colon: what FreeSWITCH uses for header names.
_NAME_RE = re.compile(r"[!-9;-~]+")
# Infinite iterators shared by every call (map stops at the shortest input).
_SEPARATOR = repeat(": ")
_ONCE = repeat(1)
_MAX_LENGTH_DIGITS = 12
# Event frames repeat a handful of short outer blocks ("Content-Length: N\nContent-Type:
# text/event-plain"), so parsed short blocks are memoised; long ones (replies with a Job-UUID)
# are parsed every time. The cache is cleared when full, which bounds it on any stream.
_SHORT_BLOCK = 64
_BLOCK_CACHE_SIZE = 4096
_block_cache: dict[bytes, dict[str, str]] = {}


class Frame:
    """Hold one ESL frame: its outer headers (raw values) and its body bytes."""

    __slots__ = ("body", "headers")

    def __init__(self, headers: dict[str, str], body: bytes = b"") -> None:
        self.headers = headers
        self.body = body

    @property
    def content_type(self) -> str | None:
        """Return the ``Content-Type`` header, or ``None`` when absent."""
        return self.headers.get("Content-Type")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        return self.headers == other.headers and self.body == other.body

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Frame(headers={self.headers!r}, body=<{len(self.body)} bytes>)"


def parse_header_block(block: bytes) -> dict[str, str]:
    """Parse an outer header block (without its terminating blank line) into a dict.

    Raises ``ProtocolError`` on non UTF-8 bytes or on a line that is not ``Name: value``.
    """
    try:
        lines = block.decode("utf-8").split("\n")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"header block is not UTF-8 text: {block[:64]!r}") from exc
    try:
        # Every line must split into exactly [name, value]; a line without ": " makes
        # dict() refuse its one-item list.
        headers = dict(map(str.split, lines, _SEPARATOR, _ONCE))
    except ValueError:
        return _parse_header_lines(block)
    # Names made only of allowed characters concatenate to a string of allowed characters.
    if "" in headers or not _NAME_RE.fullmatch("".join(headers)):
        return _parse_header_lines(block)
    return headers


def _outer_headers(block: bytes) -> dict[str, str]:
    if len(block) > _SHORT_BLOCK:
        return parse_header_block(block)
    headers = _block_cache.get(block)
    if headers is None:
        headers = parse_header_block(block)
        if len(_block_cache) >= _BLOCK_CACHE_SIZE:
            _block_cache.clear()
        _block_cache[block] = headers
    return headers.copy()  # callers own their frame's headers


def _parse_header_lines(block: bytes) -> dict[str, str]:
    """Parse line by line, tolerating ``Name:`` without a space, with precise errors."""
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"header block is not UTF-8 text: {block[:64]!r}") from exc
    headers: dict[str, str] = {}
    for line in text.split("\n"):
        name, sep, value = line.partition(": ")
        if not sep:
            # Tolerate "Name:" with an empty value (no space after the colon).
            if line.endswith(":") and _NAME_RE.fullmatch(line[:-1]):
                headers[line[:-1]] = ""
                continue
            raise ProtocolError(f"malformed header line: {line[:80]!r}")
        if not _NAME_RE.fullmatch(name):
            raise ProtocolError(f"malformed header name: {name[:80]!r}")
        headers[name] = value
    return headers


class FrameParser:
    """Split a byte stream into ESL frames; feed it chunks of any size.

    ``feed`` returns the frames completed by the chunk (possibly none, possibly many).
    ``feed_eof`` tells the parser the stream ended and raises ``TruncatedFrame`` if a frame
    was left incomplete. ``pending`` is the number of buffered bytes not yet framed.
    """

    __slots__ = (
        "_body_length",
        "_buffer",
        "_headers",
        "_max_content_length",
        "_max_header_size",
        "_scan_from",
    )

    def __init__(
        self,
        *,
        max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
        max_content_length: int = DEFAULT_MAX_CONTENT_LENGTH,
    ) -> None:
        if max_header_size <= 0 or max_content_length < 0:
            raise ValueError("limits must be positive")
        self._max_header_size = max_header_size
        self._max_content_length = max_content_length
        self._buffer = bytearray()
        self._scan_from = 0
        self._headers: dict[str, str] | None = None
        self._body_length = 0

    @property
    def pending(self) -> int:
        """Return how many received bytes are not yet part of a returned frame."""
        return len(self._buffer)

    @property
    def at_frame_boundary(self) -> bool:
        """Tell whether the stream could end here without truncating a frame."""
        return self._headers is None and not self._buffer.strip(b"\n")

    def reset(self) -> None:
        """Forget any buffered bytes (use before reading a new connection)."""
        self._buffer.clear()
        self._scan_from = 0
        self._headers = None
        self._body_length = 0

    def feed_eof(self) -> None:
        """Declare the end of the stream; raise ``TruncatedFrame`` if a frame is incomplete."""
        if self.at_frame_boundary:
            return
        if self._headers is not None:
            detail = (
                f"body has {len(self._buffer)} of {self._body_length} bytes "
                f"(Content-Type {self._headers.get('Content-Type')!r})"
            )
        else:
            detail = f"header block incomplete ({len(self._buffer)} bytes)"
        raise TruncatedFrame(f"stream ended mid-frame: {detail}")

    def feed(self, data: bytes) -> list[Frame]:
        """Add a chunk of the stream and return the frames it completes, in order."""
        buffer = self._buffer
        buffer += data
        size = len(buffer)
        headers = self._headers
        scan_from = self._scan_from
        # Fast exits for small reads that cannot complete a frame (e.g. one byte at a time).
        if headers is not None:
            if size < self._body_length:
                return []
        elif size <= self._max_header_size and buffer.find(b"\n\n", scan_from) < 0:
            self._scan_from = max(0, size - 1)
            return []
        frames: list[Frame] = []
        append = frames.append
        start = 0
        max_header_size = self._max_header_size
        # One memoryview per chunk: slicing it copies each header block and body only once.
        with memoryview(buffer) as view:
            while True:
                if headers is None:
                    # FreeSWITCH never sends blank lines between frames; skip them if a peer does.
                    while start < size and buffer[start] == 0x0A:
                        start += 1
                    end = buffer.find(b"\n\n", max(start, scan_from))
                    if end < 0:
                        if size - start > max_header_size:
                            raise ProtocolError(
                                f"header block exceeds {max_header_size} bytes without a blank line"
                            )
                        # Resume the search where a "\n\n" could still begin.
                        scan_from = max(start, size - 1)
                        break
                    if end - start > max_header_size:
                        raise ProtocolError(f"header block exceeds {max_header_size} bytes")
                    headers = _outer_headers(bytes(view[start:end]))
                    start = scan_from = end + 2
                    length_text = headers.get("Content-Length")
                    if length_text is None:
                        append(Frame(headers))
                        headers = None
                        continue
                    self._body_length = self._content_length(length_text)
                needed = self._body_length
                if size - start < needed:
                    break
                append(Frame(headers, bytes(view[start : start + needed])))
                start = scan_from = start + needed
                headers = None
        self._headers = headers
        if start:
            del buffer[:start]
            scan_from = max(0, scan_from - start)
        self._scan_from = scan_from
        return frames

    def _content_length(self, text: str) -> int:
        if not (text.isascii() and text.isdigit() and len(text) <= _MAX_LENGTH_DIGITS):
            raise ProtocolError(f"invalid Content-Length: {text[:40]!r}")
        length = int(text)
        if length > self._max_content_length:
            raise ProtocolError(
                f"Content-Length {length} exceeds the limit of {self._max_content_length} bytes"
            )
        return length
