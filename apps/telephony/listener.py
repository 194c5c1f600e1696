"""FreeSWITCH event name -> handler. Handlers read the event and call telephony services.

``handle_event(event, node=...)`` is one testable step (one event, one transaction);
``process_batch`` is what the event process runs: many events, one transaction, rows loaded and
saved in bulk, announcements (domain events, browser pushes) after commit.

Within a batch events are applied in Event-Sequence order, because FreeSWITCH does not always
deliver them in that order (ESL README point 7); across batches the per-leg sequence guards of
the services keep a late event from undoing a newer one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from django.db import transaction

from apps.telephony import services
from apps.telephony.esl.messages import Event
from apps.telephony.ledger import Ledger, LegCache
from apps.telephony.models import FreeswitchNode
from apps.telephony.services import CdrFacts

logger = logging.getLogger(__name__)

Handler = Callable[[Ledger, Event], None]

# The subscription of the event process: exactly the events some handler uses.
SUBSCRIBED_EVENTS = (
    "CHANNEL_CREATE",
    "CHANNEL_PROGRESS",
    "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_ANSWER",
    "CHANNEL_BRIDGE",
    "CHANNEL_UNBRIDGE",
    "CHANNEL_PARK",
    "CHANNEL_UNPARK",
    "CHANNEL_HOLD",
    "CHANNEL_UNHOLD",
    "DTMF",
    "RECORD_START",
    "RECORD_STOP",
    "CHANNEL_HANGUP",
    "CHANNEL_HANGUP_COMPLETE",
    "CUSTOM",
    "sofia::register",
    "sofia::unregister",
    "sofia::expire",
)

_PREFETCH_HEADERS = (
    "Unique-ID",
    "Channel-Call-UUID",
    "Other-Leg-Unique-ID",
    "Bridge-A-Unique-ID",
    "Bridge-B-Unique-ID",
    "variable_cc_call_uuid",
    "variable_originating_leg_uuid",
)
_EXTENSION_HEADERS = ("variable_dialed_user", "variable_user_name", "variable_sip_auth_username")
_AGENT_VARIABLES = ("dialed_user", "user_name", "sip_auth_username", "originating_leg_uuid")


def _event_time(event: Event) -> datetime:
    micros = event.headers.get("Event-Date-Timestamp")
    if micros and micros.isdigit() and int(micros) > 0:
        return datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC)
    return datetime.now(tz=UTC)


def _sequence(event: Event) -> int:
    value = event.headers.get("Event-Sequence", "")
    return int(value) if value.isdigit() else 0


class EventChannel:
    """What an event says about its channel (``services.ChannelInfo``), read on demand."""

    __slots__ = ("_headers", "_variables")

    def __init__(self, event: Event) -> None:
        self._headers = event.headers
        self._variables: dict[str, str] | None = None

    @property
    def uuid(self) -> str:
        return self._headers.get("Unique-ID", "")

    @property
    def direction(self) -> str:
        return self._headers.get("Call-Direction", "inbound")

    @property
    def channel_name(self) -> str:
        return self._headers.get("Channel-Name", "")

    @property
    def call_uuid(self) -> str | None:
        return self._headers.get("Channel-Call-UUID") or None

    @property
    def originator_uuid(self) -> str | None:
        headers = self._headers
        originator = headers.get("variable_originating_leg_uuid")
        if not originator and headers.get("Other-Type") == "originator":
            originator = headers.get("Other-Leg-Unique-ID")
        return originator or None

    @property
    def caller_number(self) -> str:
        return self._headers.get("Caller-Caller-ID-Number", "")

    @property
    def caller_name(self) -> str:
        return self._headers.get("Caller-Caller-ID-Name", "")

    @property
    def destination(self) -> str:
        return self._headers.get("Caller-Destination-Number", "")

    @property
    def created_at(self) -> datetime | None:
        return services.from_microseconds(self._headers.get("Caller-Channel-Created-Time"))

    @property
    def has_variables(self) -> bool:
        headers = self._headers
        return "variable_direction" in headers or "variable_uuid" in headers

    @property
    def variables(self) -> dict[str, str]:
        variables = self._variables
        if variables is None:
            headers = self._headers
            variables = {}
            if self.has_variables:
                variables = {
                    name[9:]: value
                    for name, value in headers.items()
                    if name.startswith("variable_cc_")
                }
                for name in _AGENT_VARIABLES:
                    value = headers.get("variable_" + name)
                    if value:
                        variables[name] = value
            self._variables = variables
        return variables


def channel_info(event: Event) -> EventChannel:
    """Return what an event says about its channel."""
    return EventChannel(event)


# Events after which the IVR or dialplan may have set new cc_* variables on the caller's leg
# (scanning ~200 headers for them costs more than the rest of the handling, so not on every
# event): its creation, its parking (the IVR is done: routing needs them), its end.
_VARIABLE_EVENTS = frozenset(
    {
        "CHANNEL_CREATE",
        "CHANNEL_DATA",
        "CHANNEL_PARK",
        "CHANNEL_HANGUP_COMPLETE",
    }
)


def _observe(ledger: Ledger, event: Event):  # type: ignore[no-untyped-def]
    return services.leg_observe(
        ledger,
        EventChannel(event),
        sequence=_sequence(event),
        at=_event_time(event),
        capture_variables=event.name in _VARIABLE_EVENTS,
    )


# ------------------------------------------------------------------------------------ handlers


def on_channel_create(ledger: Ledger, event: Event) -> None:
    _observe(ledger, event)


def on_channel_data(ledger: Ledger, event: Event) -> None:
    """Adopt a channel from a snapshot (``uuid_dump``/``show channels`` during a resync)."""
    leg = _observe(ledger, event)
    headers = event.headers
    at = _event_time(event)
    sequence = _sequence(event)
    parked = headers.get("variable_current_application") == "park"
    answered_at = services.from_microseconds(headers.get("Caller-Channel-Answered-Time"))
    if headers.get("Answer-State") == "answered" or answered_at is not None:
        # Sequence 0 records the fact only; the state comes from the park below if parked.
        services.leg_answer(ledger, leg, at=answered_at or at, sequence=0 if parked else sequence)
    elif headers.get("Answer-State") == "early":
        services.leg_ring(ledger, leg, at=at, sequence=sequence, early_media=True)
    if parked:
        # A caller who waited parked while nobody listened still waits: announce it.
        services.leg_park(ledger, leg, at=at, sequence=sequence)
    if headers.get("Channel-Call-State") == "HELD":
        services.leg_hold(ledger, leg, held=True, at=at, sequence=sequence)


def on_progress(ledger: Ledger, event: Event) -> None:
    leg = _observe(ledger, event)
    services.leg_ring(
        ledger,
        leg,
        at=_event_time(event),
        sequence=_sequence(event),
        early_media=event.name == "CHANNEL_PROGRESS_MEDIA",
    )


def on_answer(ledger: Ledger, event: Event) -> None:
    leg = _observe(ledger, event)
    at = services.from_microseconds(
        event.headers.get("Caller-Channel-Answered-Time")
    ) or _event_time(event)
    services.leg_answer(ledger, leg, at=at, sequence=_sequence(event))


def _bridge_partner(event: Event, leg_uuid: str) -> str:
    headers = event.headers
    a_uuid = headers.get("Bridge-A-Unique-ID")
    b_uuid = headers.get("Bridge-B-Unique-ID")
    if a_uuid and b_uuid:
        return b_uuid if leg_uuid == a_uuid else a_uuid
    return headers.get("Other-Leg-Unique-ID", "")


def on_bridge(ledger: Ledger, event: Event) -> None:
    leg = _observe(ledger, event)
    other = _bridge_partner(event, leg.uuid)
    if other:
        services.leg_bridge(
            ledger, leg, other_uuid=other, at=_event_time(event), sequence=_sequence(event)
        )


def on_unbridge(ledger: Ledger, event: Event) -> None:
    leg = _observe(ledger, event)
    services.leg_unbridge(
        ledger,
        leg,
        other_uuid=_bridge_partner(event, leg.uuid),
        at=_event_time(event),
        sequence=_sequence(event),
    )


def on_park(ledger: Ledger, event: Event) -> None:
    leg = _observe(ledger, event)
    services.leg_park(ledger, leg, at=_event_time(event), sequence=_sequence(event))


def on_unpark(ledger: Ledger, event: Event) -> None:
    leg = _observe(ledger, event)
    services.leg_unpark(ledger, leg, at=_event_time(event), sequence=_sequence(event))


def on_hold(ledger: Ledger, event: Event) -> None:
    leg = _observe(ledger, event)
    services.leg_hold(
        ledger,
        leg,
        held=event.name == "CHANNEL_HOLD",
        at=_event_time(event),
        sequence=_sequence(event),
    )


def on_dtmf(ledger: Ledger, event: Event) -> None:
    leg = _observe(ledger, event)
    digit = event.headers.get("DTMF-Digit", "")
    if digit:
        services.leg_dtmf(
            ledger,
            leg,
            digit=digit,
            source=event.headers.get("DTMF-Source", ""),
            at=_event_time(event),
            sequence=_sequence(event),
        )


def on_record_start(ledger: Ledger, event: Event) -> None:
    leg = _observe(ledger, event)
    path = event.headers.get("Record-File-Path", "")
    if path:
        services.recording_start(
            ledger, leg, path=path, at=_event_time(event), sequence=_sequence(event)
        )


def on_record_stop(ledger: Ledger, event: Event) -> None:
    leg = _observe(ledger, event)
    path = event.headers.get("Record-File-Path", "")
    if not path:
        return
    # RECORD_STOP's record_ms belongs to the file it names (RECORD_START may carry stale ones).
    record_ms = event.headers.get("variable_record_ms", "")
    services.recording_stop(
        ledger,
        leg,
        path=path,
        at=_event_time(event),
        sequence=_sequence(event),
        duration_ms=int(record_ms) if record_ms.isdigit() else None,
    )


def _hangup_time(event: Event) -> datetime:
    headers = event.headers
    return (
        services.from_microseconds(headers.get("variable_end_uepoch"))
        or services.from_microseconds(headers.get("Caller-Channel-Hangup-Time"))
        or _event_time(event)
    )


def on_hangup(ledger: Ledger, event: Event) -> None:
    leg = _observe(ledger, event)
    services.leg_hangup(
        ledger,
        leg,
        cause=event.headers.get("Hangup-Cause", ""),
        at=_hangup_time(event),
        sequence=_sequence(event),
    )


def _int(value: str | None) -> int:
    return int(value) if value and value.lstrip("-").isdigit() else 0


def on_hangup_complete(ledger: Ledger, event: Event) -> None:
    """Close the leg and write its CDR from FreeSWITCH's own accounting."""
    on_hangup(ledger, event)
    headers = event.headers
    leg = ledger.leg(headers.get("Unique-ID"))
    if leg is None:
        return
    q850 = headers.get("variable_hangup_cause_q850", "")
    services.cdr_write(
        ledger,
        leg,
        facts=CdrFacts(
            started_at=services.from_microseconds(headers.get("variable_start_uepoch")),
            answered_at=services.from_microseconds(headers.get("variable_answer_uepoch")),
            ended_at=_hangup_time(event),
            duration=_int(headers.get("variable_duration")),
            billsec=_int(headers.get("variable_billsec")),
            hangup_cause=headers.get("Hangup-Cause") or headers.get("variable_hangup_cause", ""),
            hangup_cause_q850=int(q850) if q850.isdigit() else None,
            sip_hangup_disposition=headers.get("variable_sip_hangup_disposition", ""),
            caller=headers.get("Caller-Caller-ID-Number", ""),
            callee=headers.get("Caller-Destination-Number", ""),
        ),
    )


