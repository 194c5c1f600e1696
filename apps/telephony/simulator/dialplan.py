"""The inbound-call "dialplan": pluggable steps a new call runs, per destination.

A :class:`Step` is anything with ``async def run(self, call: CallSession) -> None``. The
built-in steps wrap FreeSWITCH applications (answer, park, playback, bridge, ...) and fire the
same CHANNEL_EXECUTE / CHANNEL_EXECUTE_COMPLETE pairs and side events FreeSWITCH fires.
A later ``httapi`` step only has to fetch documents over HTTP and call the :class:`CallSession`
methods (``playback``, ``play_and_get_digits``, ``set``, ``transfer``, ``hangup``...); the
caller's planned IVR choices are in :attr:`CallSession.planned_digits`.

:class:`DialplanRouter` picks the steps for a destination: an exact route, else the first
matching regex route, else a bridge to the registered user of that number, else the default
(answer then park — how the suite's queue holds callers).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .catalog import DIALSTATUS
from .switch import OriginateError, playback_headers

if TYPE_CHECKING:
    from .channel import Channel
    from .switch import Switch


@runtime_checkable
class Step(Protocol):
    """One dialplan step run on a call."""

    async def run(self, call: CallSession) -> None:
        """Execute the step; return when the dialplan may continue."""


class CallSession:
    """What a dialplan step can do with its call (the applications of FreeSWITCH)."""

    def __init__(self, switch: Switch, channel: Channel):
        self.switch = switch
        self.channel = channel

    # ----------------------------------------------------------------- facts
    @property
    def uuid(self) -> str:
        """Return the channel's Unique-ID."""
        return self.channel.uuid

    @property
    def caller_number(self) -> str:
        """Return the caller id number."""
        return self.channel.profile.caller_id_number

    @property
    def destination(self) -> str:
        """Return the dialled number (Caller-Destination-Number)."""
        return self.channel.profile.destination_number

    @property
    def planned_digits(self) -> str:
        """Return the DTMF the simulated caller will enter when prompted (traffic plan)."""
        return self.channel.planned_digits

    @property
    def alive(self) -> bool:
        """Return True while the channel is up."""
        return self.channel.alive and not self.channel.hangup_cause

    def get_var(self, name: str) -> str | None:
        """Return a channel variable."""
        return self.channel.get_var(name)

    def channel_data(self) -> list[tuple[str, str]]:
        """Return the session's headers (Channel-*, Caller-*, variable_*) for an HTTP post."""
        return self.switch.channel_data(self.channel)

    # ----------------------------------------------------------------- applications
    async def execute(self, app: str, data: str | None = None) -> str:
        """Run the application ``app`` with ``data`` by name (like a dialplan action)."""
        handler = _APPLICATIONS.get(app)
        if handler is not None:
            result = await handler(self, data or "")
            return result if isinstance(result, str) else "_none_"
        sw, ch = self.switch, self.channel
        run = sw.app_start(ch, app, data)
        sw.app_complete(ch, run)
        return "_none_"

    async def answer(self) -> None:
        """Answer the call (CHANNEL_EXECUTE answer ... CHANNEL_ANSWER ...)."""
        sw, ch = self.switch, self.channel
        run = sw.app_start(ch, "answer", None)
        if not ch.answered:
            sw.answer(ch)
        sw.app_complete(ch, run)

    async def pre_answer(self) -> None:
        """Open early media without answering."""
        sw, ch = self.switch, self.channel
        run = sw.app_start(ch, "pre_answer", None)
        sw.pre_answer(ch)
        sw.app_complete(ch, run)

    async def park(self) -> None:
        """Park the call until something (uuid_bridge, transfer, hangup) takes it away."""
        sw, ch = self.switch, self.channel
        sw.park(ch)
        sw.drain_dtmf(ch)
        await asyncio.get_running_loop().create_future()

    async def set(self, name: str, value: str) -> None:
        """Set a channel variable (CHANNEL_EXECUTE set)."""
        sw, ch = self.switch, self.channel
        run = sw.app_start(ch, "set", f"{name}={value}")
        ch.set_var(name, value)
        sw.app_complete(ch, run)

    async def playback(self, path: str, seconds: float | None = None) -> None:
        """Play ``path`` for ``seconds`` (default: the configured prompt length)."""
        sw, ch = self.switch, self.channel
        done = asyncio.get_running_loop().create_future()

        def interrupted() -> None:
            headers = (*playback_headers(path), ("Playback-Status", "break"))
            sw.emit("PLAYBACK_STOP", ch, post=headers)
            sw.app_complete(ch, run, "FILE PLAYED")

        run = sw.app_start(ch, "playback", path, on_interrupt=interrupted)
        sw.emit("PLAYBACK_START", ch, post=playback_headers(path))
        duration = sw.config.playback_seconds if seconds is None else seconds
        handle = sw.later(duration, lambda: done.done() or done.set_result(None))
        try:
            await done
        finally:
            handle.cancel()
        if ch.app is run:
            samples = int(duration * 8000)
            ch.set_vars(
                (
                    ("playback_last_offset_pos", str(samples)),
                    ("playback_seconds", str(int(duration))),
                    ("playback_ms", str(int(duration * 1000))),
                    ("playback_samples", str(samples)),
                )
            )
            headers = (*playback_headers(path), ("Playback-Status", "done"))
            sw.emit("PLAYBACK_STOP", ch, post=headers)
            sw.app_complete(ch, run, "FILE PLAYED")

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (CHANNEL_EXECUTE sleep)."""
        sw, ch = self.switch, self.channel
        run = sw.app_start(ch, "sleep", str(int(seconds * 1000)))
        await asyncio.sleep(seconds)
        sw.app_complete(ch, run)

    async def hangup(self, cause: str = "NORMAL_CLEARING") -> None:
        """Hang up (CHANNEL_EXECUTE hangup, CHANNEL_HANGUP, CHANNEL_EXECUTE_COMPLETE ...)."""
        sw, ch = self.switch, self.channel
        sw.app_start(ch, "hangup", cause)
        sw.hangup(ch, cause)

    async def transfer(self, destination: str) -> None:
        """Blind-transfer the call to ``destination`` (this dialplan ends)."""
        sw, ch = self.switch, self.channel
        run = sw.app_start(ch, "transfer", destination)
        sw.app_complete(ch, run)
        sw.transfer(ch, destination)

    async def bridge(self, dialstring: str, timeout: float | None = None) -> str:
        """Call ``dialstring`` and bridge to it; return ``SUCCESS`` or the failure cause.

        Returns once the bridge ends; with ``hangup_after_bridge=true`` the call then hangs up.
        """
        sw, ch = self.switch, self.channel
        legs: list[Channel] = []

        def interrupted() -> None:
            for leg in legs:
                if leg.alive and leg.partner is None:
                    sw.hangup(leg, "ORIGINATOR_CANCEL", disposition="send_cancel")
            sw.app_complete(ch, run)

        run = sw.app_start(ch, "bridge", dialstring, on_interrupt=interrupted)
        try:
            leg = sw.create_outbound(dialstring, originator=ch)
        except OriginateError as error:
            _bridge_failed(ch, error.cause)
            sw.app_complete(ch, run)
            return error.cause
        legs.append(leg)
        if timeout is None:
            timeout = _float(leg.get_var("leg_timeout")) or _float(ch.get_var("call_timeout"))
        outcome = await ring(sw, leg, ch, timeout or sw.config.originate_timeout)
        if outcome != "ANSWER":
            _bridge_failed(ch, outcome)
            sw.app_complete(ch, run)
            return outcome
        if not ch.answered:
            sw.answer(ch)
        ch.bridge_done = asyncio.get_running_loop().create_future()
        sw.bridge(ch, leg, "bridge")
        await ch.bridge_done
        if ch.alive and not ch.hangup_cause and ch.var_true("hangup_after_bridge"):
            sw.hangup(ch, "NORMAL_CLEARING")
        return "SUCCESS"

    async def play_and_get_digits(
        self,
        min_digits: int,
        max_digits: int,
        *,
        tries: int = 1,
        timeout: float = 5.0,
        terminators: str = "#",
        prompt: str = "silence_stream://250",
        variable: str = "digits",
        regex: str = r"\d+",
        digit_timeout: float | None = None,
    ) -> str:
        """Prompt and collect DTMF into ``variable``; return the digits ('' on failure).

        Digits the caller pressed (:meth:`Simulator.press_dtmf`) are used first; otherwise the
        caller's :attr:`planned_digits` are entered once the prompt has played.
        """
        sw, ch = self.switch, self.channel
        data = f"{min_digits} {max_digits} {tries} {int(timeout * 1000)} {terminators} {prompt}"
        data += f" silence_stream://250 {variable} {regex}"
        run = sw.app_start(ch, "play_and_get_digits", data)
        pattern = re.compile(regex)
        loop = asyncio.get_running_loop()
        result = ""
        terminator_used = ""
        for _attempt in range(max(tries, 1)):
            sw.emit("PLAYBACK_START", ch, post=playback_headers(prompt))
            headers = (*playback_headers(prompt), ("Playback-Status", "done"))
            sw.emit("PLAYBACK_STOP", ch, post=headers)
            if not ch.dtmf_queue and ch.planned_digits:
                planned, ch.planned_digits = ch.planned_digits, ""
                ch.dtmf_queue.extend(planned)
            collected: list[str] = []
            finished = loop.create_future()

            def reader(digit: str, collected: list[str] = collected, finished=finished) -> None:
                nonlocal terminator_used
                if finished.done():
                    return
                if digit in terminators:
                    terminator_used = digit
                    finished.set_result(None)
                    return
                collected.append(digit)
                if len(collected) >= max_digits:
                    finished.set_result(None)

            ch.dtmf_reader = reader
            sw.drain_dtmf(ch)
            try:
                await asyncio.wait_for(asyncio.shield(finished), timeout)
            except TimeoutError:
                pass
            finally:
                ch.dtmf_reader = None
            digits = "".join(collected)
            if len(digits) >= min_digits and pattern.fullmatch(digits):
                result = digits
                break
        ch.set_vars(
            (
                ("read_terminator_used", terminator_used),
                ("read_result", "success" if result else "failure"),
                (variable, result),
            )
        )
        sw.app_complete(ch, run)
        return result

    async def record_session(self, path: str) -> None:
        """Start recording the call to ``path``."""
        sw, ch = self.switch, self.channel
        run = sw.app_start(ch, "record_session", path)
        sw.record_start(ch, path)
        sw.app_complete(ch, run)

    async def stop_record_session(self, path: str) -> None:
        """Stop recording ``path``."""
        sw, ch = self.switch, self.channel
        run = sw.app_start(ch, "stop_record_session", path)
        sw.record_stop(ch, path)
        sw.app_complete(ch, run)

    async def eavesdrop(self, target_uuid: str) -> None:
        """Listen to ``target_uuid`` until the supervisor presses ``*`` (modes 0-3 via DTMF)."""
        sw, ch = self.switch, self.channel
        target = sw.find(target_uuid)
        stopped = False

        def stop_bug() -> None:
            nonlocal stopped
            if stopped:
                return
            stopped = True
            if target is not None and ch in target.eavesdroppers:
                target.eavesdroppers.remove(ch)
                if target.alive:
                    sw.emit(
                        "MEDIA_BUG_STOP",
                        target,
                        pre=(
                            ("Media-Bug-Function", "eavesdrop"),
                            ("Media-Bug-Target", target.uuid),
                        ),
                    )

        def interrupted() -> None:
            ch.dtmf_reader = None
            stop_bug()
            sw.app_complete(ch, run)

        run = sw.app_start(ch, "eavesdrop", target_uuid, on_interrupt=interrupted)
        if target is None or not target.alive:
            sw.app_complete(ch, run)
            return
        target.eavesdroppers.append(ch)
        sw.emit(
            "MEDIA_BUG_START",
            target,
            pre=(("Media-Bug-Function", "eavesdrop"), ("Media-Bug-Target", target.uuid)),
        )
        done = ch.eavesdrop_done = asyncio.get_running_loop().create_future()

        def reader(digit: str) -> None:
            if digit == "*" and not done.done():
                done.set_result("done")

        ch.dtmf_reader = reader
        sw.drain_dtmf(ch)
        try:
            await done
        finally:
            ch.dtmf_reader = None
            ch.eavesdrop_done = None
        stop_bug()
        if ch.app is run:
            sw.app_complete(ch, run)


async def ring(sw: Switch, leg: Channel, originator: Channel | None, timeout: float) -> str:
    """Let ``leg``'s endpoint ring, then answer/reject/time out; return ``ANSWER`` or a cause."""
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[str] = loop.create_future()
    leg.ring_outcome = outcome
    sw.ring(leg, originator)
    endpoint = leg.endpoint
    handles = []

    def answer() -> None:
        if not outcome.done() and leg.alive:
            sw.answer_outbound(leg)
            outcome.set_result("ANSWER")

    def reject(cause: str) -> None:
        if not outcome.done() and leg.alive:
            sw.remote_hangup(leg, cause)

    def expire() -> None:
        if not outcome.done() and leg.alive:
            sw.hangup(leg, "NO_ANSWER", disposition="send_cancel")

    if endpoint is not None:
        if endpoint.reject_cause:
            handles.append(sw.later(endpoint.answer_after, lambda: reject(endpoint.reject_cause)))
        elif endpoint.answers:
            handles.append(sw.later(endpoint.answer_after, answer))
    handles.append(sw.later(timeout, expire))
    try:
        return await outcome
    finally:
        leg.ring_outcome = None
        for handle in handles:
            handle.cancel()


