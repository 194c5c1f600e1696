"""Writes of the telephony app: calls and legs from FreeSWITCH events, CDRs, registrations, and
the call commands other apps request.

Event services work on a ``Ledger`` (the rows of one batch, saved in bulk by the event process) and
follow two rules that make them idempotent and order-proof (see models.py):

- facts that happen once (a leg was created, rang, answered, ended; its CDR) are set once;
- values that flip (state, hold, bridge) change only for an event newer than the one that last
  changed them (``*_sequence``).

Domain events are emitted only when a service actually changed something, so a duplicate event
announces nothing.
"""

from __future__ import annotations

import functools
import logging
import uuid as uuid_module
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import Conflict, InvalidInput, NotFound
from apps.telephony import command_dispatch
from apps.telephony import domain_events as events
from apps.telephony.ledger import Ledger
from apps.telephony.models import (
    Call,
    CallCommand,
    CallLeg,
    CallRecording,
    CallState,
    Cdr,
    EndpointRegistration,
    FreeswitchNode,
)

logger = logging.getLogger(__name__)

# Not a FreeSWITCH cause on purpose: reports must not mistake it for one. The real cause of a
# channel that ended while no event process listened is unknowable.
LOST_WHILE_DISCONNECTED = "LOST_WHILE_DISCONNECTED"

# Channel variables telephony itself sets on the legs it originates (not part of the IVR's cc_*).
CC_CALL_UUID = "cc_call_uuid"
CC_AGENT_ID = "cc_agent_id"
CC_LEG_ROLE = "cc_leg_role"
CC_COMMAND_ID = "cc_command_id"
_BOOKKEEPING_VARIABLES = frozenset({CC_CALL_UUID, CC_AGENT_ID, CC_LEG_ROLE, CC_COMMAND_ID})

_ROLES = frozenset(CallLeg.Role.values)


def from_microseconds(value: str | int | None) -> datetime | None:
    """Return a UTC datetime from FreeSWITCH microseconds ("0" and empty mean never)."""
    if not value:
        return None
    micros = int(value)
    if micros <= 0:
        return None
    return datetime.fromtimestamp(micros / 1_000_000, tz=UTC)


class ChannelInfo(Protocol):
    """What an event says about its channel, enough to create the leg and its call.

    The listener's implementation reads the event's headers lazily: most events only need
    ``uuid``, and scanning ~200 headers for variables costs more than handling the event.
    """

    uuid: str
    direction: str
    channel_name: str
    call_uuid: str | None
    originator_uuid: str | None
    caller_number: str
    caller_name: str
    destination: str
    created_at: datetime | None
    has_variables: bool

    @property
    def variables(self) -> Mapping[str, str]:
        """The cc_* variables plus those naming an agent (dialed_user, user_name ...)."""
        ...


# ---------------------------------------------------------------------------------- legs/calls


def leg_observe(
    ledger: Ledger,
    info: ChannelInfo,
    *,
    sequence: int,
    at: datetime,
    capture_variables: bool = True,
) -> CallLeg:
    """Return the leg an event happened on, creating it (and its call) the first time.

    With ``capture_variables`` a newer event of the call's A-leg refreshes the call's cc_*
    variables (the listener asks only on events after which the IVR may have set new ones).
    """
    leg = ledger.leg(info.uuid)
    if leg is None:
        leg = _leg_create(ledger, info, sequence=sequence, at=at)
    if sequence > leg.last_event_sequence:
        leg.last_event_sequence = sequence
        ledger.changed(leg, "last_event_sequence")
    call = leg.call
    if sequence > call.last_event_sequence:
        call.last_event_sequence = sequence
        ledger.changed(call, "last_event_sequence")
    if (
        capture_variables
        and leg.uuid == call.uuid
        and sequence > call.vars_sequence
        and info.has_variables
    ):
        _call_capture_variables(ledger, call, info.variables, sequence=sequence)
    return leg


def _leg_create(ledger: Ledger, info: ChannelInfo, *, sequence: int, at: datetime) -> CallLeg:
    variables = info.variables
    call = _call_for_new_leg(ledger, info)
    started_at = info.created_at or at
    is_new_call = call is None
    if call is None:
        call = Call(
            node=ledger.node,
            uuid=info.uuid,
            direction=info.direction if info.direction in Call.Direction.values else "inbound",
            caller_number=info.caller_number[:64],
            caller_name=info.caller_name[:128],
            callee_number=info.destination[:64],
            did=(info.destination if info.direction == "inbound" else "")[:64],
            state=CallState.RINGING,
            started_at=started_at,
        )
        ledger.add_call(call)
    agent = _agent_for(ledger, info)
    role = variables.get(CC_LEG_ROLE, "")
    if role not in _ROLES:
        if agent is not None:
            role = CallLeg.Role.AGENT
        elif is_new_call:
            role = CallLeg.Role.CALLER
        else:
            role = CallLeg.Role.CALLEE
    dialed_user = variables.get("dialed_user")
    endpoint = (
        f"user/{agent.extension}"
        if agent is not None
        else f"user/{dialed_user}"
        if dialed_user
        else info.channel_name
    )
    leg = CallLeg(
        node=ledger.node,
        call=call,
        uuid=info.uuid,
        role=role,
        direction=info.direction if info.direction in Call.Direction.values else "inbound",
        channel_name=info.channel_name[:255],
        endpoint=endpoint[:255],
        agent_id=agent.id if agent is not None else None,
        caller_number=info.caller_number[:64],
        callee_number=info.destination[:64],
        state=CallState.RINGING,
        started_at=started_at,
    )
    ledger.add_leg(leg)
    if is_new_call:
        ledger.emit(
            events.CALL_CREATED,
            at=started_at,
            call=call,
            leg=leg,
            data={
                "direction": call.direction,
                "caller_number": call.caller_number,
                "callee_number": call.callee_number,
                "did": call.did,
            },
        )
    elif call.ended_at is None:
        _call_refresh(ledger, call)
    return leg


