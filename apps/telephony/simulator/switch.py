"""The simulated switch core: channels, the event bus and the channel state machine.

Everything here runs on one asyncio loop and is not thread-safe; :mod:`.server` offers the
thread-safe facade. Event order per channel follows the captures (see the tests that compare
against ``d1_bridge_plain`` and ``i1_api_driven_call_plain``); events FreeSWITCH fires that
carry no information for an ESL client (PRESENCE_IN, CODEC, PRIVATE_COMMAND) are not produced.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import time
import uuid as uuidlib
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

from .catalog import LOG_LEVELS, STATE_NUMBER, VERSION_FULL
from .channel import (
    CODEC_BLOCK,
    AppRun,
    CallerProfile,
    Channel,
    Recording,
    SipParty,
    inbound_answer_vars,
    inbound_create_vars,
    media_vars,
    now_us,
    outbound_create_vars,
    outbound_progress_vars,
)
from .config import SimulatorConfig
from .directory import Directory, Endpoint
from .events import Event, EventFactory, Identity
from .rendering import Block

if TYPE_CHECKING:
    from .dialplan import DialplanRouter, Step

logger = logging.getLogger(__name__)

CALLSTATE_NUMBER = {
    "DOWN": 0,
    "DIALING": 1,
    "RINGING": 2,
    "EARLY": 3,
    "ACTIVE": 4,
    "HELD": 5,
    "RING_WAIT": 6,
    "HANGUP": 7,
    "UNHELD": 8,
}

# Events that carry channel variables (switch_channel_event_set_extended_data's list).
VERBOSE_EVENTS = frozenset(
    {
        "CHANNEL_CREATE",
        "CHANNEL_ORIGINATE",
        "CHANNEL_ANSWER",
        "CHANNEL_PARK",
        "CHANNEL_UNPARK",
        "CHANNEL_BRIDGE",
        "CHANNEL_UNBRIDGE",
        "CHANNEL_PROGRESS",
        "CHANNEL_PROGRESS_MEDIA",
        "CHANNEL_HANGUP",
        "CHANNEL_HANGUP_COMPLETE",
        "CHANNEL_DATA",
        "CHANNEL_EXECUTE",
        "CHANNEL_EXECUTE_COMPLETE",
        "CHANNEL_DESTROY",
        "API",
        "RECORD_START",
        "RECORD_STOP",
        "PLAYBACK_START",
        "PLAYBACK_STOP",
        "CALL_UPDATE",
        "MEDIA_BUG_START",
        "MEDIA_BUG_STOP",
        "CHANNEL_HOLD",
        "CHANNEL_UNHOLD",
    }
)


class Listener(Protocol):
    """Something that receives events (an ESL connection)."""

    logging: bool

    def wants(self, event: Event) -> bool:
        """Return True when the event passes the listener's subscription and filters."""

    def deliver(self, event: Event) -> None:
        """Send the event."""

    def subscribed_names(self) -> set[str] | None:
        """Return the event names this listener may want (None: every event)."""

    def log(self, level: int, frame: bytes) -> None:
        """Send a log/data frame when logging at ``level`` or more verbose."""


class OriginateError(Exception):
    """A dial string could not produce a channel; ``cause`` is FreeSWITCH's cause name."""

    def __init__(self, cause: str):
        super().__init__(cause)
        self.cause = cause


