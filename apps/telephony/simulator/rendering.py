"""Header rendering exactly as FreeSWITCH serialises events on the Event Socket.

Three wire formats exist for an event body:

* ``plain``: ``Name: value\\n`` lines whose values go through FreeSWITCH's
  ``switch_url_encode`` (see :func:`url_encode`), then a blank line, or an inner
  ``Content-Length`` header plus the raw body.
* ``json``: a compact object (no spaces) with string values, unencoded; the body is the
  ``_body`` member and its length the string member ``Content-Length``.
* ``xml``: ``<event><headers><Name>url-encoded value</Name>...`` as ``switch_event_xmlize``
  writes it.

A :class:`Block` is an immutable run of headers that renders (and caches) its plain and json
text once, so a channel's large, rarely changing parts (caller profile, channel variables) are
encoded once and reused by every event that carries them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from xml.sax.saxutils import escape as xml_escape

import orjson

# switch_utils.h: SWITCH_URL_UNSAFE. Bytes below 0x20 and above 0x7e are encoded too.
_URL_UNSAFE = '\r\n #%&+:;<=>?@[\\]^`{|}"'
# switch_url_encode keeps an existing escape, but only with UPPER-case hex digits.
_UPPER_HEX = frozenset("0123456789ABCDEF")
_NEEDS_ENCODING = re.compile(r"[^\x21-\x7e]|[\"#%&+:;<=>?@\[\\\]^`{|}]")
_ASCII_TABLE = {code: f"%{code:02X}" for code in range(0x20)}
_ASCII_TABLE.update({ord(ch): f"%{ord(ch):02X}" for ch in _URL_UNSAFE})
_ASCII_TABLE[0x7F] = "%7F"

json_string = json.encoder.encode_basestring  # type: ignore[attr-defined]


@lru_cache(maxsize=131072)
def url_encode(value: str) -> str:
    """Encode a header value the way FreeSWITCH's ``switch_url_encode`` does.

    Unreserved by FreeSWITCH (and therefore left alone): letters, digits and
    ``!$'()*,-./_~``; an existing ``%XX`` escape with upper-case hex digits is kept as is.
    """
    if not _NEEDS_ENCODING.search(value):
        return value
    if value.isascii() and "%" not in value:
        return value.translate(_ASCII_TABLE)
    raw = value.encode("utf-8")
    out: list[str] = []
    size = len(raw)
    for index, byte in enumerate(raw):
        if (
            byte == 0x25
            and index + 2 < size
            and chr(raw[index + 1]) in _UPPER_HEX
            and chr(raw[index + 2]) in _UPPER_HEX
        ):
            out.append("%")
        elif byte < 0x20 or byte > 0x7E or chr(byte) in _URL_UNSAFE:
            out.append(f"%{byte:02X}")
        else:
            out.append(chr(byte))
    return "".join(out)


def plain_line(name: str, value: str) -> str:
    """Return one ``Name: url-encoded value`` line."""
    return f"{name}: {url_encode(value)}\n"


def json_member(name: str, value: str) -> str:
    """Return one ``"name":"value",`` json object member."""
    return f"{json_string(name)}:{json_string(value)},"


def json_members(pairs: Iterable[tuple[str, str]]) -> str:
    """Return the pairs as ``json_member`` does, each member followed by a comma.

    orjson writes a member about ten times as fast as ``json_member`` and escapes every
    character exactly as ``encode_basestring`` does (non-ASCII kept, control characters as
    ``\\uXXXX`` except the short escapes); a repeated name (one dict key) or a string orjson
    refuses (a lone surrogate) takes the member-by-member path.
    """
    pairs = pairs if isinstance(pairs, tuple | list) else list(pairs)
    members = dict(pairs)
    if len(members) == len(pairs):
        text = _orjson_members(members)
        if text is not None:
            return text
    return "".join([json_member(name, value) for name, value in pairs])


def json_mapping_members(mapping: Mapping[str, str], prefix: str = "") -> str:
    """Return ``mapping``'s items as json members with ``prefix`` before every name."""
    members = {prefix + name: value for name, value in mapping.items()} if prefix else mapping
    text = _orjson_members(members)
    if text is None:
        return "".join([json_member(prefix + name, value) for name, value in mapping.items()])
    return text