def _call_for_new_leg(ledger: Ledger, info: ChannelInfo) -> Call | None:
    """Find the call a new leg joins: ours by variable, its originator's, or FreeSWITCH's."""
    wanted = info.variables.get(CC_CALL_UUID)
    if wanted:
        if wanted not in ledger.calls:
            # Loads the call with all its legs: the call's state is derived from every leg.
            ledger.prefetch(uuids=[wanted])
        call = ledger.calls.get(wanted)
        if call is not None:
            return call
    for other_uuid in (info.originator_uuid, info.call_uuid):
        if other_uuid and other_uuid != info.uuid:
            other = ledger.leg(other_uuid)
            if other is not None:
                return other.call
            call = ledger.calls.get(other_uuid)
            if call is not None:
                return call
    return None


def _agent_for(ledger: Ledger, info: ChannelInfo) -> Any:
    variables = info.variables
    agent_id = variables.get(CC_AGENT_ID, "")
    if agent_id.isdigit():
        agent = ledger.agent_by_id(int(agent_id))
        if agent is not None:
            return agent
    extension = variables.get("dialed_user")
    if not extension and info.direction == "inbound":
        # A call placed from an agent's authenticated phone or softphone.
        extension = variables.get("user_name") or variables.get("sip_auth_username")
    if extension:
        return ledger.agent_by_extension(extension)
    return None


def _call_capture_variables(
    ledger: Ledger, call: Call, variables: Mapping[str, str], *, sequence: int
) -> None:
    captured = {
        name: value
        for name, value in variables.items()
        if name.startswith("cc_") and name not in _BOOKKEEPING_VARIABLES
    }
    call.vars_sequence = sequence
    changed = ["vars_sequence"]
    if captured != call.cc_variables:
        call.cc_variables = captured
        changed.append("cc_variables")
        queue = captured.get("cc_queue", "")[:100]
        customer = captured.get("cc_customer_id", "")
        values = {
            "queue_slug": queue,
            "ivr_path_ref": captured.get("cc_ivr_path", "")[:64],
            "customer_id": int(customer) if customer.isdigit() else None,
        }
        if captured.get("cc_did"):
            values["did"] = captured["cc_did"][:64]
        for name, value in values.items():
            if getattr(call, name) != value:
                setattr(call, name, value)
                changed.append(name)
    ledger.changed(call, *changed)


def _set_state(ledger: Ledger, leg: CallLeg, state: str, *, sequence: int) -> bool:
    """Move a live leg to a state if this event is newer than the last state change.

    Return True when the state value changed (not merely re-confirmed).
    """
    if leg.ended_at is not None or sequence <= leg.state_sequence:
        return False
    leg.state_sequence = sequence
    if leg.state == state:
        ledger.changed(leg, "state_sequence")
        return False
    leg.state = state
    ledger.changed(leg, "state_sequence", "state")
    return True


def _call_refresh(ledger: Ledger, call: Call) -> bool:
    """Derive the call's state and times from its legs; return True when it just ended."""
    legs = ledger.legs_of(call)
    if not legs or call.ended_at is not None:
        return False
    a_leg = next((leg for leg in legs if leg.uuid == call.uuid), legs[0])
    changed: list[str] = []
    open_legs = [leg for leg in legs if leg.ended_at is None]
    ended_now = False
    if open_legs:
        reference = (
            a_leg
            if a_leg.ended_at is None
            else next((leg for leg in open_legs if leg.state == CallState.BRIDGED), open_legs[0])
        )
        state = reference.state
    else:
        state = CallState.ENDED
        call.ended_at = max(leg.ended_at for leg in legs)  # type: ignore[type-var]
        call.hangup_cause = (a_leg.hangup_cause or legs[-1].hangup_cause)[:64]
        changed += ["ended_at", "hangup_cause"]
        ended_now = True
    if call.state != state:
        call.state = state
        changed.append("state")
    if call.answered_at is None and a_leg.answered_at is not None:
        call.answered_at = a_leg.answered_at
        changed.append("answered_at")
    bridged = [leg.bridged_at for leg in legs if leg.bridged_at is not None]
    if call.bridged_at is None and bridged:
        call.bridged_at = min(bridged)
        changed.append("bridged_at")
    if changed:
        ledger.changed(call, *changed)
    return ended_now


def leg_ring(
    ledger: Ledger, leg: CallLeg, *, at: datetime, sequence: int, early_media: bool
) -> None:
    """Record that a leg is ringing (CHANNEL_PROGRESS) or has early media."""
    state = CallState.EARLY if early_media else CallState.RINGING
    if leg.answered_at is None:
        _set_state(ledger, leg, state, sequence=sequence)
    if leg.ringing_at is None:
        leg.ringing_at = at
        ledger.changed(leg, "ringing_at")
        ledger.emit(events.CALL_RINGING, at=at, call=leg.call, leg=leg)
    _call_refresh(ledger, leg.call)


def leg_answer(ledger: Ledger, leg: CallLeg, *, at: datetime, sequence: int) -> None:
    """Record that a leg was answered (CHANNEL_ANSWER)."""
    _set_state(ledger, leg, CallState.ANSWERED, sequence=sequence)
    if leg.answered_at is None:
        leg.answered_at = at
        ledger.changed(leg, "answered_at")
        ledger.emit(events.CALL_ANSWERED, at=at, call=leg.call, leg=leg)
    _call_refresh(ledger, leg.call)