def on_registration(ledger: Ledger, event: Event) -> None:
    headers = event.headers
    username = headers.get("username") or headers.get("from-user", "")
    realm = headers.get("realm") or headers.get("from-host", "")
    if not username:
        return
    registered = event.subclass == "sofia::register"
    expires = headers.get("expires", "")
    services.endpoint_register(
        ledger,
        username=username,
        realm=realm,
        registered=registered,
        contact=headers.get("contact", ""),
        network_ip=headers.get("network-ip", ""),
        user_agent=headers.get("user-agent", ""),
        expires_seconds=int(expires) if expires.isdigit() else None,
        at=_event_time(event),
        sequence=_sequence(event),
        core_uuid=headers.get("Core-UUID", ""),
    )


HANDLERS: dict[str, Handler] = {
    "CHANNEL_CREATE": on_channel_create,
    "CHANNEL_DATA": on_channel_data,
    "CHANNEL_PROGRESS": on_progress,
    "CHANNEL_PROGRESS_MEDIA": on_progress,
    "CHANNEL_ANSWER": on_answer,
    "CHANNEL_BRIDGE": on_bridge,
    "CHANNEL_UNBRIDGE": on_unbridge,
    "CHANNEL_PARK": on_park,
    "CHANNEL_UNPARK": on_unpark,
    "CHANNEL_HOLD": on_hold,
    "CHANNEL_UNHOLD": on_hold,
    "DTMF": on_dtmf,
    "RECORD_START": on_record_start,
    "RECORD_STOP": on_record_stop,
    "CHANNEL_HANGUP": on_hangup,
    "CHANNEL_HANGUP_COMPLETE": on_hangup_complete,
    "sofia::register": on_registration,
    "sofia::unregister": on_registration,
    "sofia::expire": on_registration,
}