def _orjson_members(members: Mapping[str, str]) -> str | None:
    if not members:
        return ""
    try:
        text = orjson.dumps(members).decode()
    except (orjson.JSONEncodeError, TypeError):
        return None
    return text[1:-1] + ","


# Most channel variables hold the same values on every call (codecs, profile names, zeroed
# RTP counters): their rendered lines are shared through this cache.
cached_plain_line = lru_cache(maxsize=65536)(plain_line)


class Block:
    """An ordered run of ``(name, value)`` headers that renders once per format.

    ``prefix`` is prepended to every name (``variable_``) so channels can hand over their
    variable dict items without copying names. ``plain``/``json`` may be given pre-rendered.
    """

    __slots__ = ("_json", "_json_skip", "_plain", "pairs", "prefix")

    def __init__(
        self,
        pairs: Iterable[tuple[str, str]],
        json_skip: frozenset[str] = frozenset(),
        *,
        prefix: str = "",
        plain: str | None = None,
        json: str | None = None,
    ):
        self.pairs: tuple[tuple[str, str], ...] = tuple(pairs)
        self.prefix = prefix
        self._plain = plain
        self._json = json
        # FreeSWITCH's json serialiser keeps one member per name where plain repeats a header
        # (CHANNEL_HANGUP_COMPLETE carries Hangup-Cause twice); the repeat is skipped here.
        self._json_skip = json_skip

    def items(self) -> Iterable[tuple[str, str]]:
        """Return the headers with their full names."""
        prefix = self.prefix
        if not prefix:
            return self.pairs
        return [(prefix + name, value) for name, value in self.pairs]

    def plain(self) -> str:
        """Return the block as url-encoded ``Name: value`` lines."""
        if self._plain is None:
            self._plain = "".join([plain_line(name, value) for name, value in self.items()])
        return self._plain

    def json(self) -> str:
        """Return the block as json object members, each followed by a comma."""
        if self._json is None:
            skip = self._json_skip
            items = self.items()
            self._json = json_members(
                [pair for pair in items if pair[0] not in skip] if skip else items
            )
        return self._json

    def get(self, name: str) -> str | None:
        """Return the first value of header ``name`` (case-insensitive), or None."""
        lowered = name.lower()
        for header, value in self.items():
            if header.lower() == lowered:
                return value
        return None


def render_plain(blocks: Iterable[Block], body: str | None) -> bytes:
    """Return the complete ``text/event-plain`` frame (outer headers included)."""
    text = "".join([block.plain() for block in blocks])
    if body:
        body_bytes = body.encode("utf-8")
        inner = (
            text.encode("utf-8") + f"Content-Length: {len(body_bytes)}\n\n".encode() + body_bytes
        )
    else:
        inner = (text + "\n").encode("utf-8")
    return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(inner) + inner


def render_json(blocks: Iterable[Block], body: str | None) -> bytes:
    """Return the complete ``text/event-json`` frame (outer headers included)."""
    members = "".join([block.json() for block in blocks])
    if body:
        length = len(body.encode("utf-8"))
        members += f'"Content-Length":"{length}","_body":{json_string(body)},'
    inner = ("{" + members[:-1] + "}").encode("utf-8")
    return b"Content-Length: %d\nContent-Type: text/event-json\n\n" % len(inner) + inner


def render_xml(blocks: Iterable[Block], body: str | None) -> bytes:
    """Return the complete ``text/event-xml`` frame (outer headers included)."""
    lines = ["<event>\n  <headers>\n"]
    for block in blocks:
        for name, value in block.items():
            lines.append(f"    <{name}>{xml_escape(url_encode(value))}</{name}>\n")
    lines.append("  </headers>\n")
    if body:
        length = len(body.encode("utf-8"))
        lines.insert(-1, f"    <Content-Length>{length}</Content-Length>\n")
        lines.append(f"  <body>{xml_escape(body)}</body>\n")
    lines.append("</event>\n")
    inner = "".join(lines).encode("utf-8")
    return b"Content-Length: %d\nContent-Type: text/event-xml\n\n" % len(inner) + inner


RENDERERS = {"plain": render_plain, "json": render_json, "xml": render_xml}