def leg_bridge(
    ledger: Ledger, leg: CallLeg, *, other_uuid: str, at: datetime, sequence: int
) -> None:
    """Record that two legs were bridged (CHANNEL_BRIDGE, sent on one of them)."""
    other = ledger.leg(other_uuid)
    applied = False
    for this, partner_uuid in ((leg, other_uuid), (other, leg.uuid)):
        if this is None or sequence <= this.bridge_sequence:
            continue
        applied = True
        this.bridge_sequence = sequence
        this.bridged_to = partner_uuid
        ledger.changed(this, "bridge_sequence", "bridged_to")
        _set_state(ledger, this, CallState.BRIDGED, sequence=sequence)
        if this.bridged_at is None:
            this.bridged_at = at
            ledger.changed(this, "bridged_at")
    if applied:
        ledger.emit(
            events.CALL_BRIDGED,
            at=at,
            call=leg.call,
            leg=leg,
            data={"other_leg_uuid": other_uuid},
            also_push_to=[other.agent_id if other is not None else None],
        )
    _call_refresh(ledger, leg.call)
    if other is not None and other.call is not leg.call:
        _call_refresh(ledger, other.call)


def leg_unbridge(
    ledger: Ledger, leg: CallLeg, *, other_uuid: str, at: datetime, sequence: int
) -> None:
    """Record that a bridge ended (CHANNEL_UNBRIDGE)."""
    other = ledger.leg(other_uuid)
    applied = False
    for this in (leg, other):
        if this is None or sequence <= this.bridge_sequence:
            continue
        applied = True
        this.bridge_sequence = sequence
        this.bridged_to = ""
        ledger.changed(this, "bridge_sequence", "bridged_to")
        if this.state == CallState.BRIDGED:
            _set_state(ledger, this, CallState.ANSWERED, sequence=sequence)
    if applied:
        ledger.emit(
            events.CALL_UNBRIDGED,
            at=at,
            call=leg.call,
            leg=leg,
            data={"other_leg_uuid": other_uuid},
            also_push_to=[other.agent_id if other is not None else None],
        )
    _call_refresh(ledger, leg.call)
    if other is not None and other.call is not leg.call:
        _call_refresh(ledger, other.call)


def leg_park(ledger: Ledger, leg: CallLeg, *, at: datetime, sequence: int) -> None:
    """Record that a leg was parked (CHANNEL_PARK): a caller now waits for an agent."""
    if _set_state(ledger, leg, CallState.PARKED, sequence=sequence):
        call = leg.call
        ledger.emit(
            events.CALL_PARKED,
            at=at,
            call=call,
            leg=leg,
            data={
                "queue": call.queue_slug,
                "cc": dict(call.cc_variables),
                "customer_id": call.customer_id,
                "did": call.did,
                "caller_number": call.caller_number,
            },
        )
    _call_refresh(ledger, leg.call)


def leg_unpark(ledger: Ledger, leg: CallLeg, *, at: datetime, sequence: int) -> None:
    """Record that a parked leg left the park (CHANNEL_UNPARK)."""
    if leg.state == CallState.PARKED:
        _set_state(ledger, leg, CallState.ANSWERED, sequence=sequence)
    _call_refresh(ledger, leg.call)


def leg_hold(ledger: Ledger, leg: CallLeg, *, held: bool, at: datetime, sequence: int) -> None:
    """Record that a leg was put on hold or taken off hold (CHANNEL_HOLD / CHANNEL_UNHOLD)."""
    if leg.ended_at is not None or sequence <= leg.hold_sequence:
        return
    leg.hold_sequence = sequence
    ledger.changed(leg, "hold_sequence")
    if leg.is_held != held:
        leg.is_held = held
        ledger.changed(leg, "is_held")
        ledger.emit(events.CALL_HELD if held else events.CALL_UNHELD, at=at, call=leg.call, leg=leg)


def leg_dtmf(
    ledger: Ledger, leg: CallLeg, *, digit: str, source: str, at: datetime, sequence: int
) -> None:
    """Record a DTMF digit a leg sent (each Event-Sequence once, kept in sequence order)."""
    if any(entry[0] == sequence for entry in leg.dtmf):
        return
    leg.dtmf = sorted([*leg.dtmf, [sequence, digit[:1], source[:16]]])
    ledger.changed(leg, "dtmf")
    ledger.emit(
        events.CALL_DTMF, at=at, call=leg.call, leg=leg, data={"digit": digit, "source": source}
    )


def recording_start(
    ledger: Ledger, leg: CallLeg, *, path: str, at: datetime, sequence: int
) -> None:
    """Record that FreeSWITCH started recording a leg to a file (RECORD_START)."""
    recordings = ledger.leg_recordings(leg)
    if any(recording.start_sequence == sequence for recording in recordings):
        return
    recording = CallRecording(
        node=ledger.node,
        call=leg.call,
        leg=leg,
        path=path[:500],
        started_at=at,
        start_sequence=sequence,
    )
    ledger.add_recording(recording)
    ledger.emit(events.CALL_RECORDING_STARTED, at=at, call=leg.call, leg=leg, data={"path": path})


