"""Typed FreeSWITCH call-control commands over an ``ESLConnection``.

Every method takes keyword arguments, validates them, renders the exact command line
FreeSWITCH expects and parses the reply into a typed result, raising ``CommandError``
subclasses from ``errors`` on failure. Reply formats were checked against the FreeSWITCH
1.10.12 captures in ``/work/shared/fixtures/esl`` (``b2``, ``d1``, ``e1``, ``g1``, ``i1``,
``j1``/``j2``, ``k1``): e.g. ``uuid_bridge`` answers ``+OK <other uuid>``, ``uuid_getvar`` and
``uuid_exists`` answer without a trailing newline, ``show ... as json`` answers
``{"row_count": 0}`` without ``rows`` when empty.

``originate`` goes through ``bgapi`` (it blocks until answer or failure, up to the ring
timeout); everything else uses ``api`` with ``api_timeout``.

Quoting: FreeSWITCH splits an API command line on spaces, honouring single quotes (which it
removes) and backslash escapes; the ``{k=v,...}`` block is then split on commas, where ``\\,``
is a literal comma. Values are rendered accordingly (commas escaped, values with spaces
single-quoted); characters that cannot be passed through both levels reliably (quotes,
backslashes, braces, brackets, line breaks) are refused with ``ValueError`` rather than
mangled. Application arguments cannot contain ``)`` because ``originate`` ends them at the
first closing parenthesis.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from .connection import ESLConnection
from .errors import CommandError, NoSuchChannel

__all__ = [
    "EAVESDROP_EVENT_SUBCLASS",
    "ConsultCall",
    "EavesdropMode",
    "FreeSwitchClient",
    "HoldAction",
    "Leg",
    "RecordAction",
    "TransferLeg",
    "render_channel_variables",
]

VariableValue = str | int | float | bool

#: Event-Subclass of the CUSTOM event used to switch an eavesdropper's mode over ESL (j2).
EAVESDROP_EVENT_SUBCLASS = "callcenter::eavesdrop"

# FreeSWITCH's own default ring timeout for originate, used when the caller gives none.
_DEFAULT_ORIGINATE_TIMEOUT = 60

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_DIGITS_RE = re.compile(r"[0-9A-Da-d*#wW]+")
_FORBIDDEN_IN_VALUES = frozenset("'\"\\{}[]<>\r\n\t\0")


class Leg(StrEnum):
    """Which leg(s) of a bridged call a command affects."""

    ALEG = "aleg"
    BLEG = "bleg"
    BOTH = "both"


TransferLeg = Leg


class HoldAction(StrEnum):
    """What ``uuid_hold`` does: put on hold, take off hold, or toggle."""

    ON = "on"
    OFF = "off"
    TOGGLE = "toggle"


class RecordAction(StrEnum):
    """Sub-command of ``uuid_record``.

    ``MASK``/``UNMASK`` write digital silence over a span while keeping the file's timeline
    (k1: 3.000 s of zero samples, length unchanged), which is what PCI masking needs;
    ``PAUSE``/``RESUME`` drop the span from the file (k1: 6.0 s file for 9.0 s of call).
    None of the four produces an event: remember the state yourself.
    """

    START = "start"
    STOP = "stop"
    MASK = "mask"
    UNMASK = "unmask"
    PAUSE = "pause"
    RESUME = "resume"


class EavesdropMode(StrEnum):
    """What a supervisor eavesdropping on a *target* channel can do.

    Measured in j1/j2 with the target = the caller leg: ``TALK_TO_TARGET`` (DTMF 2,
    ``eavesdrop_whisper_bleg``) is heard by the target only, ``TALK_TO_PARTNER`` (DTMF 1,
    ``eavesdrop_whisper_aleg``) by the target's bridge partner only, ``BARGE`` (DTMF 3, both
    variables) by both, ``LISTEN`` (DTMF 0) by nobody. To whisper to an agent, eavesdrop on the
    agent's channel with ``TALK_TO_TARGET`` (or on the caller's with ``TALK_TO_PARTNER``).
    """

    LISTEN = "listen"
    TALK_TO_TARGET = "talk_to_target"
    TALK_TO_PARTNER = "talk_to_partner"
    BARGE = "barge"


_EAVESDROP_DIGIT = {
    EavesdropMode.LISTEN: "0",
    EavesdropMode.TALK_TO_PARTNER: "1",
    EavesdropMode.TALK_TO_TARGET: "2",
    EavesdropMode.BARGE: "3",
}

_EAVESDROP_VARIABLES: dict[EavesdropMode, dict[str, VariableValue]] = {
    EavesdropMode.LISTEN: {},
    EavesdropMode.TALK_TO_PARTNER: {"eavesdrop_whisper_aleg": True},
    EavesdropMode.TALK_TO_TARGET: {"eavesdrop_whisper_bleg": True},
    EavesdropMode.BARGE: {"eavesdrop_whisper_aleg": True, "eavesdrop_whisper_bleg": True},
}


@dataclass(frozen=True, slots=True)
class ConsultCall:
    """State of an attended transfer in progress (see ``attended_transfer_start``)."""

    customer_uuid: str
    agent_uuid: str
    consult_uuid: str


def _token(value: str, what: str) -> str:
    """Return ``value`` if it is one non-empty word FreeSWITCH will not split or unquote."""
    if not value or any(ch.isspace() for ch in value) or "'" in value or "\\" in value:
        raise ValueError(f"{what} must be one word without quotes or backslashes: {value!r}")
    return value


def _render_value(value: VariableValue, what: str) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        text = str(value)
    else:
        text = value
    bad = _FORBIDDEN_IN_VALUES.intersection(text)
    if bad or text.startswith("^^"):
        raise ValueError(f"{what} contains characters that cannot be passed: {text!r}")
    text = text.replace(",", "\\,")
    if " " in text:
        text = f"'{text}'"
    return text


def render_channel_variables(variables: Mapping[str, VariableValue]) -> str:
    """Render channel variables as an originate prefix, ``{k=v,...}`` (empty when none).

    Commas in values are escaped (``\\,``), values with spaces are single-quoted; names must be
    identifiers. Raises ``ValueError`` for values that FreeSWITCH could not receive intact.
    """
    if not variables:
        return ""
    items = []
    for name, value in variables.items():
        if not _NAME_RE.fullmatch(name):
            raise ValueError(f"invalid channel variable name: {name!r}")
        items.append(f"{name}={_render_value(value, f'variable {name}')}")
    return "{" + ",".join(items) + "}"


def _render_application(application: str, args: str | None) -> str:
    if not _NAME_RE.fullmatch(application):
        raise ValueError(f"invalid application name: {application!r}")
    if args is None or args == "":
        return f"&{application}"
    if ")" in args or "'" in args or "\\" in args or "\n" in args or "\r" in args:
        raise ValueError(f"application arguments cannot contain ) ' \\ or line breaks: {args!r}")
    rendered = f"&{application}({args})"
    return f"'{rendered}'" if " " in rendered else rendered


def _ok_text(body: str, command: str) -> str:
    """Return the text after ``+OK`` or raise ``CommandError`` for any other reply."""
    text = body.strip()
    if not text.startswith("+OK"):
        raise CommandError(text or "(empty reply)", command=command)
    return text[3:].strip()


def _json_rows(body: str, command: str) -> list[dict[str, str]]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise CommandError(f"unexpected non-JSON reply: {body[:200]!r}", command=command) from exc
    if not isinstance(data, dict):
        raise CommandError(f"unexpected JSON reply: {body[:200]!r}", command=command)
    rows = data.get("rows") or []
    return [dict(row) for row in rows if isinstance(row, dict)]


class FreeSwitchClient:
    """Issue typed call-control commands on one ``ESLConnection``."""

    def __init__(
        self,
        connection: ESLConnection,
        *,
        api_timeout: float = 5.0,
        originate_margin: float = 10.0,
        eavesdrop_event_subclass: str = EAVESDROP_EVENT_SUBCLASS,
    ) -> None:
        self.connection = connection
        self.api_timeout = api_timeout
        self.originate_margin = originate_margin
        self.eavesdrop_event_subclass = eavesdrop_event_subclass

    def _api(self, command: str) -> str:
        return self.connection.api(command, timeout=self.api_timeout)

    # ---------------------------------------------------------------- originate

    def originate(
        self,
        *,
        destination: str,
        application: str | None = None,
        application_args: str | None = None,
        extension: str | None = None,
        dialplan: str = "XML",
        context: str = "default",
        origination_uuid: str | None = None,
        caller_id_name: str | None = None,
        caller_id_number: str | None = None,
        variables: Mapping[str, VariableValue] | None = None,
        timeout: int | None = None,
        job_uuid: str | None = None,
    ) -> str:
        """Call ``destination`` (a dial string) and return the new channel's uuid.

        When it answers, the channel runs ``application(application_args)`` or enters
        ``extension`` in ``dialplan``/``context`` (give exactly one of the two).
        ``timeout`` is the ring timeout in seconds (``originate_timeout``; FreeSWITCH's default
        60 s when None). Blocks until answer or failure; raises ``CallFailed`` subclasses
        (``UserNotRegistered``, ``NoAnswer``, ...) carrying the hangup cause.
        """
        command = self._originate_command(
            destination=destination,
            application=application,
            application_args=application_args,
            extension=extension,
            dialplan=dialplan,
            context=context,
            origination_uuid=origination_uuid,
            caller_id_name=caller_id_name,
            caller_id_number=caller_id_number,
            leading_variables=None,
            variables=variables,
            timeout=timeout,
        )
        wait = (timeout or _DEFAULT_ORIGINATE_TIMEOUT) + self.originate_margin
        body = self.connection.bgapi(command, timeout=wait, job_uuid=job_uuid)
        return _ok_text(body, command)

    def _originate_command(
        self,
        *,
        destination: str,
        application: str | None,
        application_args: str | None,
        extension: str | None,
        dialplan: str,
        context: str,
        origination_uuid: str | None,
        caller_id_name: str | None,
        caller_id_number: str | None,
        leading_variables: Mapping[str, VariableValue] | None,
        variables: Mapping[str, VariableValue] | None,
        timeout: int | None,
    ) -> str:
        if (application is None) == (extension is None):
            raise ValueError("give exactly one of application= or extension=")
        merged: dict[str, VariableValue] = {}
        if origination_uuid is not None:
            merged["origination_uuid"] = _token(origination_uuid, "origination_uuid")
        merged.update(leading_variables or {})
        if caller_id_name is not None:
            merged["origination_caller_id_name"] = caller_id_name
        if caller_id_number is not None:
            merged["origination_caller_id_number"] = caller_id_number
        merged.update(variables or {})
        if timeout is not None:
            if timeout <= 0:
                raise ValueError("timeout must be a positive number of seconds")
            merged["originate_timeout"] = int(timeout)
        dial = render_channel_variables(merged) + _token(destination, "destination")
        if application is not None:
            target = _render_application(application, application_args)
        else:
            target = " ".join(
                (
                    _token(extension or "", "extension"),
                    _token(dialplan, "dialplan"),
                    _token(context, "context"),
                )
            )
        return f"originate {dial} {target}"

    # ------------------------------------------------------------ call control

    def uuid_bridge(self, *, uuid: str, other_uuid: str) -> None:
        """Bridge two existing channels (reply ``+OK <other_uuid>``)."""
        command = f"uuid_bridge {_token(uuid, 'uuid')} {_token(other_uuid, 'other_uuid')}"
        _ok_text(self._api(command), command)

    def uuid_transfer(
        self,
        *,
        uuid: str,
        destination: str,
        dialplan: str = "XML",
        context: str = "default",
        leg: Leg = Leg.ALEG,
    ) -> None:
        """Blind-transfer ``uuid`` to ``destination`` in ``dialplan``/``context``.

        ``leg`` selects what moves: the channel itself (``ALEG``, its bridge partner is hung
        up, as in d1), its partner (``BLEG``, ``-bleg``) or both (``BOTH``, ``-both``).
        """
        flag = {Leg.ALEG: "", Leg.BLEG: "-bleg ", Leg.BOTH: "-both "}[Leg(leg)]
        command = (
            f"uuid_transfer {_token(uuid, 'uuid')} {flag}{_token(destination, 'destination')} "
            f"{_token(dialplan, 'dialplan')} {_token(context, 'context')}"
        )
        _ok_text(self._api(command), command)

    def uuid_kill(self, *, uuid: str, cause: str | None = None, missing_ok: bool = False) -> bool:
        """Hang up ``uuid`` (optionally with a hangup cause); return False if it was gone.

        Raises ``NoSuchChannel`` for an unknown uuid unless ``missing_ok``.
        """
        command = f"uuid_kill {_token(uuid, 'uuid')}"
        if cause is not None:
            command += f" {_token(cause, 'cause')}"
        try:
            _ok_text(self._api(command), command)
        except NoSuchChannel:
            if missing_ok:
                return False
            raise
        return True

    def uuid_hold(self, *, uuid: str, action: HoldAction = HoldAction.ON) -> None:
        """Put ``uuid`` on hold, take it off, or toggle (its partner hears hold music)."""
        action = HoldAction(action)
        prefix = "" if action is HoldAction.ON else f"{action.value} "
        command = f"uuid_hold {prefix}{_token(uuid, 'uuid')}"
        _ok_text(self._api(command), command)

    def uuid_record(
        self,
        *,
        uuid: str,
        action: RecordAction,
        path: str,
        limit_seconds: int | None = None,
    ) -> None:
        """Start/stop/mask/unmask/pause/resume recording ``uuid`` to ``path``.

        ``mask`` on a path that is not being recorded raises ``CommandError``
        (``-ERR Cannot mask recording session!``).
        """
        action = RecordAction(action)
        command = f"uuid_record {_token(uuid, 'uuid')} {action.value} {_token(path, 'path')}"
        if limit_seconds is not None:
            if action is not RecordAction.START:
                raise ValueError("limit_seconds applies to start only")
            command += f" {int(limit_seconds)}"
        _ok_text(self._api(command), command)

    def uuid_broadcast(self, *, uuid: str, path: str, leg: Leg = Leg.ALEG) -> None:
        """Play ``path`` (a file, ``tone_stream://...`` or ``app::args``) on a call leg."""
        command = f"uuid_broadcast {_token(uuid, 'uuid')} {_token(path, 'path')} {Leg(leg).value}"
        _ok_text(self._api(command), command)

    def uuid_send_dtmf(self, *, uuid: str, digits: str, duration_ms: int | None = None) -> None:
        """Send DTMF ``digits`` to ``uuid`` (no DTMF event is generated for outgoing digits)."""
        if not _DIGITS_RE.fullmatch(digits):
            raise ValueError(f"invalid DTMF digits: {digits!r}")
        argument = digits if duration_ms is None else f"{digits}@{int(duration_ms)}"
        command = f"uuid_send_dtmf {_token(uuid, 'uuid')} {argument}"
        _ok_text(self._api(command), command)

    def uuid_setvar(self, *, uuid: str, name: str, value: VariableValue | None) -> None:
        """Set channel variable ``name`` on ``uuid`` (``value=None`` unsets it)."""
        if not _NAME_RE.fullmatch(name):
            raise ValueError(f"invalid channel variable name: {name!r}")
        command = f"uuid_setvar {_token(uuid, 'uuid')} {name}"
        if value is not None:
            rendered = _render_value(value, f"variable {name}").replace("\\,", ",")
            command += f" {rendered}"
        _ok_text(self._api(command), command)

    def uuid_getvar(self, *, uuid: str, name: str) -> str | None:
        """Return channel variable ``name`` of ``uuid``, or None when it is not set."""
        if not _NAME_RE.fullmatch(name):
            raise ValueError(f"invalid channel variable name: {name!r}")
        body = self._api(f"uuid_getvar {_token(uuid, 'uuid')} {name}")
        # FreeSWITCH answers "_undef_" for an unset variable.
        return None if body == "_undef_" else body

    def uuid_exists(self, *, uuid: str) -> bool:
        """Tell whether a channel with this uuid exists."""
        command = f"uuid_exists {_token(uuid, 'uuid')}"
        body = self._api(command).strip()
        if body not in ("true", "false"):
            raise CommandError(f"unexpected reply {body!r}", command=command)
        return body == "true"

    def uuid_dump(self, *, uuid: str) -> dict[str, str]:
        """Return every header and variable of a channel (``uuid_dump <uuid> json``)."""
        command = f"uuid_dump {_token(uuid, 'uuid')} json"
        body = self._api(command)
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise CommandError(f"unexpected reply {body[:200]!r}", command=command) from exc
        return {str(key): str(value) for key, value in data.items()}

    # ----------------------------------------------------------- supervision

    def eavesdrop(
        self,
        *,
        supervisor_destination: str,
        target_uuid: str,
        mode: EavesdropMode = EavesdropMode.LISTEN,
        supervisor_uuid: str | None = None,
        caller_id_name: str | None = None,
        caller_id_number: str | None = None,
        enable_dtmf: bool = True,
        variables: Mapping[str, VariableValue] | None = None,
        timeout: int | None = None,
    ) -> str:
        """Call a supervisor and, on answer, let them eavesdrop on ``target_uuid``.

        Renders ``originate {...}<supervisor_destination> &eavesdrop(<target_uuid>)`` with the
        whisper variables of ``mode`` (see ``EavesdropMode``); returns the supervisor leg's
        uuid. With ``enable_dtmf`` the supervisor can switch modes with 0/1/2/3 and leave with
        ``*``; ``set_eavesdrop_mode`` does the same from the application. There is no
        CHANNEL_BRIDGE for the supervisor leg; FreeSWITCH reports only a MEDIA_BUG_START
        (``Media-Bug-Function: eavesdrop``) on the target.
        """
        leading = dict(_EAVESDROP_VARIABLES[EavesdropMode(mode)])
        if not enable_dtmf:
            leading["eavesdrop_enable_dtmf"] = False
        command = self._originate_command(
            destination=supervisor_destination,
            application="eavesdrop",
            application_args=_token(target_uuid, "target_uuid"),
            extension=None,
            dialplan="XML",
            context="default",
            origination_uuid=supervisor_uuid,
            caller_id_name=caller_id_name,
            caller_id_number=caller_id_number,
            leading_variables=leading,
            variables=variables,
            timeout=timeout,
        )
        wait = (timeout or _DEFAULT_ORIGINATE_TIMEOUT) + self.originate_margin
        return _ok_text(self.connection.bgapi(command, timeout=wait), command)

    def set_eavesdrop_mode(self, *, supervisor_uuid: str, mode: EavesdropMode) -> None:
        """Switch a running eavesdrop (listen/whisper/barge) without DTMF.

        Sends ``sendevent CUSTOM`` with ``Unique-ID: <supervisor_uuid>`` and
        ``eavesdrop-command: <digit>``; FreeSWITCH queues it to the supervisor's session and the
        eavesdrop loop treats it like the DTMF digit (j2). No event confirms the change.
        """
        self.connection.sendevent(
            "CUSTOM",
            {
                "Event-Subclass": self.eavesdrop_event_subclass,
                "Unique-ID": _token(supervisor_uuid, "supervisor_uuid"),
                "eavesdrop-command": _EAVESDROP_DIGIT[EavesdropMode(mode)],
            },
            timeout=self.api_timeout,
        )

    def uuid_audio_mute(self, *, uuid: str, muted: bool) -> None:
        """Mute or unmute what ``uuid`` says (e.g. a whispering supervisor's push-to-talk).

        Renders ``uuid_audio <uuid> start read mute 1`` / ``uuid_audio <uuid> stop``; j2 showed
        the level argument is required even for ``mute`` (without it: ``-USAGE: ...``).
        """
        action = "start read mute 1" if muted else "stop"
        command = f"uuid_audio {_token(uuid, 'uuid')} {action}"
        _ok_text(self._api(command), command)

    # ---------------------------------------------------- attended transfer

    def attended_transfer_start(
        self,
        *,
        customer_uuid: str,
        agent_uuid: str,
        target_destination: str,
        consult_uuid: str | None = None,
        hold_music: str | None = "local_stream://moh",
        caller_id_name: str | None = None,
        caller_id_number: str | None = None,
        variables: Mapping[str, VariableValue] | None = None,
        timeout: int | None = None,
    ) -> ConsultCall:
        """Start an attended transfer: the agent consults the target, the customer waits.

        Steps: (1) originate the consult leg to ``target_destination`` and park it on answer
        (``ignore_early_media``), so nothing changes for the customer if the target does not
        answer; (2) mark the customer leg ``park_after_bridge=true`` and
        ``hangup_after_bridge=false`` so that losing the agent parks it instead of hanging it
        up; (3) ``uuid_bridge agent consult``: the agent now talks to the target and the
        customer is unbridged and parked; (4) play ``hold_music`` to the customer.
        Finish with ``attended_transfer_complete`` (customer to target, agent leaves) or
        ``attended_transfer_cancel`` (customer back to agent, target hung up).
        """
        consult_variables: dict[str, VariableValue] = {"ignore_early_media": True}
        consult_variables.update(variables or {})
        consult = self.originate(
            destination=target_destination,
            application="park",
            origination_uuid=consult_uuid,
            caller_id_name=caller_id_name,
            caller_id_number=caller_id_number,
            variables=consult_variables,
            timeout=timeout,
        )
        self.uuid_setvar(uuid=customer_uuid, name="park_after_bridge", value=True)
        self.uuid_setvar(uuid=customer_uuid, name="hangup_after_bridge", value=False)
        self.uuid_bridge(uuid=agent_uuid, other_uuid=consult)
        if hold_music:
            self.uuid_broadcast(uuid=customer_uuid, path=hold_music, leg=Leg.ALEG)
        return ConsultCall(customer_uuid=customer_uuid, agent_uuid=agent_uuid, consult_uuid=consult)

    def attended_transfer_complete(self, consult: ConsultCall) -> None:
        """Connect the waiting customer to the consulted target and release the agent."""
        self.uuid_bridge(uuid=consult.customer_uuid, other_uuid=consult.consult_uuid)
        self.uuid_kill(uuid=consult.agent_uuid, missing_ok=True)

    def attended_transfer_cancel(self, consult: ConsultCall) -> None:
        """Take the customer back to the agent and hang up the consulted target."""
        self.uuid_bridge(uuid=consult.customer_uuid, other_uuid=consult.agent_uuid)
        self.uuid_kill(uuid=consult.consult_uuid, missing_ok=True)

    # ------------------------------------------------------------ inspection

    def show_channels(self) -> list[dict[str, str]]:
        """Return ``show channels as json`` rows (empty list when there are none)."""
        command = "show channels as json"
        return _json_rows(self._api(command), command)

    def show_calls(self) -> list[dict[str, str]]:
        """Return ``show calls as json`` rows: one per channel, with ``b_*`` partner columns."""
        command = "show calls as json"
        return _json_rows(self._api(command), command)

    def registrations(self) -> list[dict[str, str]]:
        """Return ``show registrations as json`` rows (``reg_user``, ``realm``, ``url``...)."""
        command = "show registrations as json"
        return _json_rows(self._api(command), command)

    def status(self) -> str:
        """Return the ``status`` text (uptime, session counts)."""
        return self._api("status")

    def version(self) -> str:
        """Return the ``version`` line, e.g. ``FreeSWITCH Version 1.10.12-release...``."""
        return self._api("version").strip()

    def global_getvar(self, *, name: str) -> str:
        """Return a global variable (empty string when unset)."""
        if not _NAME_RE.fullmatch(name):
            raise ValueError(f"invalid variable name: {name!r}")
        return self._api(f"global_getvar {name}")

    def user_exists(self, *, user: str, domain: str) -> bool:
        """Tell whether the directory has ``user`` in ``domain`` (``user_exists id ...``)."""
        command = f"user_exists id {_token(user, 'user')} {_token(domain, 'domain')}"
        body = self._api(command).strip()
        if body not in ("true", "false"):
            raise CommandError(f"unexpected reply {body!r}", command=command)
        return body == "true"

    def sofia_contact(self, *, user: str, domain: str, profile: str = "*") -> str | None:
        """Return the dial string of a registered user, or None when not registered.

        FreeSWITCH answers ``error/user_not_registered`` for a user without registration.
        """
        command = (
            f"sofia_contact {_token(profile, 'profile')}/{_token(user, 'user')}@"
            f"{_token(domain, 'domain')}"
        )
        body = self._api(command).strip()
        if not body or body.startswith("error/"):
            return None
        return body