def _bridge_failed(channel: Channel, cause: str) -> None:
    channel.unset_var("originate_signal_bond")
    channel.set_vars(
        (
            ("originate_disposition", cause),
            ("DIALSTATUS", DIALSTATUS.get(cause, "CHANUNAVAIL")),
            ("originate_failed_cause", cause),
        )
    )


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


async def _app_set(call: CallSession, data: str) -> str:
    name, _, value = data.partition("=")
    await call.set(name, value)
    return "_none_"


async def _app_playback(call: CallSession, data: str) -> str:
    await call.playback(data)
    return "FILE PLAYED"


async def _app_sleep(call: CallSession, data: str) -> str:
    await call.sleep((_float(data) or 0.0) / 1000)
    return "_none_"


async def _app_pagd(call: CallSession, data: str) -> str:
    args = data.split()
    args += [""] * (10 - len(args))
    return await call.play_and_get_digits(
        int(args[0] or 1),
        int(args[1] or 1),
        tries=int(args[2] or 1),
        timeout=(_float(args[3]) or 5000.0) / 1000,
        terminators=args[4] or "#",
        prompt=args[5] or "silence_stream://250",
        variable=args[7] or "digits",
        regex=args[8] or r"\d+",
    )


_APPLICATIONS = {
    "answer": lambda call, data: call.answer(),
    "pre_answer": lambda call, data: call.pre_answer(),
    "park": lambda call, data: call.park(),
    "set": _app_set,
    "export": _app_set,
    "playback": _app_playback,
    "sleep": _app_sleep,
    "hangup": lambda call, data: call.hangup(data or "NORMAL_CLEARING"),
    "transfer": lambda call, data: call.transfer(data.split()[0] if data else ""),
    "bridge": lambda call, data: call.bridge(data),
    "record_session": lambda call, data: call.record_session(data),
    "stop_record_session": lambda call, data: call.stop_record_session(data),
    "eavesdrop": lambda call, data: call.eavesdrop(data),
    "play_and_get_digits": _app_pagd,
}