def recording_stop(
    ledger: Ledger,
    leg: CallLeg,
    *,
    path: str,
    at: datetime,
    sequence: int,
    duration_ms: int | None,
) -> None:
    """Record that a recording of a leg stopped (RECORD_STOP)."""
    recordings = ledger.leg_recordings(leg)
    if any(recording.stop_sequence == sequence for recording in recordings):
        return
    candidates = [
        recording
        for recording in recordings
        if recording.path == path
        and recording.stop_sequence is None
        and recording.start_sequence < sequence
    ]
    if candidates:
        recording = max(candidates, key=lambda item: item.start_sequence)
    else:
        # The start happened while we were away: keep the file, dated from its length.
        started = at - timedelta(milliseconds=duration_ms or 0)
        recording = CallRecording(
            node=ledger.node,
            call=leg.call,
            leg=leg,
            path=path[:500],
            started_at=started,
            start_sequence=sequence - 1,
        )
        ledger.add_recording(recording)
    recording.stopped_at = at
    recording.stop_sequence = sequence
    recording.duration_ms = duration_ms
    ledger.changed(recording, "stopped_at", "stop_sequence", "duration_ms")
    ledger.emit(
        events.CALL_RECORDING_STOPPED,
        at=at,
        call=leg.call,
        leg=leg,
        data={"path": path, "duration_ms": duration_ms},
    )


def leg_hangup(ledger: Ledger, leg: CallLeg, *, cause: str, at: datetime, sequence: int) -> None:
    """Record that a leg hung up (CHANNEL_HANGUP or CHANNEL_HANGUP_COMPLETE).

    A leg closed by a resync (cause LOST_WHILE_DISCONNECTED) takes the real time and cause when
    FreeSWITCH's own report arrives after all; it is announced only once.
    """
    first = leg.ended_at is None
    if not first and leg.hangup_cause != LOST_WHILE_DISCONNECTED:
        return
    if not first and not cause:
        return
    leg.ended_at = at
    leg.hangup_cause = (cause or "NORMAL_CLEARING")[:64]
    leg.state = CallState.ENDED
    leg.state_sequence = max(leg.state_sequence, sequence)
    leg.is_held = False
    ledger.changed(leg, "ended_at", "hangup_cause", "state", "state_sequence", "is_held")
    call = leg.call
    if not first:
        if call.hangup_cause == LOST_WHILE_DISCONNECTED and leg.uuid == call.uuid:
            call.hangup_cause = leg.hangup_cause
            ledger.changed(call, "hangup_cause")
        return
    ended_now = _call_refresh(ledger, call)
    ledger.emit(
        events.CALL_HUNGUP,
        at=at,
        call=call,
        leg=leg,
        data={
            "hangup_cause": leg.hangup_cause,
            "call_ended": ended_now,
            "call_hangup_cause": call.hangup_cause if ended_now else "",
            "queue": call.queue_slug,
        },
    )


@dataclass(frozen=True)
class CdrFacts:
    """The CDR values of CHANNEL_HANGUP_COMPLETE."""

    started_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime
    duration: int
    billsec: int
    hangup_cause: str
    hangup_cause_q850: int | None
    sip_hangup_disposition: str
    caller: str
    callee: str


def cdr_write(
    ledger: Ledger, leg: CallLeg, *, facts: CdrFacts, source: str = Cdr.Source.EVENT
) -> Cdr:
    """Write (or replace) the CDR of a leg; the leg's recording path goes with it."""
    recordings = ledger.leg_recordings(leg) or [
        recording
        for other in ledger.legs_of(leg.call)
        for recording in ledger.leg_recordings(other)
    ]
    recording_path = recordings[-1].path if recordings else ""
    cdr = Cdr(
        node=ledger.node,
        call=leg.call,
        leg=leg,
        uuid=leg.uuid,
        direction=leg.direction,
        caller=(leg.caller_number or facts.caller)[:64],
        callee=(leg.callee_number or facts.callee)[:64],
        started_at=facts.started_at or leg.started_at,
        answered_at=facts.answered_at,
        ended_at=facts.ended_at,
        duration=max(0, facts.duration),
        billsec=max(0, facts.billsec),
        hangup_cause=facts.hangup_cause[:64],
        hangup_cause_q850=facts.hangup_cause_q850,
        sip_hangup_disposition=facts.sip_hangup_disposition[:32],
        recording_path=recording_path,
        source=source,
    )
    ledger.put_cdr(cdr)
    return cdr


# ------------------------------------------------------------------------------ registrations


def endpoint_register(
    ledger: Ledger,
    *,
    username: str,
    realm: str,
    registered: bool,
    contact: str,
    network_ip: str,
    user_agent: str,
    expires_seconds: int | None,
    at: datetime,
    sequence: int,
    core_uuid: str,
) -> None:
    """Record a SIP (un)registration of a directory user (sofia::register / unregister).

    ``core_uuid`` names the FreeSWITCH run: sequences compare only within one run. A resync
    snapshot passes "" and sequence 0, which any later event overrides.
    """
    registration = ledger.registration(username, realm)
    agent = ledger.agent_by_extension(username)
    if registration is None:
        registration = EndpointRegistration(
            node=ledger.node, username=username[:64], realm=realm[:255], changed_at=at
        )
        ledger.add_registration(registration)
    elif (
        core_uuid
        and core_uuid == registration.core_uuid
        and sequence <= registration.last_event_sequence
    ):
        return
    was_registered = registration.is_registered if registration.pk else not registered
    registration.core_uuid = core_uuid[:64]
    registration.last_event_sequence = sequence
    registration.is_registered = registered
    registration.contact = contact[:500]
    registration.network_ip = network_ip[:64]
    registration.user_agent = user_agent[:255]
    registration.expires_at = (
        at + timedelta(seconds=expires_seconds) if registered and expires_seconds else None
    )
    registration.changed_at = at
    registration.agent_id = agent.id if agent is not None else None
    ledger.changed(
        registration,
        "core_uuid",
        "last_event_sequence",
        "is_registered",
        "contact",
        "network_ip",
        "user_agent",
        "expires_at",
        "changed_at",
        "agent",
    )
    if was_registered != registered or registered:
        kind = events.ENDPOINT_REGISTERED if registered else events.ENDPOINT_UNREGISTERED
        ledger.emit(
            kind,
            at=at,
            agent_id=agent.id if agent is not None else None,
            data={"username": username, "realm": realm, "contact": contact},
        )


