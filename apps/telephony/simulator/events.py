"""Simulated FreeSWITCH events: the header layout of every event and its lazy rendering.

How the header sets were derived from the captures
--------------------------------------------------
Every event in ``shared/fixtures/esl/*_plain.raw`` was split into its header runs; FreeSWITCH
always builds an event the same way, so one layout covers every event type::

    core headers        Event-Name .. Event-Sequence (13 headers, CUSTOM puts Event-Subclass first)
    "pre" headers       event specific, before the channel (Original-Channel-Call-State,
                        Bridge-A-Unique-ID, Hangup-Cause of CHANNEL_HANGUP_COMPLETE, ...)
    channel basic data  Channel-State .. Answer-State [, Hangup-Cause] [, six codec headers]
    caller profile      Caller-* (empty string fields are left out, as FreeSWITCH does)
    other leg           Other-Type + Other-Leg-* while the channel has an originator/originatee
    variables           variable_* for the "verbose" event types only (switch_channel.c list)
    "post" headers      event specific, after the channel (Application*, Playback-*, DTMF-*, ...)

The values of the fixed headers (``Event-Calling-*``, state numbers) are in
:mod:`.catalog`; the channel variables a sofia leg carries at each stage (creation, media,
answer, hangup report) are in :mod:`.channel`, copied name by name from the capture events of
the same stage. ``tests/telephony/simulator/test_rendering.py`` compares the header-name sets of
the simulator's CHANNEL_CREATE / CHANNEL_ANSWER / CHANNEL_HANGUP_COMPLETE with the captured
ones, so a drift shows up as a failing test. Deliberate omissions (documented there): the
vanilla dialplan's own variables (``RFC2822_DATE``, ``DP_MATCH``...), scenario-specific ones
(``fx_*``, ``read_*``, ``playback_*``), and the events the simulator never produces
(PRESENCE_IN, CODEC, PRIVATE_COMMAND, RE_SCHEDULE, CALL_UPDATE of re-INVITEs, MODULE_UNLOAD).

Events render lazily: an :class:`Event` keeps references to immutable :class:`Block` snapshots
and renders a format only when a subscriber of that format wants it, once for all of them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .catalog import CALLING
from .rendering import RENDERERS, Block, json_member, plain_line

if TYPE_CHECKING:
    from collections.abc import Sequence


class Event:
    """One fired event: its identity for routing plus the blocks that render it."""

    __slots__ = ("_frames", "blocks", "body", "name", "seq", "subclass", "unique_id")

    def __init__(
        self,
        name: str,
        seq: int,
        blocks: Sequence[Block],
        *,
        subclass: str | None = None,
        unique_id: str | None = None,
        body: str | None = None,
    ):
        self.name = name
        self.subclass = subclass
        self.seq = seq
        self.unique_id = unique_id
        self.blocks = blocks
        self.body = body
        self._frames: dict[str, bytes] = {}

    def frame(self, fmt: str) -> bytes:
        """Return the full socket frame of this event in ``fmt`` (plain, json or xml)."""
        frame = self._frames.get(fmt)
        if frame is None:
            frame = RENDERERS[fmt](self.blocks, self.body)
            self._frames[fmt] = frame
        return frame

    def freeze(self) -> None:
        """Snapshot parts that still point at live channel state (before delayed delivery)."""
        for block in self.blocks:
            freeze = getattr(block, "freeze", None)
            if freeze is not None:
                freeze()

    def header(self, name: str) -> str | None:
        """Return the first value of header ``name`` (case-insensitive), or None."""
        for block in self.blocks:
            value = block.get(name)
            if value is not None:
                return value
        return None

    def headers(self) -> list[tuple[str, str]]:
        """Return every header in order (the plain rendering's lines, unencoded)."""
        return [pair for block in self.blocks for pair in block.items()]


@dataclass(frozen=True)
class Identity:
    """The values FreeSWITCH stamps on every event."""

    core_uuid: str
    hostname: str
    switchname: str
    ipv4: str
    ipv6: str


class EventFactory:
    """Build events with FreeSWITCH's core headers and a strictly increasing Event-Sequence."""

    def __init__(self, identity: Identity, first_sequence: int = 1):
        self.identity = identity
        self._seq = first_sequence - 1
        self._prefix: dict[tuple[str, str | None], Block] = {}
        self._dates: tuple[int, Block] | None = None
        self._calling: dict[str, tuple[tuple[tuple[str, str], ...], str, str]] = {}

    def skip(self) -> None:
        """Use up one Event-Sequence for an event nobody subscribed to (FreeSWITCH counts it)."""
        self._seq += 1

    @property
    def last_sequence(self) -> int:
        """Return the Event-Sequence of the most recent event."""
        return self._seq

    def _prefix_block(self, name: str, subclass: str | None) -> Block:
        key = (name, subclass)
        block = self._prefix.get(key)
        if block is None:
            ident = self.identity
            pairs = [
                ("Event-Name", name),
                ("Core-UUID", ident.core_uuid),
                ("FreeSWITCH-Hostname", ident.hostname),
                ("FreeSWITCH-Switchname", ident.switchname),
                ("FreeSWITCH-IPv4", ident.ipv4),
                ("FreeSWITCH-IPv6", ident.ipv6),
            ]
            if subclass is not None:
                pairs.insert(0, ("Event-Subclass", subclass))
            block = Block(pairs)
            self._prefix[key] = block
        return block

    def _date_block(self, now: float) -> Block:
        second = int(now)
        cached = self._dates
        if cached is not None and cached[0] == second:
            return cached[1]
        local = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        gmt = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(second))
        block = Block((("Event-Date-Local", local), ("Event-Date-GMT", gmt)))
        self._dates = (second, block)
        return block

    def create(
        self,
        name: str,
        parts: Sequence[Block] = (),
        *,
        subclass: str | None = None,
        calling: str | None = None,
        unique_id: str | None = None,
        body: str | None = None,
        now: float | None = None,
    ) -> Event:
        """Return a new event named ``name`` whose headers follow the core headers in ``parts``.

        ``calling`` selects a variant of the Event-Calling-* triple in :data:`.catalog.CALLING`
        (e.g. ``"CALL_UPDATE/flip"``); by default the event name (or ``CUSTOM/<subclass>``).
        """
        if now is None:
            now = time.time()
        self._seq += 1
        seq = self._seq
        key = calling or (f"CUSTOM/{subclass}" if subclass else name)
        triple = self._calling.get(key)
        if triple is None:
            file, function, line = CALLING.get(key) or CALLING.get(name, ("", "", ""))
            pairs = (
                ("Event-Calling-File", file),
                ("Event-Calling-Function", function),
                ("Event-Calling-Line-Number", line),
            )
            triple = (
                pairs,
                "".join(plain_line(n, v) for n, v in pairs),
                "".join(json_member(n, v) for n, v in pairs),
            )
            self._calling[key] = triple
        pairs, calling_plain, calling_json = triple
        stamp, sequence = str(int(now * 1_000_000)), str(seq)
        # The only per-event core headers: rendered directly (digits need no encoding).
        tail = Block(
            (("Event-Date-Timestamp", stamp), *pairs, ("Event-Sequence", sequence)),
            plain=f"Event-Date-Timestamp: {stamp}\n{calling_plain}Event-Sequence: {sequence}\n",
            json=(f'"Event-Date-Timestamp":"{stamp}",{calling_json}"Event-Sequence":"{sequence}",'),
        )
        blocks = [self._prefix_block(name, subclass), self._date_block(now), tail, *parts]
        return Event(name, seq, blocks, subclass=subclass, unique_id=unique_id, body=body)