_RECORDING_EVENTS = frozenset({"RECORD_START", "RECORD_STOP", "CHANNEL_HANGUP_COMPLETE"})


def is_handled(event: Event) -> bool:
    """Tell whether some handler uses this event."""
    return event.routing_key in HANDLERS


def _ordered(events: Iterable[Event]) -> list[Event]:
    runs: dict[str, int] = {}

    def key(event: Event) -> tuple[int, int]:
        core = event.headers.get("Core-UUID", "")
        return (runs.setdefault(core, len(runs)), _sequence(event))

    return sorted(events, key=key)


def _prefetch(ledger: Ledger, events: Sequence[Event]) -> None:
    uuids: set[str] = set()
    extensions: set[str] = set()
    agent_ids: set[int] = set()
    users: set[tuple[str, str]] = set()
    recording_legs: set[str] = set()
    for event in events:
        headers = event.headers
        if event.name == "CUSTOM":
            username = headers.get("username") or headers.get("from-user", "")
            users.add((username, headers.get("realm") or headers.get("from-host", "")))
            extensions.add(username)
            continue
        for name in _PREFETCH_HEADERS:
            value = headers.get(name)
            if value:
                uuids.add(value)
        for name in _EXTENSION_HEADERS:
            value = headers.get(name)
            if value:
                extensions.add(value)
        agent_id = headers.get("variable_cc_agent_id", "")
        if agent_id.isdigit():
            agent_ids.add(int(agent_id))
        if event.name in _RECORDING_EVENTS:
            recording_legs.add(headers.get("Unique-ID", ""))
    ledger.prefetch(
        uuids=uuids,
        registration_users=users,
        extensions=extensions,
        agent_ids=agent_ids,
        recording_leg_uuids=recording_legs,
    )