# ------------------------------------------------------------------------------------ resync


@dataclass
class ResyncResult:
    closed: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)


def node_resync_close_missing(ledger: Ledger, *, live_uuids: set[str], at: datetime) -> list[str]:
    """Close the open legs FreeSWITCH no longer has: they ended while nobody listened.

    The ledger must hold every open leg of the node (``ledger_load_open``). Each gets the
    cause LOST_WHILE_DISCONNECTED and a CDR marked ``source=resync`` whose times run to ``at``
    (when we noticed). A FreeSWITCH report arriving later still replaces both.
    """
    closed: list[str] = []
    for leg in list(ledger.legs.values()):
        if leg.ended_at is not None or leg.uuid in live_uuids:
            continue
        leg_hangup(ledger, leg, cause=LOST_WHILE_DISCONNECTED, at=at, sequence=0)
        answered = leg.answered_at
        cdr_write(
            ledger,
            leg,
            facts=CdrFacts(
                started_at=leg.started_at,
                answered_at=answered,
                ended_at=at,
                duration=int((at - leg.started_at).total_seconds()),
                billsec=int((at - answered).total_seconds()) if answered else 0,
                hangup_cause=LOST_WHILE_DISCONNECTED,
                hangup_cause_q850=None,
                sip_hangup_disposition="",
                caller=leg.caller_number,
                callee=leg.callee_number,
            ),
            source=Cdr.Source.RESYNC,
        )
        closed.append(leg.uuid)
    return closed


def ledger_load_open(ledger: Ledger) -> None:
    """Load every open leg of the ledger's node (and its call) into the ledger."""
    open_uuids = CallLeg.objects.filter(node=ledger.node, ended_at__isnull=True).values_list(
        "uuid", flat=True
    )
    ledger.prefetch(uuids=list(open_uuids))


# ----------------------------------------------------------------------------------- commands

# What each kind needs in params (validated before anything is stored).
_REQUIRED_PARAMS: dict[str, tuple[str, ...]] = {
    CallCommand.Kind.ORIGINATE: ("destination",),
    CallCommand.Kind.BRIDGE: ("uuid", "other_uuid"),
    CallCommand.Kind.TRANSFER: ("uuid", "destination"),
    CallCommand.Kind.ATTENDED_TRANSFER: ("action",),
    CallCommand.Kind.HANGUP: ("uuid",),
    CallCommand.Kind.HOLD: ("uuid",),
    CallCommand.Kind.UNHOLD: ("uuid",),
    CallCommand.Kind.RECORD_START: ("uuid", "path"),
    CallCommand.Kind.RECORD_STOP: ("uuid", "path"),
    CallCommand.Kind.RECORD_MASK: ("uuid", "path"),
    CallCommand.Kind.RECORD_UNMASK: ("uuid", "path"),
    CallCommand.Kind.BROADCAST: ("uuid", "path"),
    CallCommand.Kind.SEND_DTMF: ("uuid", "digits"),
    CallCommand.Kind.EAVESDROP: ("target_uuid", "supervisor_destination"),
    CallCommand.Kind.WHISPER: ("target_uuid", "supervisor_destination"),
    CallCommand.Kind.BARGE: ("target_uuid", "supervisor_destination"),
}
_ATTENDED_ACTIONS = {
    "start": ("customer_uuid", "agent_uuid", "target_destination"),
    "complete": ("customer_uuid", "agent_uuid", "consult_uuid"),
    "cancel": ("customer_uuid", "agent_uuid", "consult_uuid"),
}


def _validate_params(kind: str, params: Mapping[str, Any]) -> None:
    if kind not in _REQUIRED_PARAMS:
        raise InvalidInput(_("Unknown call command."), field="kind")
    missing = [name for name in _REQUIRED_PARAMS[kind] if not params.get(name)]
    if kind == CallCommand.Kind.ATTENDED_TRANSFER:
        action = params.get("action")
        if action not in _ATTENDED_ACTIONS:
            raise InvalidInput(_("Unknown attended transfer action."), field="params")
        missing += [name for name in _ATTENDED_ACTIONS[action] if not params.get(name)]
    if missing:
        raise InvalidInput(
            _("Missing command parameters: %(names)s.") % {"names": ", ".join(missing)},
            field="params",
        )
    variables = params.get("variables", {})
    if not isinstance(variables, dict):
        raise InvalidInput(_("Channel variables must be an object."), field="params")


def _default_node() -> FreeswitchNode:
    node = (
        FreeswitchNode.objects.filter(
            enabled=True,
            role__in=[FreeswitchNode.Role.BOTH, FreeswitchNode.Role.OUTBOUND],
        )
        .order_by("name")
        .first()
    )
    if node is None:
        raise NotFound(_("No FreeSWITCH node can place calls."))
    return node


def origination_uuid_for(command: CallCommand) -> str:
    """Return the channel uuid an originate command gives its new leg (stable per command).

    Derived from the idempotency key, so every attempt of the same command asks FreeSWITCH for
    the same uuid: a second originate while the first channel lives is refused by FreeSWITCH,
    and a leg with that uuid in our records proves the call was placed.
    """
    return str(
        uuid_module.uuid5(uuid_module.NAMESPACE_URL, f"cc-command:{command.idempotency_key}")
    )