class Switch:
    """A FreeSWITCH stand-in: channels, directory, dialplan and event delivery."""

    def __init__(self, config: SimulatorConfig, router: DialplanRouter | None = None):
        from .dialplan import DialplanRouter

        self.config = config
        self.identity = Identity(
            core_uuid=config.core_uuid,
            hostname=config.hostname,
            switchname=config.hostname,
            ipv4=config.ipv4,
            ipv6=config.ipv6,
        )
        self.factory = EventFactory(self.identity, config.first_event_sequence)
        self.channels: dict[str, Channel] = {}
        self.directory = Directory(domain=config.domain, users=set(config.directory_users))
        self.router = router or DialplanRouter()
        self.listeners: list[Listener] = []
        self._wanted: set[str] | None = set()
        self.global_vars: dict[str, str] = {
            "domain": config.domain,
            "hostname": config.hostname,
            "local_ip_v4": config.sip_ip,
            "hold_music": config.hold_music,
            "recordings_dir": config.recordings_dir,
        }
        self.started = time.time()
        self.sessions_since_startup = 0
        self.session_peak = 0
        self.calls_in = self.calls_out = self.failed_in = self.failed_out = 0
        self._held: list[Event] | None = None
        self._session_ids = itertools.count(1)
        self._media_ports = itertools.cycle(range(16384, 32768, 2))
        self._random = random.Random()  # noqa: S311 - SIP tags and SSRCs need no secrecy
        self.on_shutdown: list[Callable[[], None]] = []

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """Return the running loop the switch lives on."""
        return asyncio.get_running_loop()

    # ================================================================ event bus
    def add_listener(self, listener: Listener) -> None:
        """Start delivering events to ``listener``."""
        self.listeners.append(listener)
        self.subscriptions_changed()

    def remove_listener(self, listener: Listener) -> None:
        """Stop delivering events to ``listener``."""
        with contextlib.suppress(ValueError):
            self.listeners.remove(listener)
        self.subscriptions_changed()

    def subscriptions_changed(self) -> None:
        """Recompute which event names anybody subscribes to (None: all of them)."""
        wanted: set[str] | None = set()
        for listener in self.listeners:
            names = listener.subscribed_names()
            if names is None:
                wanted = None
                break
            wanted |= names
        self._wanted = wanted

    def fire(self, event: Event) -> None:
        """Deliver ``event`` to every interested listener (or queue it while held)."""
        if self._held is not None:
            event.freeze()
            self._held.append(event)
            return
        for listener in self.listeners:
            if listener.wants(event):
                listener.deliver(event)

    @contextlib.contextmanager
    def hold_events(self) -> Iterator[list[Event]]:
        """Queue fired events until the block ends, so a command's reply goes out first.

        The caller flushes the returned list with :meth:`release` after writing its reply.
        """
        if self._held is not None:
            yield []
            return
        held: list[Event] = []
        self._held = held
        try:
            yield held
        finally:
            self._held = None

    def release(self, held: Sequence[Event]) -> None:
        """Deliver events queued by :meth:`hold_events`."""
        for event in held:
            self.fire(event)

    def channel_event(
        self,
        name: str,
        channel: Channel,
        *,
        pre: Sequence[tuple[str, str]] = (),
        post: Sequence[tuple[str, str]] = (),
        calling: str | None = None,
        body: str | None = None,
        profile: bool = True,
        variables: bool | None = None,
    ) -> Event:
        """Build a channel event in FreeSWITCH's header layout (see :mod:`.events`)."""
        parts: list[Block] = []
        if pre:
            parts.append(Block(pre))
        parts.append(
            channel.basic_block(
                with_presence=profile,
                hangup_cause_in_json=name != "CHANNEL_HANGUP_COMPLETE",
            )
        )
        if profile:
            if channel.media:
                parts.append(CODEC_BLOCK)
            parts.append(channel.profile_block())
            other = channel.other_block()
            if other is not None:
                parts.append(other)
        if variables if variables is not None else name in VERBOSE_EVENTS:
            parts.append(channel.vars_block())
        if post:
            parts.append(Block(post))
        return self.factory.create(name, parts, calling=calling, unique_id=channel.uuid, body=body)

    def channel_data(self, channel: Channel) -> list[tuple[str, str]]:
        """Return the channel's headers as a CHANNEL_DATA event would carry them.

        No event is fired and no Event-Sequence is used: this is what mod_httapi and
        mod_xml_curl post about a session (basic data, caller profile, variables).
        """
        parts = [channel.basic_block()]
        if channel.media:
            parts.append(CODEC_BLOCK)
        parts.append(channel.profile_block())
        other = channel.other_block()
        if other is not None:
            parts.append(other)
        parts.append(channel.vars_block())
        return [pair for block in parts for pair in block.items()]

    def emit(self, name: str, channel: Channel, **kwargs: object) -> None:
        """Build and fire a channel event (only counted if no listener subscribes to it)."""
        if self._wanted is not None and name not in self._wanted:
            self.factory.skip()
            return
        self.fire(self.channel_event(name, channel, **kwargs))  # type: ignore[arg-type]

    def emit_state(self, channel: Channel, state: str) -> None:
        """Set the running state and fire CHANNEL_STATE."""
        channel.set_running_state(state)
        self.emit("CHANNEL_STATE", channel)

    def emit_callstate(self, channel: Channel, callstate: str) -> None:
        """Set the call state and fire CHANNEL_CALLSTATE."""
        original = channel.callstate
        channel.callstate = callstate
        self.emit(
            "CHANNEL_CALLSTATE",
            channel,
            pre=(
                ("Original-Channel-Call-State", original),
                ("Channel-Call-State-Number", str(CALLSTATE_NUMBER[callstate])),
            ),
        )

    def fire_plain(
        self,
        name: str,
        pairs: Sequence[tuple[str, str]],
        *,
        subclass: str | None = None,
        body: str | None = None,
        unique_id: str | None = None,
        calling: str | None = None,
    ) -> Event:
        """Fire a non-channel event (API, BACKGROUND_JOB, HEARTBEAT, CUSTOM ...)."""
        event = self.factory.create(
            name,
            [Block(pairs)] if pairs else [],
            subclass=subclass,
            body=body,
            unique_id=unique_id,
            calling=calling,
        )
        self.fire(event)
        return event

    def log(self, level: int, where: tuple[str, str, int], uuid: str, text: str) -> None:
        """Send a ``log/data`` line to listeners logging at ``level`` or finer."""
        if not any(listener.logging for listener in self.listeners):
            return
        file, func, line = where
        now = time.time()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
        body = (
            f"{stamp}.{int(now * 1_000_000) % 1_000_000:06d} 98.00% [{LOG_LEVELS[level]}] "
            f"{file}:{line} {text}\n"
        ).encode()
        frame = (
            f"Content-Type: log/data\nContent-Length: {len(body)}\nLog-Level: {level}\n"
            f"Text-Channel: 0\nLog-File: {file}\nLog-Func: {func}\nLog-Line: {line}\n"
            f"User-Data: {uuid}\n\n"
        ).encode() + body
        for listener in self.listeners:
            listener.log(level, frame)

    # ================================================================ helpers
    def new_uuid(self) -> str:
        """Return a fresh UUID string."""
        return str(uuidlib.uuid4())

    def _token(self, size: int = 13) -> str:
        # SIP tags and call-ids only need to look random, not be secret.
        return f"{self._random.getrandbits(size * 5):x}"[:size].rjust(size, "0")

    def find(self, uuid: str) -> Channel | None:
        """Return the live channel ``uuid``."""
        return self.channels.get(uuid)

    def _register(self, channel: Channel) -> None:
        self.channels[channel.uuid] = channel
        self.sessions_since_startup += 1
        self.session_peak = max(self.session_peak, len(self.channels))

    def later(self, delay: float, callback: Callable[[], object]) -> asyncio.TimerHandle:
        """Run ``callback`` after ``delay`` seconds on the loop."""
        return self.loop.call_later(max(delay, 0.0), callback)

    # ================================================================ channel creation
    def create_inbound(
        self,
        caller: str,
        destination: str,
        *,
        caller_name: str = "",
        uuid: str | None = None,
        variables: dict[str, str] | None = None,
        talk_time: float | None = None,
        patience: float | None = None,
        digits: str = "",
    ) -> Channel:
        """Create an inbound sofia channel (an INVITE from ``caller`` to ``destination``)."""
        config = self.config
        created = now_us()
        uuid = uuid or self.new_uuid()
        if uuid in self.channels:
            raise ValueError(f"channel {uuid} already exists")
        host, port = config.caller_host, config.caller_port
        name = f"sofia/internal/{caller}@{host}:{port}"
        profile = CallerProfile(
            direction="inbound",
            logical_direction="inbound",
            username=caller,
            dialplan="XML",
            caller_id_name=caller_name or caller,
            caller_id_number=caller,
            orig_caller_id_name=caller_name or caller,
            orig_caller_id_number=caller,
            network_addr=host,
            ani=caller,
            destination_number=destination,
            unique_id=uuid,
            source="mod_sofia",
            context="default",
            channel_name=name,
        )
        channel = Channel(
            uuid,
            name,
            "inbound",
            profile=profile,
            created_us=created,
            session_id=next(self._session_ids),
        )
        channel.presence_id = f"{caller}@{config.domain}"
        channel.talk_time = talk_time
        channel.patience = patience
        channel.planned_digits = digits
        party = SipParty(caller, caller_name, host, port)
        channel.set_vars(
            inbound_create_vars(
                channel,
                caller=party,
                destination=destination,
                fs_ip=config.sip_ip,
                fs_port=config.sip_port,
                call_id=f"{self._token(10)}@{host}",
                from_tag=self._token(13),
                branch=f"z9hG4bK{self._token(12)}",
                acl=config.caller_acl,
            )
        )
        for key, value in (variables or {}).items():
            channel.set_var(key, value)
        self._register(channel)
        self.calls_in += 1
        # CS_NEW carries no presence and no caller profile (d1 seq 910).
        self.emit("CHANNEL_STATE", channel, profile=False)
        self.emit_state(channel, "CS_INIT")
        channel.state_number = STATE_NUMBER["CS_ROUTING"]
        self.emit("CHANNEL_CREATE", channel)
        channel.state = "CS_ROUTING"
        self.emit_callstate(channel, "RINGING")
        self.emit_state(channel, "CS_ROUTING")
        channel.state_number = STATE_NUMBER["CS_EXECUTE"]
        self.emit_state(channel, "CS_EXECUTE")
        if patience is not None:
            self.later(patience, lambda: self._abandon(channel))
        self.start_session(channel, self.router.resolve(self, destination))
        return channel

    def _abandon(self, channel: Channel) -> None:
        if channel.alive and channel.partner is None and not channel.hangup_cause:
            self.hangup(channel, "NORMAL_CLEARING", disposition="recv_bye")

    def start_session(self, channel: Channel, steps: Sequence[Step]) -> None:
        """Run dialplan ``steps`` on ``channel`` in its own task."""
        from .dialplan import CallSession

        session = CallSession(self, channel)

        async def run() -> None:
            me = asyncio.current_task()

            def current() -> bool:
                # A transfer starts a new session; this one then stops at its next step.
                return channel.task is me and channel.alive and not channel.hangup_cause

            try:
                for step in steps:
                    if not current():
                        return
                    await step.run(session)
                if current() and channel.partner is None:
                    # FreeSWITCH hangs up when the extension runs out of applications.
                    self.hangup(channel, "NORMAL_CLEARING")
            except asyncio.CancelledError:
                pass
            except Exception:  # a broken custom step must not take the simulator down
                logger.exception("dialplan step failed on %s", channel.uuid)
                if channel.alive and not channel.hangup_cause:
                    self.hangup(channel, "DESTINATION_OUT_OF_ORDER")

        channel.task = self.loop.create_task(run())

    def cancel_session(self, channel: Channel) -> None:
        """Stop the channel's dialplan task (it was taken over by a bridge or transfer)."""
        task = channel.task
        channel.task = None
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()

    # ================================================================ outbound legs
    def parse_dialstring(self, dialstring: str) -> tuple[list[tuple[str, str]], str]:
        """Split ``{a=b,c=d}[e=f]target`` into its variables and the target."""
        variables: list[tuple[str, str]] = []
        rest = dialstring.strip()
        while rest[:1] in ("{", "[", "<"):
            closing = {"{": "}", "[": "]", "<": ">"}[rest[0]]
            end = rest.find(closing)
            if end < 0:
                break
            variables += _split_vars(rest[1:end])
            rest = rest[end + 1 :]
        return variables, rest

    def resolve_target(self, target: str) -> tuple[Endpoint, SipParty, str]:
        """Return the endpoint a dial-string target reaches, or raise :class:`OriginateError`."""
        if target.startswith("user/"):
            user = target[5:].split("@", 1)[0]
            if not self.directory.exists(user):
                raise OriginateError("SUBSCRIBER_ABSENT")
            endpoint = self.directory.registered(user)
            if endpoint is None:
                raise OriginateError("USER_NOT_REGISTERED")
            party = SipParty(user, "", endpoint.contact_host, endpoint.contact_port)
            return endpoint, party, f"sip:{user}@{endpoint.contact_host}:{endpoint.contact_port}"
        if target.startswith("sofia/"):
            pieces = target.split("/", 2)
            if len(pieces) < 3 or pieces[1] not in ("internal", "external"):
                raise OriginateError("CHAN_NOT_IMPLEMENTED")
            address = pieces[2].removeprefix("sip:")
            user, _, hostport = address.partition("@")
            host, _, port_text = hostport.partition(":")
            port = int(port_text) if port_text.isdigit() else None
            endpoint = self.directory.find_by_contact(user, host, port)
            if endpoint is None:
                raise OriginateError("NORMAL_TEMPORARY_FAILURE")
            party = SipParty(user, "", endpoint.contact_host, endpoint.contact_port)
            return endpoint, party, f"{user}@{endpoint.contact_host}:{endpoint.contact_port}"
        if target.startswith("error/"):
            raise OriginateError(target[6:] or "NORMAL_CLEARING")
        raise OriginateError("CHAN_NOT_IMPLEMENTED")

    def create_outbound(
        self,
        dialstring: str,
        *,
        originator: Channel | None = None,
        cid_name: str | None = None,
        cid_num: str | None = None,
    ) -> Channel:
        """Create the outbound leg for ``dialstring`` and fire its creation events.

        Raises :class:`OriginateError` for a dial string that reaches nobody.
        """
        config = self.config
        variables, target = self.parse_dialstring(dialstring)
        endpoint, party, address = self.resolve_target(target)
        values = dict(variables)
        uuid = values.get("origination_uuid") or self.new_uuid()
        if uuid in self.channels:
            raise OriginateError("NORMAL_TEMPORARY_FAILURE")
        created = now_us()
        name = f"sofia/internal/{address}"
        if originator is not None:
            base = originator.profile
            name_default, num_default = base.caller_id_name, base.caller_id_number
        else:
            name_default, num_default = "FreeSWITCH", "0000000000"
        caller_name = values.get("origination_caller_id_name") or cid_name or name_default
        caller_num = values.get("origination_caller_id_number") or cid_num or num_default
        profile = CallerProfile(
            direction="outbound",
            logical_direction="outbound",
            username=originator.profile.username if originator else "",
            dialplan="XML" if originator else "",
            caller_id_name=caller_name,
            caller_id_number=caller_num,
            orig_caller_id_name=originator.profile.caller_id_name if originator else caller_name,
            orig_caller_id_number=(
                originator.profile.caller_id_number if originator else caller_num
            ),
            callee_id_name="Outbound Call",
            callee_id_number=party.user,
            network_addr=originator.profile.network_addr if originator else "",
            ani=originator.profile.ani if originator else caller_num,
            destination_number=party.user,
            unique_id=uuid,
            source="mod_sofia" if originator else "src/switch_ivr_originate.c",
            context="default",
            channel_name=name,
        )
        channel = Channel(
            uuid,
            name,
            "outbound",
            profile=profile,
            created_us=created,
            session_id=next(self._session_ids),
        )
        channel.hit_dialplan = False
        channel.endpoint = endpoint
        channel.state = "CS_NONE"
        channel.state_number = STATE_NUMBER["CS_INIT"]
        media_port = next(self._media_ports)
        if originator is not None:
            channel.other = ("originator", originator)
            originator.set_var("originate_signal_bond", uuid)
        self._register(channel)
        self.calls_out += 1
        self.emit("CHANNEL_OUTGOING", channel)
        if originator is not None:
            channel.call_uuid = originator.uuid
        channel.set_vars(
            outbound_create_vars(
                channel,
                target=party,
                fs_ip=config.sip_ip,
                fs_port=config.sip_port,
                media_port=media_port,
                origination=variables,
                originator=originator,
            )
        )
        if target.startswith("user/"):
            channel.set_vars([("dialed_user", party.user), ("dialed_domain", config.domain)])
        self.emit_state(channel, "CS_INIT")
        channel.state_number = STATE_NUMBER["CS_ROUTING"]
        self.emit("CHANNEL_CREATE", channel)
        self.emit("CHANNEL_ORIGINATE", channel)
        self.emit_state(channel, "CS_ROUTING")
        self.emit_state(channel, "CS_CONSUME_MEDIA")
        channel.sip_party = party
        return channel

    def ring(self, leg: Channel, originator: Channel | None) -> None:
        """The far end sent 180 Ringing: CHANNEL_PROGRESS on the leg (and its originator)."""
        now = now_us()
        party = leg.sip_party or SipParty(leg.profile.destination_number, "", "127.0.0.1", 5062)
        leg.times.progress = now
        leg.profile.network_addr = party.host
        leg.touch_profile()
        leg.set_vars(
            outbound_progress_vars(
                leg,
                party,
                self.config.sip_ip,
                f"{self.new_uuid()}",
                (self._token(15), self._token(13)),
            )
        )
        self.emit("CHANNEL_PROGRESS", leg)
        self.emit_callstate(leg, "RINGING")
        if originator is not None and not originator.answered:
            if not originator.times.progress:
                originator.times.progress = now
                originator.touch_profile()
            originator.profile.callee_id_name = "Outbound Call"
            originator.profile.callee_id_number = party.user
            originator.touch_profile()
            originator.set_vars(
                [
                    ("originate_disposition", "failure"),
                    ("DIALSTATUS", "INVALIDARGS"),
                    ("originated_legs", f"{leg.uuid};Outbound Call;{party.user}"),
                    ("sip_to_tag", self._token(13)),
                ]
            )
            self.emit("CHANNEL_PROGRESS", originator)

    def answer_outbound(self, leg: Channel) -> None:
        """The far end answered an outbound leg: media, CHANNEL_ANSWER, ACTIVE."""
        party = leg.sip_party or SipParty(leg.profile.destination_number, "", "127.0.0.1", 5062)
        leg.set_vars(
            media_vars(
                party,
                fs_ip=self.config.sip_ip,
                media_port=int(leg.vars.get("local_media_port", "0")),
                ssrc=self._random.randrange(1 << 31),
                inbound=False,
                session=leg.session_id,
            )
        )
        leg.media = True
        leg.times.answered = now_us()
        leg.answer_state = "answered"
        leg.touch_profile()
        self.emit("CHANNEL_ANSWER", leg)
        self.emit_callstate(leg, "ACTIVE")
        endpoint = leg.endpoint
        if endpoint is not None and endpoint.hangup_after is not None:
            self.later(
                endpoint.hangup_after,
                lambda: self.remote_hangup(leg),
            )

    def flip_cid(self, leg: Channel) -> None:
        """An API-originated leg is answered: FreeSWITCH flips caller and callee ids."""
        profile = leg.profile
        leg.set_vars(
            [
                ("endpoint_disposition", "ANSWER"),
                ("pre_transfer_caller_id_name", profile.caller_id_name),
                ("pre_transfer_caller_id_number", profile.caller_id_number),
                ("channel_cid_flipped", "yes"),
            ]
        )
        leg.set_profile(
            profile.copy(
                caller_id_name=profile.callee_id_name,
                caller_id_number=profile.callee_id_number,
                callee_id_name=profile.caller_id_name,
                callee_id_number=profile.caller_id_number,
            )
        )
        leg.hit_dialplan = True
        self.emit("CALL_UPDATE", leg, pre=(("Direction", "RECV"),), calling="CALL_UPDATE/flip")

    def remote_hangup(self, channel: Channel, cause: str = "NORMAL_CLEARING") -> bool:
        """The far end hung up (BYE received)."""
        if not channel.alive or channel.hangup_cause:
            return False
        disposition = "recv_bye" if channel.answered else "recv_cancel"
        if channel.direction == "outbound" and not channel.answered:
            disposition = "recv_refuse"
        return self.hangup(channel, cause, disposition=disposition)

    # ================================================================ inbound answer
    def pre_answer(self, channel: Channel) -> None:
        """Establish early media on an inbound leg (PROGRESS_MEDIA, EARLY)."""
        if channel.media or channel.direction != "inbound":
            return
        party = SipParty(
            channel.profile.caller_id_number,
            channel.profile.caller_id_name,
            self.config.caller_host,
            self.config.caller_port,
        )
        channel.set_vars(
            media_vars(
                party,
                fs_ip=self.config.sip_ip,
                media_port=next(self._media_ports),
                ssrc=self._random.randrange(1 << 31),
                inbound=True,
                session=1795280000 + channel.session_id,
            )
        )
        channel.media = True
        channel.times.progress_media = now_us()
        channel.answer_state = "early"
        channel.touch_profile()
        self.emit("CHANNEL_PROGRESS_MEDIA", channel)
        self.emit_callstate(channel, "EARLY")

    def answer(self, channel: Channel) -> None:
        """Answer an inbound leg (FreeSWITCH sends 200 OK)."""
        if channel.answered or not channel.alive:
            return
        self.pre_answer(channel)
        channel.times.answered = now_us()
        channel.answer_state = "answered"
        channel.touch_profile()
        self.emit("CHANNEL_ANSWER", channel)
        channel.set_vars(
            inbound_answer_vars(channel, self.config.sip_ip, self.config.sip_port, self._token(13))
        )
        self.emit_callstate(channel, "ACTIVE")

    # ================================================================ applications
    def app_start(
        self,
        channel: Channel,
        name: str,
        data: str | None,
        *,
        on_interrupt: Callable[[], None] | None = None,
        app_uuid: bool = True,
        calling: str | None = None,
    ) -> AppRun:
        """Fire CHANNEL_EXECUTE and record ``name`` as the running application."""
        run = AppRun(name, data, self.new_uuid() if app_uuid else None, on_interrupt)
        run.previous = channel.app
        channel.app = run
        channel.last_app = (name, data)
        channel.set_var("current_application", name)
        channel.set_var("current_application_data", data)
        channel.unset_var("current_application_response")
        post = [("Application", name)]
        if data:
            post.append(("Application-Data", data))
        if run.app_uuid:
            post.append(("Application-UUID", run.app_uuid))
        self.emit("CHANNEL_EXECUTE", channel, post=post, calling=calling)
        return run

    def app_complete(self, channel: Channel, run: AppRun, response: str = "_none_") -> None:
        """Fire CHANNEL_EXECUTE_COMPLETE for ``run`` (once) and return to the app below it."""
        if channel.app is run:
            channel.app = run.previous
        if run.completed:
            return
        run.completed = True
        if response != "_none_":
            channel.set_var("current_application_response", response)
        post = [("Application", run.name)]
        if run.data:
            post.append(("Application-Data", run.data))
        post.append(("Application-Response", response))
        if run.app_uuid:
            post.append(("Application-UUID", run.app_uuid))
        self.emit("CHANNEL_EXECUTE_COMPLETE", channel, post=post)

    def interrupt_app(self, channel: Channel, *, keep_bridge: bool = False) -> None:
        """Stop the running applications (innermost first) and any overlay playback.

        With ``keep_bridge`` a bridge application whose bridge is up is left running (the
        bridge teardown completes it).
        """
        for overlay in list(channel.overlays):
            self.stop_overlay(channel, overlay, status="break")
        while channel.app is not None:
            run = channel.app
            if keep_bridge and run.name == "bridge" and channel.partner is not None:
                return
            if run.on_interrupt is not None and not run.completed:
                run.on_interrupt()
            else:
                self.app_complete(channel, run)
            if channel.app is run:
                channel.app = run.previous

    def park(self, channel: Channel) -> AppRun:
        """Run ``park``: CHANNEL_EXECUTE park, CHANNEL_PARK."""

        def unpark() -> None:
            channel.parked = False
            self.emit("CHANNEL_UNPARK", channel)
            self.app_complete(channel, run)

        run = self.app_start(channel, "park", None, on_interrupt=unpark)
        channel.parked = True
        self.emit("CHANNEL_PARK", channel)
        return run

    def start_overlay(
        self, channel: Channel, path: str, seconds: float | None, *, loops: bool = False
    ) -> AppRun:
        """Play ``path`` on top of whatever the channel does (hold music, uuid_broadcast)."""
        run = AppRun("playback", path, self.new_uuid())
        channel.overlays.append(run)
        channel.set_var("current_application", "playback")
        channel.set_var("current_application_data", path)
        self.emit(
            "CHANNEL_EXECUTE",
            channel,
            post=(
                ("Application", "playback"),
                ("Application-Data", path),
                ("Application-UUID", run.app_uuid or ""),
            ),
        )
        self.emit("PLAYBACK_START", channel, post=playback_headers(path))
        if seconds is not None and not loops:
            self.later(seconds, lambda: self.stop_overlay(channel, run, status="done"))
        return run

    def stop_overlay(self, channel: Channel, run: AppRun, *, status: str) -> None:
        """End an overlay playback (PLAYBACK_STOP + CHANNEL_EXECUTE_COMPLETE)."""
        if run not in channel.overlays or not channel.alive:
            return
        channel.overlays.remove(run)
        headers = (*playback_headers(run.data or ""), ("Playback-Status", status))
        self.emit("PLAYBACK_STOP", channel, post=headers)
        self.app_complete(channel, run, "FILE PLAYED")

    # ================================================================ bridging
    def bridge(self, a: Channel, b: Channel, kind: str) -> None:
        """Bridge ``a`` (the originator, which fires CHANNEL_BRIDGE) with ``b``."""
        now = now_us()
        a.partner, b.partner = b, a
        a.bridge_originator, b.bridge_originator = True, False
        a.bridge_kind = b.bridge_kind = kind
        a.other = ("originatee", b)
        b.other = ("originator", a)
        for leg in (a, b):
            leg.times.bridged = now
            leg.touch_profile()
        if kind == "bridge":
            a.unset_var("originate_signal_bond")
            a.set_vars(
                [
                    ("originate_disposition", "SUCCESS"),
                    ("DIALSTATUS", "SUCCESS"),
                    ("originate_causes", f"{b.uuid};NONE"),
                ]
            )
        a.set_var("signal_bond", b.uuid)
        b.set_var("signal_bond", a.uuid)
        self.emit(
            "CHANNEL_BRIDGE",
            a,
            pre=(("Bridge-A-Unique-ID", a.uuid), ("Bridge-B-Unique-ID", b.uuid)),
        )
        b.call_uuid = a.uuid
        self.emit_state(b, "CS_EXCHANGE_MEDIA")
        for leg, peer in ((a, b), (b, a)):
            leg.set_vars(
                [
                    ("bridge_to", peer.uuid),
                    ("last_bridge_to", peer.uuid),
                    ("bridge_channel", peer.name),
                    ("bridge_uuid", peer.uuid),
                    ("last_sent_callee_id_name", peer.profile.caller_id_name),
                    ("last_sent_callee_id_number", peer.profile.caller_id_number),
                ]
            )
            leg.profile.callee_id_name = peer.profile.caller_id_name
            leg.profile.callee_id_number = peer.profile.caller_id_number
            leg.touch_profile()
        for leg, peer in ((a, b), (b, a)):
            self.emit(
                "CALL_UPDATE",
                leg,
                pre=(
                    ("Direction", "SEND"),
                    ("Sent-Callee-ID-Name", peer.profile.caller_id_name),
                    ("Sent-Callee-ID-Number", peer.profile.caller_id_number),
                    ("Bridged-To", peer.uuid),
                ),
            )
        for leg in (a, b):
            if leg.talk_time is not None:
                talk, leg.talk_time = leg.talk_time, None
                self.later(talk, lambda leg=leg: self.remote_hangup(leg))

    def break_bridge(self, leaving: Channel, cause: str) -> None:
        """``leaving`` leaves its bridge (hangup or transfer); its partner reacts."""
        partner = leaving.partner
        if partner is None:
            return
        leaving.partner = partner.partner = None
        for leg in (leaving, partner):
            leg.unset_var("bridge_to")
            if leg.bridge_kind == "bridge":
                leg.unset_var("signal_bond")
            leg.set_var("last_bridge_hangup_cause", cause)
            leg.set_var("bridge_hangup_cause", cause)
        originator = leaving if leaving.bridge_originator else partner
        self.emit(
            "CHANNEL_UNBRIDGE",
            originator,
            pre=(
                ("Bridge-A-Unique-ID", originator.uuid),
                ("Bridge-B-Unique-ID", (partner if originator is leaving else leaving).uuid),
            ),
        )
        if originator is leaving:
            if leaving.app is not None and leaving.app.name == "bridge":
                self.app_complete(leaving, leaving.app, "FILE PLAYED")
            self.after_bridge(partner)
        else:
            partner.call_uuid = partner.uuid
            if partner.bridge_kind == "bridge" and partner.app and partner.app.name == "bridge":
                run = partner.app
                self.app_complete(partner, run, "FILE PLAYED")
                done = partner.bridge_done
                partner.bridge_done = None
                if done is not None and not done.done():
                    done.set_result(cause)
            else:
                self.after_bridge(partner)
        leaving.bridge_originator = False

    def after_bridge(self, leg: Channel) -> None:
        """A leg without a dialplan to return to lost its partner: park it or hang it up."""
        if not leg.alive or leg.hangup_cause:
            return
        leg.call_uuid = leg.uuid
        if leg.bridge_kind == "uuid_bridge" and leg.state == "CS_SOFT_EXECUTE":
            leg.state_number = STATE_NUMBER["CS_EXECUTE"]
            self.emit_state(leg, "CS_EXECUTE")
        if leg.var_true("park_after_bridge"):
            self.park(leg)
            return
        self.hangup(leg, "NORMAL_CLEARING")

    # ================================================================ hangup
    def hangup(
        self, channel: Channel, cause: str = "NORMAL_CLEARING", *, disposition: str | None = None
    ) -> bool:
        """Hang ``channel`` up with ``cause`` and run its full teardown."""
        if not channel.alive or channel.hangup_cause:
            return False
        now = now_us()
        channel.hangup_cause = cause
        channel.answer_state = "hangup"
        channel.state_number = STATE_NUMBER["CS_HANGUP"]
        channel.times.hangup = now
        channel.touch_profile()
        if disposition is not None:
            channel.hangup_disposition = disposition
        elif not channel.answered:
            channel.hangup_disposition = (
                "send_cancel" if channel.direction == "outbound" else "send_refuse"
            )
        self.emit("CHANNEL_HANGUP", channel)
        self.log(
            5,
            ("switch_channel.c", "switch_channel_perform_hangup", 3445),
            channel.uuid,
            f"Hangup {channel.name} [{channel.state}] [{cause}]",
        )
        self.interrupt_app(channel, keep_bridge=True)
        if channel.partner is not None:
            self.break_bridge(channel, cause)
        self.interrupt_app(channel)
        self.cancel_session(channel)
        self._teardown(channel)
        return True

    def _teardown(self, channel: Channel) -> None:
        self.emit_state(channel, "CS_HANGUP")
        self.emit_callstate(channel, "HANGUP")
        for path in list(channel.recordings):
            self.record_stop(channel, path)
        for spy in list(channel.eavesdroppers):
            waiter = spy.eavesdrop_done
            if waiter is not None and not waiter.done():
                waiter.set_result("target-gone")
        channel.call_uuid = channel.uuid
        channel.state_number = STATE_NUMBER["CS_REPORTING"]
        self.emit_state(channel, "CS_REPORTING")
        channel.set_cdr_vars(now_us())
        self.emit(
            "CHANNEL_HANGUP_COMPLETE",
            channel,
            pre=(("Hangup-Cause", channel.hangup_cause or "NORMAL_CLEARING"),),
        )
        channel.state_number = STATE_NUMBER["CS_DESTROY"]
        self.emit("CHANNEL_DESTROY", channel)
        self.emit_state(channel, "CS_DESTROY")
        channel.alive = False
        self.channels.pop(channel.uuid, None)
        for future in (channel.dtmf_waiter, channel.bridge_done):
            if future is not None and not future.done():
                future.set_result("hangup")
        ringing = channel.ring_outcome
        if ringing is not None and not ringing.done():
            ringing.set_result(channel.hangup_cause or "NORMAL_CLEARING")

    # ================================================================ transfer
    def transfer(
        self, channel: Channel, destination: str, dialplan: str = "XML", context: str = "default"
    ) -> None:
        """Blind-transfer ``channel`` to ``destination`` and run that extension's dialplan."""
        now = now_us()
        source = f"{now // 1_000_000}:{self.new_uuid()}:bl_xfer:{destination}/{context}/{dialplan}"
        self.cancel_session(channel)
        previous = channel.profile
        # FreeSWITCH switches to the new caller profile before the bridge breaks (d1 seq 976).
        channel.set_vars((("transfer_history", source), ("transfer_source", source)))
        channel.set_profile(
            previous.copy(
                destination_number=destination,
                rdnis=previous.destination_number,
                transfer_source=source,
                context=context,
                dialplan=dialplan,
                index=previous.index + 1,
                created_us=now,
            )
        )
        channel.times.transfer = now
        channel.other = None
        channel.state_number = STATE_NUMBER["CS_ROUTING"]
        if channel.partner is not None:
            self.break_bridge(channel, "NORMAL_CLEARING")
        else:
            self.interrupt_app(channel)
        if not channel.alive or channel.hangup_cause:
            return
        channel.state = "CS_ROUTING"
        self.emit_callstate(channel, "RINGING")
        self.emit_state(channel, "CS_ROUTING")
        channel.state = "CS_EXECUTE"
        channel.state_number = STATE_NUMBER["CS_EXECUTE"]
        self.emit_callstate(channel, "ACTIVE" if channel.answered else "RINGING")
        self.emit_state(channel, "CS_EXECUTE")
        channel.hit_dialplan = True
        self.start_session(channel, self.router.resolve(self, destination))

    # ================================================================ hold
    def hold_call(self, channel: Channel) -> bool:
        """Put ``channel`` on hold; its partner hears hold music."""
        if channel.held:
            return True
        now = now_us()
        channel.held = True
        channel.hold_started = now
        channel.times.last_hold = now
        channel.touch_profile()
        self.emit_callstate(channel, "HELD")
        self.emit("CHANNEL_HOLD", channel)
        partner = channel.partner
        if partner is not None:
            music = channel.vars.get("hold_music") or self.global_vars["hold_music"]
            channel.hold_music = self.start_overlay(partner, music, None, loops=True)
        return True

    def unhold_call(self, channel: Channel) -> bool:
        """Take ``channel`` off hold."""
        if not channel.held:
            return True
        now = now_us()
        channel.held = False
        channel.hold_events.append((channel.hold_started, now))
        channel.times.hold_accum += now - channel.hold_started
        channel.touch_profile()
        self.emit_callstate(channel, "UNHELD")
        self.emit_callstate(channel, "ACTIVE")
        run, channel.hold_music = channel.hold_music, None
        partner = channel.partner
        if run is not None and partner is not None:
            self.stop_overlay(partner, run, status="break")
        self.emit("CHANNEL_UNHOLD", channel)
        return True

    # ================================================================ recording
    def record_start(self, channel: Channel, path: str) -> bool:
        """Start recording ``channel`` to ``path`` (RECORD_START, MEDIA_BUG_START)."""
        if path in channel.recordings:
            return False
        channel.recordings[path] = Recording(path, now_us())
        self.emit("RECORD_START", channel, post=(("Record-File-Path", path),))
        self.emit(
            "MEDIA_BUG_START",
            channel,
            pre=(("Media-Bug-Function", "session_record"), ("Media-Bug-Target", path)),
        )
        return True

    def record_stop(self, channel: Channel, path: str) -> bool:
        """Stop the recording ``path`` (``all`` stops every one)."""
        paths = list(channel.recordings) if path == "all" else [path]
        if not paths or any(p not in channel.recordings for p in paths):
            return False
        for one in paths:
            recording = channel.recordings.pop(one)
            now = now_us()
            if recording.paused_at:
                recording.paused_us += now - recording.paused_at
            elapsed_ms = (now - recording.started_us - recording.paused_us) // 1000
            samples = elapsed_ms * 8
            channel.set_vars(
                [
                    ("record_file_size", str(samples * 2 + 44)),
                    ("record_samples", str(samples)),
                    ("record_seconds", str(elapsed_ms // 1000)),
                    ("record_ms", str(elapsed_ms)),
                    ("record_completion_cause", "success-maxtime"),
                ]
            )
            self.emit(
                "RECORD_STOP",
                channel,
                post=(("Record-File-Path", one), ("Record-Completion-Cause", "success-maxtime")),
            )
            self.emit(
                "MEDIA_BUG_STOP",
                channel,
                pre=(("Media-Bug-Function", "session_record"), ("Media-Bug-Target", one)),
            )
        return True

    # ================================================================ dtmf
    def receive_dtmf(self, channel: Channel, digits: str, source: str = "RTP") -> None:
        """The far end sends ``digits``; whoever reads them fires DTMF events."""
        for digit in digits:
            channel.dtmf_queue.append(digit)
        self.drain_dtmf(channel, source)

    def drain_dtmf(self, channel: Channel, source: str = "RTP") -> None:
        """Consume queued digits if the channel is in a state that reads them."""
        reader = channel.dtmf_reader
        if reader is None and not (channel.parked or channel.partner is not None):
            return
        while channel.dtmf_queue and channel.alive:
            digit = channel.dtmf_queue.pop(0)
            channel.digits_dialed += digit
            self.emit(
                "DTMF",
                channel,
                post=(
                    ("DTMF-Digit", digit),
                    ("DTMF-Duration", "2000"),
                    ("DTMF-Source", source),
                ),
                variables=False,
            )
            if reader is not None:
                reader(digit)
                reader = channel.dtmf_reader
                if reader is None and not (channel.parked or channel.partner is not None):
                    return

    # ================================================================ registrations
    def register(self, endpoint: Endpoint) -> None:
        """Register ``endpoint`` (CUSTOM sofia::register)."""
        self.directory.users.add(endpoint.user)
        self.directory.registrations[endpoint.user] = endpoint
        contact = _contact(endpoint)
        self.fire_plain(
            "CUSTOM",
            (
                ("profile-name", "internal"),
                ("from-user", endpoint.user),
                ("from-host", endpoint.domain),
                ("presence-hosts", f"{endpoint.domain},{endpoint.domain}"),
                ("contact", contact),
                ("call-id", endpoint.call_id),
                ("rpid", "unknown"),
                ("status", "Registered(UDP)"),
                ("expires", str(endpoint.expires)),
                ("to-user", endpoint.user),
                ("to-host", endpoint.domain),
                ("network-ip", endpoint.contact_host),
                ("network-port", str(endpoint.contact_port)),
                ("username", endpoint.user),
                ("realm", endpoint.domain),
                ("user-agent", endpoint.user_agent),
                *_directory_pairs(endpoint),
            ),
            subclass="sofia::register",
        )

    def unregister(self, user: str) -> bool:
        """Remove ``user``'s registration (CUSTOM sofia::unregister)."""
        endpoint = self.directory.registrations.pop(user, None)
        if endpoint is None:
            return False
        contact = _contact(endpoint)
        self.fire_plain(
            "CUSTOM",
            (
                ("profile-name", "internal"),
                ("username", endpoint.user),
                ("from-user", endpoint.user),
                ("from-host", endpoint.domain),
                ("contact", contact),
                ("call-id", endpoint.call_id),
                ("rpid", "unknown"),
                ("realm", endpoint.domain),
                ("network-ip", endpoint.contact_host),
                ("network-port", str(endpoint.contact_port)),
                ("user-agent", endpoint.user_agent),
                ("expires", "0"),
                *_directory_pairs(endpoint),
            ),
            subclass="sofia::unregister",
        )
        return True

    # ================================================================ status
    def uptime_text(self) -> str:
        """Return FreeSWITCH's ``UP ...`` uptime sentence."""
        elapsed = time.time() - self.started
        seconds = int(elapsed)
        micro = int((elapsed - seconds) * 1_000_000)
        years, rest = divmod(seconds, 365 * 86400)
        days, rest = divmod(rest, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        return (
            f"{years} years, {days} days, {hours} hours, {minutes} minutes, {secs} seconds, "
            f"{micro // 1000} milliseconds, {micro % 1000} microseconds"
        )

    def heartbeat(self) -> None:
        """Fire one HEARTBEAT event."""
        count = len(self.channels)
        self.fire_plain(
            "HEARTBEAT",
            (
                ("Event-Info", "System Ready"),
                ("Up-Time", self.uptime_text()),
                ("FreeSWITCH-Version", VERSION_FULL),
                ("Uptime-msec", str(int((time.time() - self.started) * 1000))),
                ("Session-Count", str(count)),
                ("Max-Sessions", str(self.config.max_sessions)),
                ("Session-Per-Sec", "30"),
                ("Session-Per-Sec-Last", "0"),
                ("Session-Per-Sec-Max", "0"),
                ("Session-Per-Sec-FiveMin", "0"),
                ("Session-Since-Startup", str(self.sessions_since_startup)),
                ("Session-Peak-Max", str(self.session_peak)),
                ("Session-Peak-FiveMin", str(self.session_peak)),
                ("Idle-CPU", "98.000000"),
            ),
        )

    def hangup_all(self, cause: str) -> int:
        """Hang every channel up with ``cause``; return how many there were."""
        count = 0
        for channel in list(self.channels.values()):
            if self.hangup(channel, cause):
                count += 1
        return count


def _contact(endpoint: Endpoint) -> str:
    address = f"{endpoint.user}@{endpoint.contact_host}:{endpoint.contact_port}"
    return f'"{endpoint.display_name}" <sip:{address}>'


def _directory_pairs(endpoint: Endpoint) -> tuple[tuple[str, str], ...]:
    name = endpoint.display_name or f"Extension {endpoint.user}"
    return (
        ("sip_number_alias", endpoint.user),
        ("sip_auth_username", endpoint.user),
        ("sip_auth_realm", endpoint.domain),
        ("number_alias", endpoint.user),
        ("user_name", endpoint.user),
        ("domain_name", endpoint.domain),
        ("user_context", "default"),
        ("effective_caller_id_name", name),
        ("effective_caller_id_number", endpoint.user),
    )


def playback_headers(path: str) -> tuple[tuple[str, str], ...]:
    """Return the Playback-File-Type/-Path headers of PLAYBACK_START/STOP."""
    kind = path.split("://", 1)[0] if "://" in path else "file"
    return (("Playback-File-Type", kind), ("Playback-File-Path", path))


def _split_vars(text: str) -> list[tuple[str, str]]:
    """Split ``a=b,c='d,e'`` into pairs, honouring single quotes."""
    pairs: list[tuple[str, str]] = []
    current: list[str] = []
    quoted = False
    items: list[str] = []
    for ch in text:
        if ch == "'":
            quoted = not quoted
            continue
        if ch == "," and not quoted:
            items.append("".join(current))
            current = []
            continue
        current.append(ch)
    items.append("".join(current))
    for item in items:
        name, sep, value = item.partition("=")
        if sep and name.strip():
            pairs.append((name.strip(), value))
    return pairs