# --------------------------------------------------------------------- built-in steps
@dataclass(frozen=True)
class Answer:
    """Answer the call."""

    async def run(self, call: CallSession) -> None:
        """Answer."""
        await call.answer()


@dataclass(frozen=True)
class Park:
    """Park the call (the queue's hold)."""

    async def run(self, call: CallSession) -> None:
        """Park until taken away."""
        await call.park()


@dataclass(frozen=True)
class SetVar:
    """Set a channel variable."""

    name: str
    value: str

    async def run(self, call: CallSession) -> None:
        """Set the variable."""
        await call.set(self.name, self.value)


@dataclass(frozen=True)
class Playback:
    """Play a prompt for ``seconds`` (None: the configured prompt length)."""

    path: str
    seconds: float | None = None

    async def run(self, call: CallSession) -> None:
        """Play it."""
        await call.playback(self.path, self.seconds)


@dataclass(frozen=True)
class Sleep:
    """Wait."""

    seconds: float

    async def run(self, call: CallSession) -> None:
        """Wait."""
        await call.sleep(self.seconds)


@dataclass(frozen=True)
class Hangup:
    """Hang up with a cause."""

    cause: str = "NORMAL_CLEARING"

    async def run(self, call: CallSession) -> None:
        """Hang up."""
        await call.hangup(self.cause)