def call_command_request(
    *,
    kind: str,
    params: Mapping[str, Any],
    idempotency_key: str,
    call: Call | None = None,
    node: FreeswitchNode | None = None,
    requested_by: Any = None,
    requester: str = "",
) -> CallCommand:
    """Store a call command and enqueue its execution after commit; return it.

    Asking again with the same idempotency key returns the stored command without enqueueing
    anything; a different kind or different parameters under a used key raise ``Conflict``.
    ``node`` defaults to the call's node, else the first enabled node that places calls.
    """
    params = dict(params)
    call_command_validate(kind, params, idempotency_key)
    target_node = node or (call.node if call is not None else None)
    if target_node is None:
        existing = CallCommand.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _same_command_or_conflict(existing, kind=kind, params=params)
        target_node = _default_node()
    command = CallCommand(
        kind=kind,
        params=params,
        idempotency_key=idempotency_key,
        call=call,
        node=target_node,
        requested_by=requested_by if getattr(requested_by, "pk", None) else None,
        requester=requester[:100],
    )
    if not _command_insert_unless_key_used(command):
        # The key was used before (a repeated request, or a concurrent one that won the race).
        existing = CallCommand.objects.get(idempotency_key=idempotency_key)
        return _same_command_or_conflict(existing, kind=kind, params=params)
    # After commit, and in one message with the other commands of a batch (command_dispatch).
    transaction.on_commit(functools.partial(command_dispatch.dispatch, [command.pk]))
    return command


def call_command_validate(kind: str, params: Mapping[str, Any], idempotency_key: str) -> None:
    """Raise InvalidInput (naming the field) for a command that cannot be stored."""
    _validate_params(kind, params)
    if not idempotency_key or len(idempotency_key) > 200:
        raise InvalidInput(
            _("An idempotency key of 1 to 200 characters is required."), field="idempotency_key"
        )


@functools.cache
def _command_insert_sql() -> tuple[str, tuple[Any, ...]]:
    quote = connection.ops.quote_name
    fields = tuple(field for field in CallCommand._meta.concrete_fields if not field.primary_key)
    return (
        f"INSERT INTO {quote(CallCommand._meta.db_table)} "  # noqa: S608 (model metadata only)
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({quote('idempotency_key')}) DO NOTHING "
        f"RETURNING {quote(CallCommand._meta.pk.column)}",
        fields,
    )


