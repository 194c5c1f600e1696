"""A simulated FreeSWITCH channel: state, caller profile, variables and their rendering.

The channel variables a sofia leg carries are added in the stages FreeSWITCH adds them
(checked against ``c1``/``d1``/``i1`` captures, variable by variable):

* creation: :func:`inbound_create_vars` (an INVITE arrived) or :func:`outbound_create_vars`
  (FreeSWITCH is about to send one);
* ``180 Ringing`` on an outbound leg: :func:`outbound_progress_vars`;
* media negotiated: :func:`media_vars`;
* answered: :func:`inbound_answer_vars` / ``endpoint_disposition=ANSWER``;
* hangup report (CHANNEL_HANGUP_COMPLETE): :meth:`Channel.set_cdr_vars` and
  :func:`rtp_stat_vars`.

Setting a variable moves it to the end of the list, like ``switch_channel_set_variable``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from itertools import islice
from typing import TYPE_CHECKING, Any

from .catalog import Q850, STATE_NUMBER
from .rendering import Block, cached_plain_line, json_mapping_members, plain_line

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

    from .directory import Endpoint

CODEC_BLOCK = Block(
    (
        ("Channel-Read-Codec-Name", "PCMA"),
        ("Channel-Read-Codec-Rate", "8000"),
        ("Channel-Read-Codec-Bit-Rate", "64000"),
        ("Channel-Write-Codec-Name", "PCMA"),
        ("Channel-Write-Codec-Rate", "8000"),
        ("Channel-Write-Codec-Bit-Rate", "64000"),
    )
)

# Caller-profile string fields in FreeSWITCH's order (switch_caller_profile_event_set_data).
_PROFILE_STRINGS = (
    ("direction", "Direction"),
    ("logical_direction", "Logical-Direction"),
    ("username", "Username"),
    ("dialplan", "Dialplan"),
    ("caller_id_name", "Caller-ID-Name"),
    ("caller_id_number", "Caller-ID-Number"),
    ("orig_caller_id_name", "Orig-Caller-ID-Name"),
    ("orig_caller_id_number", "Orig-Caller-ID-Number"),
    ("callee_id_name", "Callee-ID-Name"),
    ("callee_id_number", "Callee-ID-Number"),
    ("network_addr", "Network-Addr"),
    ("ani", "ANI"),
    ("destination_number", "Destination-Number"),
    ("unique_id", "Unique-ID"),
    ("source", "Source"),
    ("transfer_source", "Transfer-Source"),
    ("context", "Context"),
    ("rdnis", "RDNIS"),
    ("channel_name", "Channel-Name"),
)


@dataclass
class CallerProfile:
    """The caller profile FreeSWITCH keeps per channel (a new one after each transfer)."""

    direction: str
    logical_direction: str
    caller_id_name: str
    caller_id_number: str
    destination_number: str
    unique_id: str
    source: str
    channel_name: str
    context: str = "default"
    dialplan: str = "XML"
    username: str = ""
    orig_caller_id_name: str = ""
    orig_caller_id_number: str = ""
    callee_id_name: str = ""
    callee_id_number: str = ""
    network_addr: str = ""
    ani: str = ""
    transfer_source: str = ""
    rdnis: str = ""
    index: int = 1
    created_us: int = 0

    def copy(self, **changes: Any) -> CallerProfile:
        """Return a copy with ``changes`` applied."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return CallerProfile(**values)


@dataclass
class Times:
    """The channel timetable FreeSWITCH reports as Caller-Channel-*-Time (microseconds)."""

    created: int = 0
    answered: int = 0
    progress: int = 0
    progress_media: int = 0
    hangup: int = 0
    transfer: int = 0
    resurrect: int = 0
    bridged: int = 0
    last_hold: int = 0
    hold_accum: int = 0


@dataclass
class AppRun:
    """The dialplan application a channel is executing."""

    name: str
    data: str | None
    app_uuid: str | None
    # Emits the application's own stop events (PLAYBACK_STOP, UNPARK...) when interrupted.
    on_interrupt: Any = None
    completed: bool = False
    # The application this one runs on top of (sendmsg execute while parked).
    previous: AppRun | None = None


@dataclass
class Recording:
    """An active ``uuid_record``/``record_session`` media bug."""

    path: str
    started_us: int
    masked: bool = False
    paused_us: int = 0
    paused_at: int = 0


def now_us() -> int:
    """Return the wall clock in microseconds, FreeSWITCH's event time unit."""
    return int(time.time() * 1_000_000)