@dataclass(frozen=True)
class Bridge:
    """Bridge to a dial string (``user/1001``, ``sofia/internal/1001@host``...)."""

    dialstring: str
    timeout: float | None = None

    async def run(self, call: CallSession) -> None:
        """Bridge; the dialplan continues when the bridge ends or fails."""
        await call.bridge(self.dialstring, self.timeout)


@dataclass(frozen=True)
class CollectDigits:
    """``play_and_get_digits`` into ``variable``."""

    variable: str = "digits"
    min_digits: int = 1
    max_digits: int = 1
    tries: int = 1
    timeout: float = 5.0
    terminators: str = "#"
    prompt: str = "silence_stream://250"

    async def run(self, call: CallSession) -> None:
        """Collect."""
        await call.play_and_get_digits(
            self.min_digits,
            self.max_digits,
            tries=self.tries,
            timeout=self.timeout,
            terminators=self.terminators,
            prompt=self.prompt,
            variable=self.variable,
        )


@dataclass(frozen=True)
class Execute:
    """Run any application by name (unknown ones complete immediately)."""

    app: str
    data: str | None = None

    async def run(self, call: CallSession) -> None:
        """Execute."""
        await call.execute(self.app, self.data)


DEFAULT_STEPS: tuple[Step, ...] = (Answer(), Park())