def _command_insert_unless_key_used(command: CallCommand) -> bool:
    """Store a new command in one statement; return False (storing nothing) if its key exists.

    ON CONFLICT DO NOTHING instead of a look-up, a savepoint and an INSERT: commands are
    requested on hot paths (every routing offer), and a used key must not abort the caller's
    transaction. A concurrent insert of the same key is waited for, as with a plain INSERT.
    """
    sql, fields = _command_insert_sql()
    values = [field.get_db_prep_save(field.pre_save(command, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    command.pk = row[0]
    command._state.adding = False
    command._state.db = connection.alias
    return True


def _same_command_or_conflict(
    command: CallCommand, *, kind: str, params: Mapping[str, Any]
) -> CallCommand:
    if command.kind != kind or command.params != dict(params):
        raise Conflict(_("This idempotency key was used for a different command."))
    return command


@dataclass(frozen=True)
class CommandClaim:
    """What the worker may do with a command: send it, wait, or nothing."""

    command: CallCommand
    send: bool
    retry_in: float | None = None


# How long a command may stay "sent" before an attempt is presumed dead (worker crash).
SEND_LEASE_SECONDS = 15.0


def _places_a_leg(command: CallCommand) -> bool:
    """Tell whether sending the command dials someone (it waits up to its ring timeout)."""
    return (
        command.kind
        in (
            CallCommand.Kind.ORIGINATE,
            CallCommand.Kind.EAVESDROP,
            CallCommand.Kind.WHISPER,
            CallCommand.Kind.BARGE,
        )
        or command.params.get("action") == "start"
    )


def _lease_seconds(command: CallCommand) -> float:
    timeout = command.params.get("timeout") or 60
    if _places_a_leg(command):
        return float(timeout) + 30.0
    return SEND_LEASE_SECONDS


def call_command_claim(*, command_id: int) -> CommandClaim:
    """Decide, under a row lock, whether this attempt sends the command; mark it sent if so.

    - final commands are left alone (a redelivered task does nothing);
    - a pending command too late to carry out (``_too_late_reason``) fails, unsent;
    - a pending command becomes ``sent`` (committed before anything goes to FreeSWITCH);
    - a command already ``sent`` belongs to another attempt: wait while its lease runs; once the
      lease expired that attempt died mid-way and the outcome is unknown, so the command is
      never sent again: an originate whose leg exists in our records succeeded, anything else
      fails with ``OUTCOME_UNKNOWN``.
    """
    with transaction.atomic():
        command = (
            CallCommand.objects.select_for_update(of=("self",))
            .select_related("call")
            .get(pk=command_id)
        )
        if command.is_final:
            return CommandClaim(command, send=False)
        now = timezone.now()
        if command.status == CallCommand.Status.SENT:
            elapsed = (now - command.sent_at).total_seconds() if command.sent_at else 1e9
            lease = _lease_seconds(command)
            if elapsed < lease:
                return CommandClaim(command, send=False, retry_in=max(1.0, lease - elapsed))
            return CommandClaim(_resolve_abandoned(command), send=False)
        # Checked here, not only by the sweep: a late original message must not dial either.
        too_late = _too_late_reason(command, now=now)
        if too_late is not None:
            error_code, error_message = too_late
            expired = _command_finish(
                command, succeeded=False, error_code=error_code, error_message=error_message
            )
            return CommandClaim(expired, send=False)
        command.status = CallCommand.Status.SENT
        command.attempts += 1
        command.sent_at = now
        command.save(update_fields=["status", "attempts", "sent_at", "updated_at"])
    return CommandClaim(command, send=True)


@transaction.atomic
def call_command_release(*, command_id: int) -> CallCommand:
    """Put a claimed command back to pending: this attempt provably sent nothing."""
    command = CallCommand.objects.select_for_update().get(pk=command_id)
    if command.status == CallCommand.Status.SENT:
        command.status = CallCommand.Status.PENDING
        command.sent_at = None
        command.save(update_fields=["status", "sent_at", "updated_at"])
    return command


# Error codes of commands failed without being sent (never a FreeSWITCH cause).
EXPIRED = "EXPIRED"
CALL_ENDED = "CALL_ENDED"
# A command put back to pending (node unreachable) has its own retry message within this long
# (command_runner's backoff cap); the sweep sends it again only once that retry is overdue.
UNREACHABLE_RETRY_CAP_SECONDS = 30.0
# The sweep's work per run: rows locked at most, and commands per execution message.
SWEEP_LIMIT = 500
RESEND_BATCH_SIZE = 100


def command_resend_after() -> timedelta:
    """Return how long a pending command waits for its own message before the sweep resends it."""
    return timedelta(seconds=getattr(settings, "TELEPHONY_COMMAND_RESEND_AFTER_SECONDS", 5))


def command_max_age() -> timedelta:
    """Return the age past which a command is no longer carried out (failed with EXPIRED)."""
    return timedelta(seconds=getattr(settings, "TELEPHONY_COMMAND_MAX_AGE_SECONDS", 60))


def _too_late_reason(command: CallCommand, *, now: datetime) -> tuple[str, str] | None:
    """Return (error code, message) when a pending command must not be sent any more, else None.

    Dialling someone for a call that already ended, or after the ring timeout the requester
    gave (routing has applied RONA and offered the caller to someone else by then), rings a
    phone for nobody; anything older than the max age is stale for whoever asked.
    """
    places_a_leg = _places_a_leg(command)
    if places_a_leg and command.call is not None and command.call.ended_at is not None:
        return CALL_ENDED, _("The call ended before this command was sent.")
    limit = command_max_age().total_seconds()
    if places_a_leg:
        limit = min(limit, float(command.params.get("timeout") or limit))
    age = (now - command.created_at).total_seconds()
    if age > limit:
        return EXPIRED, _(
            "Not sent within %(seconds)d s of the request: too late to carry out."
        ) % {"seconds": limit}
    return None


@dataclass(frozen=True)
class CommandSweep:
    """What one sweep did: commands handed to the worker again, and commands failed as too late."""

    resent: list[int]
    expired: list[int]


def sweep_candidates(*, now: datetime) -> QuerySet[CallCommand]:
    """Return the commands a sweep at ``now`` looks at, oldest first, locked (skip locked)."""
    grace = command_resend_after()
    Status = CallCommand.Status
    retry_overdue = now - grace - timedelta(seconds=UNREACHABLE_RETRY_CAP_SECONDS)
    return (
        CallCommand.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("call", "node")
        # The indexed condition (telephony_command_unfinished), then the finer one.
        .filter(status__in=[Status.PENDING, Status.SENT], updated_at__lt=now - grace)
        .filter(
            Q(status=Status.PENDING, attempts=0)
            | Q(status=Status.PENDING, updated_at__lt=retry_overdue)
            | Q(status=Status.SENT, updated_at__lt=now - timedelta(seconds=SEND_LEASE_SECONDS))
        )
        .order_by("updated_at")
    )


def call_commands_sweep(*, now: datetime | None = None) -> CommandSweep:
    """Send again the committed commands whose execution message was lost; fail the stale ones.

    A command stays ``pending`` forever if its message never reached the worker (the requesting
    process died before its batch was published, the broker was down, a message was lost). This
    finds, oldest first:

    - pending commands never tried, older than the resend grace (``command_resend_after``);
    - pending commands put back after an unreachable node, whose own retry is overdue;
    - ``sent`` commands whose lease ran out (their attempt died): the claim resolves them from
      our records and never sends them again.

    Those too late to carry out are failed here with ``EXPIRED`` or ``CALL_ENDED`` (announced
    like any failure, so routing applies RONA); the others are published again, a batch per
    message, after commit. Their ``updated_at`` is touched so the next sweeps leave them to this
    message for another grace period. Sending twice is harmless: ``call_command_claim`` lets one
    attempt send. Rows another transaction holds (a claim in progress) are skipped.
    """
    now = now or timezone.now()
    to_resend: list[int] = []
    expired: list[int] = []
    with transaction.atomic():
        candidates = list(sweep_candidates(now=now)[:SWEEP_LIMIT])
        for command in candidates:
            if command.status == CallCommand.Status.SENT:
                sent_at = command.sent_at or command.updated_at
                if (now - sent_at).total_seconds() >= _lease_seconds(command):
                    to_resend.append(command.pk)
                continue
            too_late = _too_late_reason(command, now=now)
            if too_late is None:
                to_resend.append(command.pk)
                continue
            error_code, error_message = too_late
            _command_finish(
                command, succeeded=False, error_code=error_code, error_message=error_message
            )
            expired.append(command.pk)
        if to_resend:
            CallCommand.objects.filter(pk__in=to_resend).update(updated_at=now)
            logger.warning(
                "call commands %s were never executed: sending them again", sorted(to_resend)
            )
        for start in range(0, len(to_resend), RESEND_BATCH_SIZE):
            transaction.on_commit(
                functools.partial(
                    command_dispatch.publish, to_resend[start : start + RESEND_BATCH_SIZE]
                )
            )
    if expired:
        logger.warning("call commands %s were too late to carry out: failed", expired)
    return CommandSweep(resent=to_resend, expired=expired)


def _resolve_abandoned(command: CallCommand) -> CallCommand:
    if command.kind == CallCommand.Kind.ORIGINATE:
        leg_uuid = origination_uuid_for(command)
        if CallLeg.objects.filter(node=command.node_id, uuid=leg_uuid).exists():
            return _command_finish(command, succeeded=True, result={"uuid": leg_uuid})
    return _command_finish(
        command,
        succeeded=False,
        error_code="OUTCOME_UNKNOWN",
        error_message=_("The attempt that sent this command stopped before recording the outcome."),
    )


def _command_finish(
    command: CallCommand,
    *,
    succeeded: bool,
    result: dict[str, Any] | None = None,
    error_code: str = "",
    error_message: str = "",
) -> CallCommand:
    command.status = CallCommand.Status.SUCCEEDED if succeeded else CallCommand.Status.FAILED
    command.result = result or {}
    command.error_code = error_code[:64]
    command.error_message = error_message
    command.completed_at = timezone.now()
    command.save(
        update_fields=[
            "status",
            "result",
            "error_code",
            "error_message",
            "completed_at",
            "updated_at",
        ]
    )
    kind = events.COMMAND_SUCCEEDED if succeeded else events.COMMAND_FAILED
    call = command.call
    event = events.CallEvent(
        kind=kind,
        node=command.node.name,
        occurred_at=command.completed_at,
        call_id=command.call_id,
        call_uuid=call.uuid if call is not None else None,
        leg_uuid=(result or {}).get("uuid"),
        agent_id=_int_or_none(command.params.get("agent_id")),
        data={
            "command_id": command.pk,
            "kind": command.kind,
            "idempotency_key": command.idempotency_key,
            "requester": command.requester,
            "result": command.result,
            "error_code": command.error_code,
            "error_message": command.error_message,
        },
    )
    events.publish_on_commit([event])
    return command


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


@transaction.atomic
def call_command_record_result(
    *,
    command_id: int,
    succeeded: bool,
    result: dict[str, Any] | None = None,
    error_code: str = "",
    error_message: str = "",
) -> CallCommand:
    """Record how FreeSWITCH answered a sent command and announce it (after commit)."""
    command = (
        CallCommand.objects.select_for_update(of=("self",))
        .select_related("call", "node")
        .get(pk=command_id)
    )
    if command.is_final:
        return command
    if succeeded:
        _apply_command_side_effects(command, result or {})
    return _command_finish(
        command,
        succeeded=succeeded,
        result=result,
        error_code=error_code,
        error_message=error_message,
    )


def _apply_command_side_effects(command: CallCommand, result: dict[str, Any]) -> None:
    """Keep what FreeSWITCH does not report by event (recording masks) from our own commands."""
    if command.kind not in (CallCommand.Kind.RECORD_MASK, CallCommand.Kind.RECORD_UNMASK):
        return
    leg = CallLeg.objects.filter(node=command.node_id, uuid=command.params["uuid"]).first()
    if leg is None:
        return
    recording = (
        CallRecording.objects.select_for_update()
        .filter(leg=leg, path=command.params["path"], stopped_at__isnull=True)
        .order_by("-start_sequence")
        .first()
    )
    if recording is None:
        return
    now = timezone.now().isoformat()
    spans = list(recording.masked_spans)
    if command.kind == CallCommand.Kind.RECORD_MASK:
        if not spans or spans[-1].get("end") is not None:
            spans.append({"start": now, "end": None})
    elif spans and spans[-1].get("end") is None:
        spans[-1] = {**spans[-1], "end": now}
    recording.masked_spans = spans
    recording.save(update_fields=["masked_spans"])


def call_command_get(*, command_id: int) -> CallCommand:
    """Return a command with its node and call (for the telephony worker)."""
    command = CallCommand.objects.select_related("node", "call").filter(pk=command_id).first()
    if command is None:
        raise NotFound(_("Call command not found."))
    return command


# -------------------------------------------------------------------------------------- nodes


@dataclass(frozen=True)
class NodeSyncResult:
    created: list[str]
    updated: list[str]
    unchanged: list[str]


@transaction.atomic
def freeswitch_nodes_sync(
    *, nodes: list[Mapping[str, Any]], update: bool = False
) -> NodeSyncResult:
    """Create the node records described by settings.FREESWITCH_NODES.

    Records are the source of truth once they exist: an existing node is changed only with
    ``update=True`` (host, port, password, role, enabled as given).
    """
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    for spec in nodes:
        name = str(spec["name"])
        values = {
            "host": str(spec["host"]),
            "port": int(spec.get("port", 8021)),
            "password": str(spec["password"]),
            "role": str(spec.get("role", FreeswitchNode.Role.BOTH)),
            "enabled": bool(spec.get("enabled", True)),
        }
        if values["role"] not in FreeswitchNode.Role.values:
            raise InvalidInput(_("Unknown node role: %(role)s.") % {"role": values["role"]})
        node = FreeswitchNode.objects.filter(name=name).first()
        if node is None:
            FreeswitchNode.objects.create(name=name, **values)
            created.append(name)
        elif update and any(getattr(node, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(node, key, value)
            node.save()
            updated.append(name)
        else:
            unchanged.append(name)
    return NodeSyncResult(created, updated, unchanged)