class Channel:
    """One leg of a call with everything FreeSWITCH reports about it."""

    def __init__(
        self,
        uuid: str,
        name: str,
        direction: str,
        *,
        profile: CallerProfile,
        created_us: int,
        session_id: int,
    ):
        self.uuid = uuid
        self.name = name
        self.direction = direction
        self.session_id = session_id
        self.profile = profile
        self.initial_profile = profile
        self.times = Times(created=created_us)
        profile.created_us = created_us
        self.state = "CS_NEW"
        self.state_number = 0
        self.callstate = "DOWN"
        self.answer_state = "ringing"
        self.hangup_cause: str | None = None
        self.hit_dialplan = direction == "inbound"
        self.presence_id = ""
        self.call_uuid = uuid
        self.media = False
        self.vars: dict[str, str] = {}
        # other leg: ("originator" | "originatee", channel)
        self.other: tuple[str, Channel] | None = None
        self.partner: Channel | None = None
        self.bridge_originator = False
        self.bridge_kind = ""  # "bridge" (the app) or "uuid_bridge"
        self.app: AppRun | None = None
        self.parked = False
        self.held = False
        self.hold_started = 0
        self.hold_events: list[tuple[int, int]] = []
        self.recordings: dict[str, Recording] = {}
        self.digits_dialed = ""
        self.dtmf_queue: list[str] = []
        self.dtmf_waiter: asyncio.Future[None] | None = None
        self.task: asyncio.Task[None] | None = None
        self.endpoint: Endpoint | None = None
        self.hangup_disposition = "send_bye"
        self.last_app: tuple[str, str | None] | None = None
        self.talk_time: float | None = None
        self.patience: float | None = None
        self.planned_digits = ""
        self.alive = True
        self.bridge_done: asyncio.Future[str] | None = None
        self._init_media_state()
        self._vars_block: Block | None = None
        # Rendered plain variable lines in variable order (see render_vars).
        self._var_lines: dict[str, str] = {}
        # The variables under their header names (variable_*), in the same order: what the
        # json rendering encodes in one call.
        self._var_headers: dict[str, str] = {}
        self.vars_version = 0
        self._line_memo: dict[str, tuple[str, str]] = {}
        self._profile_block: Block | None = None
        self._other_pairs: tuple[tuple[str, str], ...] | None = None
        self._other_blocks: dict[str, Block] = {}
        self.identity_plain = "".join(
            plain_line(header, value)
            for header, value in (
                ("Channel-Name", name),
                ("Unique-ID", uuid),
                ("Call-Direction", direction),
                ("Presence-Call-Direction", direction),
            )
        )

    def _init_media_state(self) -> None:
        """Initialise what applications and media bugs keep on the channel."""
        self.eavesdroppers: list[Channel] = []
        self.eavesdrop_done: asyncio.Future[str] | None = None
        # Playbacks on top of the running application (hold music, uuid_broadcast).
        self.overlays: list[AppRun] = []
        self.hold_music: AppRun | None = None
        # Set while an outbound leg rings; resolved with "ANSWER" or a hangup cause.
        self.ring_outcome: asyncio.Future[str] | None = None
        # Called with each digit while an application reads DTMF.
        self.dtmf_reader: Callable[[str], None] | None = None
        self.sip_party: SipParty | None = None

    # ----------------------------------------------------------------- variables
    def set_var(self, name: str, value: str | None) -> None:
        """Set (or with None/empty, unset) a channel variable, moving it to the end."""
        variables = self.vars
        headers = self._var_headers
        header = "variable_" + name
        variables.pop(name, None)
        headers.pop(header, None)
        if value is not None and value != "":
            variables[name] = value
            headers[header] = value
        self._var_lines.pop(name, None)
        self._vars_block = None
        self.vars_version += 1

    def set_vars(self, pairs: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> None:
        """Set several variables in order (one invalidation for the batch)."""
        variables = self.vars
        plain = self._var_lines
        headers = self._var_headers
        for name, value in pairs:
            header = "variable_" + name
            variables.pop(name, None)
            headers.pop(header, None)
            plain.pop(name, None)
            if value:
                variables[name] = value
                headers[header] = value
        self._vars_block = None
        self.vars_version += 1

    def unset_var(self, name: str) -> None:
        """Remove a channel variable."""
        if name in self.vars:
            self.set_var(name, None)

    def vars_block(self) -> Block:
        """Return the variable_* headers as a block (one per variables version)."""
        block = self._vars_block
        if block is None:
            block = VarsBlock(self)
            self._vars_block = block
        return block

    def render_vars(self, fmt: str) -> str:
        """Render the variables in ``fmt`` (``plain`` or ``json``).

        json: the whole object in one orjson call (faster than reusing cached lines). plain:
        only the lines of variables set since the last render are url-encoded. A variable set
        moves to the end and loses its rendered line, so the lines missing from the cache are
        always the newest variables: a suffix of the order.
        """
        if fmt == "json":
            return json_mapping_members(self._var_headers)
        variables = self.vars
        cache = self._var_lines
        missing = len(variables) - len(cache)
        if missing:
            names = list(islice(reversed(variables), missing))
            # Re-setting a variable to its old value (FreeSWITCH does it a lot) moves it but
            # does not need a new line.
            memo = self._line_memo
            for name in reversed(names):
                value = variables[name]
                known = memo.get(name)
                if known is not None and known[0] == value:
                    line = known[1]
                else:
                    line = cached_plain_line("variable_" + name, value)
                    memo[name] = (value, line)
                cache[name] = line
        return "".join(cache.values())

    # ----------------------------------------------------------------- profile
    def touch_profile(self) -> None:
        """Invalidate the rendered caller profile after a change."""
        self._profile_block = None
        self._other_pairs = None
        self._other_blocks = {}

    def set_profile(self, profile: CallerProfile) -> None:
        """Replace the caller profile (e.g. after a transfer)."""
        self.profile = profile
        self.touch_profile()

    def _profile_pairs(self, prefix: str, with_index: bool) -> list[tuple[str, str]]:
        profile = self.profile
        # The Other-Leg-* copy of a profile has no Transfer-Source (i1 CALL_UPDATE).
        skip = "transfer_source" if not with_index else ""
        pairs = [
            (prefix + header, value)
            for attr, header in _PROFILE_STRINGS
            if attr != skip and (value := getattr(profile, attr))
        ]
        times = self.times
        if with_index:
            pairs.append((prefix + "Profile-Index", str(profile.index)))
        pairs.extend(
            (
                (prefix + "Profile-Created-Time", str(profile.created_us)),
                (prefix + "Channel-Created-Time", str(times.created)),
                (prefix + "Channel-Answered-Time", str(times.answered)),
                (prefix + "Channel-Progress-Time", str(times.progress)),
                (prefix + "Channel-Progress-Media-Time", str(times.progress_media)),
                (prefix + "Channel-Hangup-Time", str(times.hangup)),
                (prefix + "Channel-Transfer-Time", str(times.transfer)),
                (prefix + "Channel-Resurrect-Time", str(times.resurrect)),
                (prefix + "Channel-Bridged-Time", str(times.bridged)),
                (prefix + "Channel-Last-Hold", str(times.last_hold)),
                (prefix + "Channel-Hold-Accum", str(times.hold_accum)),
                (prefix + "Screen-Bit", "true"),
                (prefix + "Privacy-Hide-Name", "false"),
                (prefix + "Privacy-Hide-Number", "false"),
            )
        )
        return pairs

    def profile_block(self) -> Block:
        """Return the Caller-* headers as a cached block."""
        block = self._profile_block
        if block is None:
            block = ProfileBlock(self._profile_pairs("Caller-", True))
            self._profile_block = block
        return block

    def as_other_pairs(self) -> tuple[tuple[str, str], ...]:
        """Return this channel's profile as Other-Leg-* headers (for its peer's events)."""
        pairs = self._other_pairs
        if pairs is None:
            pairs = tuple(self._profile_pairs("Other-Leg-", False))
            self._other_pairs = pairs
        return pairs

    def other_block(self) -> Block | None:
        """Return Other-Type + Other-Leg-* for the originator/originatee, if any."""
        if self.other is None:
            return None
        other_type, other = self.other
        block = other._other_blocks.get(other_type)
        if block is None:
            block = Block((("Other-Type", other_type), *other.as_other_pairs()))
            other._other_blocks[other_type] = block
        return block

    # ----------------------------------------------------------------- basic data
    def basic_block(
        self, *, with_presence: bool = True, hangup_cause_in_json: bool = True
    ) -> Block:
        """Return Channel-State .. Answer-State (and Hangup-Cause once set)."""
        return BasicBlock(self, with_presence, hangup_cause_in_json)

    def set_running_state(self, state: str) -> None:
        """Move the channel's running state (and its number) to ``state``."""
        self.state = state
        self.state_number = STATE_NUMBER[state]

    # ----------------------------------------------------------------- queries
    @property
    def answered(self) -> bool:
        """Return True once the channel was answered."""
        return self.times.answered > 0

    def get_var(self, name: str) -> str | None:
        """Return a channel variable, or None when unset."""
        return self.vars.get(name)

    def var_true(self, name: str) -> bool:
        """Return True when the variable holds a FreeSWITCH true value."""
        return self.vars.get(name, "").lower() in ("true", "yes", "on", "1", "enabled", "active")

    # ----------------------------------------------------------------- hangup report
    def set_cdr_vars(self, end_us: int) -> None:
        """Set the variables FreeSWITCH computes for CHANNEL_HANGUP_COMPLETE (CDR)."""
        cause = self.hangup_cause or "NORMAL_CLEARING"
        out = [
            ("hangup_cause", cause),
            ("hangup_cause_q850", str(Q850.get(cause, 0))),
            ("digits_dialed", self.digits_dialed or "none"),
            *self._cdr_times(end_us),
        ]
        if self.last_app is not None:
            out.append(("last_app", self.last_app[0]))
            if self.last_app[1]:
                out.append(("last_arg", self.last_app[1]))
        profile = self.profile
        out.append(("caller_id", f'"{profile.caller_id_name}" <{profile.caller_id_number}>'))
        durations, billed_us = self._cdr_durations(end_us)
        out.extend(durations)
        out.append(("sip_hangup_disposition", self.hangup_disposition))
        if self.media:
            out.extend(rtp_stat_vars(billed_us))
        self.set_vars(out)

    def _cdr_times(self, end_us: int) -> list[tuple[str, str]]:
        """Return the *_stamp, *_epoch and *_uepoch variables, in FreeSWITCH's order."""
        times = self.times

        def stamp(us: int) -> str:
            return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(us // 1_000_000))

        out = [
            (name, stamp(value))
            for name, value in (
                ("start_stamp", times.created),
                ("profile_start_stamp", self.profile.created_us),
                ("answer_stamp", times.answered),
                ("bridge_stamp", times.bridged),
                ("hold_stamp", times.last_hold),
                ("progress_stamp", times.progress),
                ("progress_media_stamp", times.progress_media),
            )
            if value
        ]
        if self.hold_events:
            spans = ",".join(f"{{{began},{ended}}}" for began, ended in self.hold_events)
            out.append(("hold_events", "{" + spans + "}"))
        out.append(("end_stamp", stamp(end_us)))
        epochs = (
            ("start", times.created),
            ("profile_start", self.profile.created_us),
            ("answer", times.answered),
            ("bridge", times.bridged),
            ("last_hold", times.last_hold),
        )
        for name, value in epochs:
            out += [(f"{name}_epoch", str(value // 1_000_000)), (f"{name}_uepoch", str(value))]
        out += [
            ("hold_accum_seconds", str(times.hold_accum // 1_000_000)),
            ("hold_accum_usec", str(times.hold_accum)),
            ("hold_accum_ms", str(times.hold_accum // 1000)),
        ]
        epochs = (
            ("resurrect", times.resurrect),
            ("progress", times.progress),
            ("progress_media", times.progress_media),
            ("end", end_us),
        )
        for name, value in epochs:
            out += [(f"{name}_epoch", str(value // 1_000_000)), (f"{name}_uepoch", str(value))]
        return out

    def _cdr_durations(self, end_us: int) -> tuple[list[tuple[str, str]], int]:
        """Return duration/billsec/... in s, ms and us (as switch_channel does), and billusec."""
        times = self.times
        start = times.created

        def span(since: int, until: int) -> tuple[int, int, int]:
            # Seconds and milliseconds are differences of truncated epochs, like FreeSWITCH.
            if not since or not until:
                return 0, 0, 0
            return (
                until // 1_000_000 - since // 1_000_000,
                until // 1000 - since // 1000,
                until - since,
            )

        rows = (
            ("duration", "", span(start, end_us)),
            ("bill", "sec", span(times.answered, end_us)),
            ("progress", "sec", span(start, times.progress)),
            ("answer", "sec", span(start, times.answered)),
            ("wait", "sec", span(start, times.bridged)),
            ("progress_media", "sec", span(start, times.progress_media)),
            ("flow_bill", "sec", span(self.profile.created_us, end_us)),
        )
        out = [(f"{name}{unit}", str(values[0])) for name, unit, values in rows]
        for prefix, index in (("m", 1), ("u", 2)):
            for name, unit, values in rows:
                label = f"{prefix}{name}" if not unit else f"{name}{prefix}{unit}"
                out.append((label, str(values[index])))
        return out, rows[1][2][2]


class ProfileBlock(Block):
    """Caller-* headers: the strings are encoded, the times and flags need no encoding."""

    __slots__ = ()

    def plain(self) -> str:
        """Encode only the string fields (the trailing times/flags are plain digits/words)."""
        if self._plain is None:
            pairs = self.pairs
            split = len(pairs) - 14
            head = "".join([cached_plain_line(name, value) for name, value in pairs[:split]])
            tail = "".join([f"{name}: {value}\n" for name, value in pairs[split:]])
            self._plain = head + tail
        return self._plain


class BasicBlock(Block):
    """A channel's state headers at one moment; rendered only in the formats asked for."""

    __slots__ = ("_values",)

    def __init__(self, channel: Channel, with_presence: bool, hangup_cause_in_json: bool):
        skip = frozenset() if hangup_cause_in_json else frozenset({"Hangup-Cause"})
        super().__init__((), skip)
        self.pairs = None  # type: ignore[assignment]
        self._values = (
            channel,
            channel.state,
            channel.callstate,
            channel.state_number,
            "true" if channel.hit_dialplan else "false",
            channel.presence_id if with_presence else "",
            channel.call_uuid,
            channel.answer_state,
            channel.hangup_cause,
        )

    def items(self) -> tuple[tuple[str, str], ...]:
        """Return the headers in FreeSWITCH's order."""
        if self.pairs is None:
            channel, state, callstate, number, hit, presence, call_uuid, answer, cause = (
                self._values
            )
            pairs = [
                ("Channel-State", state),
                ("Channel-Call-State", callstate),
                ("Channel-State-Number", str(number)),
                ("Channel-Name", channel.name),
                ("Unique-ID", channel.uuid),
                ("Call-Direction", channel.direction),
                ("Presence-Call-Direction", channel.direction),
                ("Channel-HIT-Dialplan", hit),
            ]
            if presence:
                pairs.append(("Channel-Presence-ID", presence))
            pairs.append(("Channel-Call-UUID", call_uuid))
            pairs.append(("Answer-State", answer))
            if cause:
                pairs.append(("Hangup-Cause", cause))
            self.pairs = tuple(pairs)
        return self.pairs

    def plain(self) -> str:
        """Render from the channel's pre-encoded identity lines."""
        if self._plain is None:
            channel, state, callstate, number, hit, presence, call_uuid, answer, cause = (
                self._values
            )
            self._plain = (
                f"Channel-State: {state}\nChannel-Call-State: {callstate}\n"
                f"Channel-State-Number: {number}\n{channel.identity_plain}"
                f"Channel-HIT-Dialplan: {hit}\n"
                + (plain_line("Channel-Presence-ID", presence) if presence else "")
                + plain_line("Channel-Call-UUID", call_uuid)
                + f"Answer-State: {answer}\n"
                + (f"Hangup-Cause: {cause}\n" if cause else "")
            )
        return self._plain


class VarsBlock(Block):
    """A channel's variables at one moment, rendered through the channel's line cache.

    The variables are copied (:meth:`freeze`) only when the event is not delivered at once
    (held behind a command reply) or a header must be looked up.
    """

    __slots__ = ("channel", "version")

    def __init__(self, channel: Channel):
        super().__init__((), prefix="variable_")
        self.pairs = None  # type: ignore[assignment]
        self.channel = channel
        self.version = channel.vars_version

    def freeze(self) -> None:
        """Copy the variables now, so later changes to the channel do not leak in."""
        if self.pairs is None:
            self.pairs = tuple(self.channel.vars.items())

    def items(self) -> list[tuple[str, str]]:
        """Return the variable_* headers."""
        self.freeze()
        return super().items()  # type: ignore[return-value]

    def _current(self) -> bool:
        return self.channel.vars_version == self.version

    def plain(self) -> str:
        """Return the variables as url-encoded lines."""
        if self._plain is None:
            if self._current():
                self._plain = self.channel.render_vars("plain")
            else:
                return super().plain()
        return self._plain

    def json(self) -> str:
        """Return the variables as json members."""
        if self._json is None:
            if self._current():
                self._json = self.channel.render_vars("json")
            else:
                return super().json()
        return self._json


@dataclass
class ChannelInfo:
    """A read-only snapshot of a channel for tests and the demo."""

    uuid: str
    name: str
    direction: str
    state: str
    callstate: str
    answer_state: str
    caller_id_name: str
    caller_id_number: str
    destination_number: str
    bridged_to: str | None
    parked: bool
    held: bool
    hangup_cause: str | None
    application: str | None
    recordings: tuple[str, ...]
    variables: dict[str, str] = field(default_factory=dict)


def snapshot(channel: Channel) -> ChannelInfo:
    """Return a :class:`ChannelInfo` copy of ``channel``."""
    profile = channel.profile
    return ChannelInfo(
        uuid=channel.uuid,
        name=channel.name,
        direction=channel.direction,
        state=channel.state,
        callstate=channel.callstate,
        answer_state=channel.answer_state,
        caller_id_name=profile.caller_id_name,
        caller_id_number=profile.caller_id_number,
        destination_number=profile.destination_number,
        bridged_to=channel.partner.uuid if channel.partner else None,
        parked=channel.parked,
        held=channel.held,
        hangup_cause=channel.hangup_cause,
        application=channel.app.name if channel.app else None,
        recordings=tuple(channel.recordings),
        variables=dict(channel.vars),
    )


# --------------------------------------------------------------------- sofia variables
def remote_sdp(user: str, host: str, port: int) -> str:
    """Return the SDP offer a PCMA + telephone-event phone sends."""
    return (
        f"v=0\r\no={user} 53655765 2353687637 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\n"
        f"t=0 0\r\nm=audio {port} RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
    )


def local_sdp(ip: str, port: int, session: int) -> str:
    """Return the SDP FreeSWITCH answers/offers with (as captured)."""
    return (
        f"v=0\r\no=FreeSWITCH {session} {session + 1} IN IP4 {ip}\r\ns=FreeSWITCH\r\n"
        f"c=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n"
    )


@dataclass(frozen=True)
class SipParty:
    """Where a SIP party sits: user part, display name, host and port."""

    user: str
    display: str
    host: str
    port: int


def inbound_create_vars(
    channel: Channel,
    *,
    caller: SipParty,
    destination: str,
    fs_ip: str,
    fs_port: int,
    call_id: str,
    from_tag: str,
    branch: str,
    acl: str,
) -> list[tuple[str, str]]:
    """Return the variables of a new inbound sofia channel (c1/d1 CHANNEL_CREATE)."""
    from_uri = f"{caller.user}@{caller.host}:{caller.port}"
    to_uri = f"{destination}@{fs_ip}:{fs_port}"
    display = f'"{caller.display}" ' if caller.display else ""
    pairs = [
        ("direction", "inbound"),
        ("uuid", channel.uuid),
        ("call_uuid", channel.uuid),
        ("session_id", str(channel.session_id)),
        ("sip_from_user", caller.user),
        ("sip_from_port", str(caller.port)),
        ("sip_from_uri", from_uri),
        ("sip_from_host", caller.host),
        ("video_media_flow", "disabled"),
        ("audio_media_flow", "disabled"),
        ("text_media_flow", "disabled"),
        ("channel_name", channel.name),
        ("sip_call_id", call_id),
        ("sip_local_network_addr", fs_ip),
        ("sip_network_ip", caller.host),
        ("sip_network_port", str(caller.port)),
        ("sip_invite_stamp", str(channel.times.created)),
        ("sip_received_ip", caller.host),
        ("sip_received_port", str(caller.port)),
        ("sip_via_protocol", "udp"),
        ("sip_authorized", "true"),
        ("sip_acl_authed_by", acl),
        ("sip_from_user_stripped", caller.user.split(";", 1)[0]),
        ("sip_from_tag", from_tag),
        ("sofia_profile_name", "internal"),
        ("sofia_profile_url", f"sip:mod_sofia@{fs_ip}:{fs_port}"),
        ("recovery_profile_name", "internal"),
        ("sip_full_via", f"SIP/2.0/UDP {caller.host}:{caller.port};branch={branch}"),
        ("sip_from_display", caller.display),
        ("sip_full_from", f"{display}<sip:{from_uri}>;tag={from_tag}"),
        ("sip_full_to", f"<sip:{to_uri}>"),
        ("sip_req_user", destination),
        ("sip_req_port", str(fs_port)),
        ("sip_req_uri", to_uri),
        ("sip_req_host", fs_ip),
        ("sip_to_user", destination),
        ("sip_to_port", str(fs_port)),
        ("sip_to_uri", to_uri),
        ("sip_to_host", fs_ip),
        ("sip_contact_user", caller.user),
        ("sip_contact_port", str(caller.port)),
        ("sip_contact_uri", from_uri),
        ("sip_contact_host", caller.host),
        ("rtp_use_codec_string", "OPUS,G722,PCMU,PCMA,H264,VP8"),
        ("sip_via_host", caller.host),
        ("sip_via_port", str(caller.port)),
        ("max_forwards", "70"),
        ("presence_id", channel.presence_id),
        ("switch_r_sdp", remote_sdp(caller.user, caller.host, 6000)),
        ("ep_codec_string", "CORE_PCM_MODULE.PCMA@8000h@20i@64000b"),
        ("endpoint_disposition", "DELAYED NEGOTIATION"),
    ]
    return pairs


def outbound_create_vars(
    channel: Channel,
    *,
    target: SipParty,
    fs_ip: str,
    fs_port: int,
    media_port: int,
    origination: list[tuple[str, str]],
    originator: Channel | None,
) -> list[tuple[str, str]]:
    """Return the variables of a new outbound sofia leg (i1/d1 CHANNEL_CREATE)."""
    contact = f"{target.user}@{target.host}:{target.port}"
    pairs = [
        ("direction", "outbound"),
        ("is_outbound", "true"),
        ("uuid", channel.uuid),
        ("call_uuid", channel.call_uuid),
        ("session_id", str(channel.session_id)),
        ("sip_local_network_addr", fs_ip),
        ("sip_profile_name", "internal"),
        ("video_media_flow", "disabled"),
        ("text_media_flow", "disabled"),
        ("channel_name", channel.name),
        ("sip_destination_url", f"sip:{contact}"),
    ]
    if originator is not None:
        pairs += [
            ("max_forwards", "69"),
            ("originator_codec", "CORE_PCM_MODULE.PCMA@8000h@20i@64000b"),
            ("originator", originator.uuid),
            ("signal_bond", originator.uuid),
        ]
    pairs += origination
    pairs += [
        ("originate_early_media", "true" if originator is not None else "false"),
    ]
    if originator is not None:
        pairs.append(("originating_leg_uuid", originator.uuid))
    pairs += [
        ("originate_endpoint", "sofia"),
        ("rtp_use_codec_string", "OPUS,G722,PCMU,PCMA,H264,VP8"),
        ("local_media_ip", fs_ip),
        ("local_media_port", str(media_port)),
        ("advertised_media_ip", fs_ip),
        ("audio_media_flow", "sendrecv"),
        ("rtp_local_sdp_str", local_sdp(fs_ip, media_port, channel.session_id + 1795277000)),
        ("sip_outgoing_contact_uri", f"<sip:mod_sofia@{fs_ip}:{fs_port}>"),
        ("sip_req_uri", contact),
        ("sip_to_host", f"{target.host}:{target.port}"),
        ("sip_from_host", fs_ip),
        ("sofia_profile_name", "internal"),
        ("recovery_profile_name", "internal"),
        ("sofia_profile_url", f"sip:mod_sofia@{fs_ip}:{fs_port}"),
    ]
    return pairs


def outbound_progress_vars(
    channel: Channel, target: SipParty, fs_ip: str, call_id: str, tags: tuple[str, str]
) -> list[tuple[str, str]]:
    """Return what a ``180 Ringing`` adds to an outbound leg (i1 CHANNEL_PROGRESS)."""
    profile = channel.profile
    contact = f"{target.user}@{target.host}:{target.port}"
    from_uri = f"{profile.caller_id_number}@{fs_ip}"
    via = f"SIP/2.0/UDP {fs_ip};rport;branch=z9hG4bK{tags[1]}"
    return [
        ("sip_reply_host", target.host),
        ("sip_reply_port", str(target.port)),
        ("sip_network_ip", target.host),
        ("sip_network_port", str(target.port)),
        ("sip_recover_contact", f"<sip:{contact};transport=UDP>"),
        ("sip_full_via", via),
        ("sip_recover_via", via),
        ("sip_from_display", profile.caller_id_name),
        ("sip_full_from", f'"{profile.caller_id_name}" <sip:{from_uri}>;tag={tags[1]}'),
        ("sip_full_to", f"<sip:{contact}>;tag={tags[0]}"),
        ("sip_from_user", profile.caller_id_number),
        ("sip_from_uri", from_uri),
        ("sip_from_host", fs_ip),
        ("sip_to_user", target.user),
        ("sip_to_port", str(target.port)),
        ("sip_to_uri", contact),
        ("sip_to_host", target.host),
        ("sip_contact_params", "transport=UDP"),
        ("sip_contact_user", target.user),
        ("sip_contact_port", str(target.port)),
        ("sip_contact_uri", contact),
        ("sip_contact_host", target.host),
        ("sip_to_tag", tags[0]),
        ("sip_from_tag", tags[1]),
        ("sip_cseq", "1"),
        ("sip_call_id", call_id),
    ]


def media_vars(
    remote: SipParty, *, fs_ip: str, media_port: int, ssrc: int, inbound: bool, session: int
) -> list[tuple[str, str]]:
    """Return what media negotiation adds (d1 PROGRESS_MEDIA / i1 CHANNEL_ANSWER)."""
    pairs: list[tuple[str, str]] = []
    if not inbound:
        pairs += [
            ("switch_r_sdp", remote_sdp(remote.user, remote.host, 6100)),
            ("ep_codec_string", "CORE_PCM_MODULE.PCMA@8000h@20i@64000b"),
        ]
    else:
        pairs += [
            ("video_media_flow", "inactive"),
            ("text_media_flow", "inactive"),
            ("audio_media_flow", "sendrecv"),
        ]
    pairs += [
        ("remote_video_media_flow", "inactive"),
        ("remote_text_media_flow", "inactive"),
        ("remote_audio_media_flow", "sendrecv"),
        ("rtp_audio_recv_pt", "8"),
        ("rtp_use_codec_name", "PCMA"),
        ("rtp_use_codec_rate", "8000"),
        ("rtp_use_codec_ptime", "20"),
        ("rtp_use_codec_channels", "1"),
        ("rtp_last_audio_codec_string", "PCMA@8000h@20i@1c"),
        ("read_codec", "PCMA"),
        ("original_read_codec", "PCMA"),
        ("read_rate", "8000"),
        ("original_read_rate", "8000"),
        ("write_codec", "PCMA"),
        ("write_rate", "8000"),
        ("dtmf_type", "rfc2833"),
    ]
    if inbound:
        pairs += [
            ("local_media_ip", fs_ip),
            ("local_media_port", str(media_port)),
            ("advertised_media_ip", fs_ip),
        ]
    pairs += [
        ("rtp_use_timer_name", "soft"),
        ("rtp_use_pt", "8"),
        ("rtp_use_ssrc", str(ssrc)),
        ("rtp_2833_send_payload", "101"),
        ("rtp_2833_recv_payload", "101"),
        ("remote_media_ip", remote.host),
        ("remote_media_port", "6000" if inbound else "6100"),
    ]
    if inbound:
        pairs += [
            ("endpoint_disposition", "EARLY MEDIA"),
            ("rtp_local_sdp_str", local_sdp(fs_ip, media_port, session)),
        ]
    return pairs


def inbound_answer_vars(
    channel: Channel, fs_ip: str, fs_port: int, to_tag: str
) -> list[tuple[str, str]]:
    """Return what answering an inbound leg adds (the 200 OK's dialog values)."""
    vars_ = channel.vars
    full_to = f"<sip:{channel.profile.destination_number}@{fs_ip}:{fs_port}>;tag={to_tag}"
    pairs = [
        ("endpoint_disposition", "ANSWER"),
        ("sip_to_tag", to_tag),
        ("sip_from_tag", vars_.get("sip_from_tag", "")),
        ("sip_cseq", "1"),
        ("sip_call_id", vars_.get("sip_call_id", "")),
        ("sip_full_via", vars_.get("sip_full_via", "")),
        ("sip_from_display", vars_.get("sip_from_display", "")),
        ("sip_full_from", vars_.get("sip_full_from", "")),
        ("sip_full_to", full_to),
    ]
    return pairs


def rtp_stat_vars(talk_us: int) -> list[tuple[str, str]]:
    """Return the RTP statistics FreeSWITCH adds to the hangup report (20 ms PCMA)."""
    packets = max(talk_us // 20_000, 0)
    media_bytes = packets * 160
    return [
        ("rtp_audio_in_raw_bytes", str(media_bytes)),
        ("rtp_audio_in_media_bytes", str(media_bytes)),
        ("rtp_audio_in_packet_count", str(packets)),
        ("rtp_audio_in_media_packet_count", str(packets)),
        ("rtp_audio_in_skip_packet_count", "0"),
        ("rtp_audio_in_jitter_packet_count", "0"),
        ("rtp_audio_in_dtmf_packet_count", "0"),
        ("rtp_audio_in_cng_packet_count", "0"),
        ("rtp_audio_in_flush_packet_count", "0"),
        ("rtp_audio_in_largest_jb_size", "0"),
        ("rtp_audio_in_jitter_min_variance", "0.00"),
        ("rtp_audio_in_jitter_max_variance", "0.00"),
        ("rtp_audio_in_jitter_loss_rate", "0.00"),
        ("rtp_audio_in_jitter_burst_rate", "0.00"),
        ("rtp_audio_in_mean_interval", "20.00" if packets else "0.00"),
        ("rtp_audio_in_flaw_total", "0"),
        ("rtp_audio_in_quality_percentage", "100.00"),
        ("rtp_audio_in_mos", "4.50"),
        ("rtp_audio_out_raw_bytes", str(media_bytes)),
        ("rtp_audio_out_media_bytes", str(media_bytes)),
        ("rtp_audio_out_packet_count", str(packets)),
        ("rtp_audio_out_media_packet_count", str(packets)),
        ("rtp_audio_out_skip_packet_count", "0"),
        ("rtp_audio_out_dtmf_packet_count", "0"),
        ("rtp_audio_out_cng_packet_count", "0"),
        ("rtp_audio_rtcp_packet_count", "0"),
        ("rtp_audio_rtcp_octet_count", "0"),
    ]