class DialplanRouter:
    """Choose the steps an inbound (or transferred) call runs, by destination number."""

    def __init__(self, default: Sequence[Step] = DEFAULT_STEPS):
        self.default: tuple[Step, ...] = tuple(default)
        self.routes: dict[str, tuple[Step, ...]] = {}
        self.patterns: list[tuple[re.Pattern[str], tuple[Step, ...]]] = []

    def set_route(self, destination: str, steps: Sequence[Step]) -> None:
        """Route calls to exactly ``destination`` through ``steps``."""
        self.routes[destination] = tuple(steps)

    def set_pattern(self, pattern: str, steps: Sequence[Step]) -> None:
        """Route destinations matching the regex ``pattern`` through ``steps``."""
        self.patterns.append((re.compile(pattern), tuple(steps)))

    def set_default(self, steps: Sequence[Step]) -> None:
        """Replace the default steps (answer + park)."""
        self.default = tuple(steps)

    def resolve(self, switch: Switch, destination: str) -> tuple[Step, ...]:
        """Return the steps for ``destination``."""
        steps = self.routes.get(destination)
        if steps is not None:
            return steps
        for pattern, steps in self.patterns:
            if pattern.fullmatch(destination):
                return steps
        if switch.directory.registered(destination) is not None:
            return (Bridge(f"user/{destination}"),)
        return self.default


def parse_application(exten: str) -> tuple[str, str]:
    """Split originate's ``&app(args)`` into ``(app, args)``."""
    body = exten[1:] if exten.startswith("&") else exten
    name, _, rest = body.partition("(")
    return name, rest[:-1] if rest.endswith(")") else rest