def apply_events(
    events: Iterable[Event],
    *,
    node: FreeswitchNode,
    ledger: Ledger | None = None,
    cache: LegCache | None = None,
) -> Ledger:
    """Apply events to a ledger and save it; the caller owns the transaction."""
    ordered = [event for event in _ordered(events) if event.routing_key in HANDLERS]
    ledger = ledger or Ledger(node, cache)
    _prefetch(ledger, ordered)
    for event in ordered:
        if not event.headers.get("Unique-ID") and event.name != "CUSTOM":
            continue
        HANDLERS[event.routing_key](ledger, event)
    ledger.flush()
    return ledger


def process_batch(
    events: Iterable[Event],
    *,
    node: FreeswitchNode,
    announce: Callable[[Ledger], None] | None = None,
    cache: LegCache | None = None,
) -> Ledger:
    """Apply a batch of events in one transaction; announce what changed after commit.

    ``announce(ledger)`` replaces the default announcement (pushes and domain events sent
    inline at commit): the event process hands the ledger to its announcer greenlet instead.
    """
    with transaction.atomic():
        ledger = apply_events(events, node=node, cache=cache)
        if announce is None:
            ledger.schedule_after_commit()
        else:
            transaction.on_commit(lambda: announce(ledger))
    return ledger


def handle_event(event: Event, *, node: FreeswitchNode) -> Ledger:
    """Apply one event (its own transaction, announcements after commit)."""
    return process_batch([event], node=node)
