"""The only module of routing that touches telephony, in both directions.

Outbound: routing asks for call commands through ``apps.telephony.services.call_command_request``
(stored in the caller's transaction, sent by the telephony worker after commit). Every command of
an offer is named ``routing:offer:<offer token>:<what>``; an originate's new leg gets the uuid
telephony derives from that key, so routing knows the agent's (and a called-back customer's) leg
uuid before the command is even sent, and recognises its events.

Inbound: ``subscribe()`` (from RoutingConfig.ready) turns telephony domain events into routing
service calls. Handlers run in the telephony event process: each does one small write and leaves
the routing decision to a Celery task.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from django.conf import settings

from apps.routing import conf

if TYPE_CHECKING:
    from apps.routing.router import Reservation
    from apps.telephony.domain_events import CallEvent

logger = logging.getLogger(__name__)

REQUESTER = "routing"
_OFFER_KEY_PREFIX = "routing:offer:"

# What an offer's commands are for (the last part of their idempotency key).
RING_AGENT = "agent"
DIAL_CUSTOMER = "customer"
BRIDGE = "bridge"
HANGUP_AGENT = "hangup-agent"
HANGUP_CUSTOMER = "hangup-customer"


def offer_key(token: uuid.UUID, what: str) -> str:
    """Return the idempotency key of one of an offer's commands."""
    return f"{_OFFER_KEY_PREFIX}{token}:{what}"


def parse_offer_key(key: str) -> tuple[uuid.UUID, str] | None:
    """Return (offer token, what) from an offer command's key, or None for other keys."""
    if not key.startswith(_OFFER_KEY_PREFIX):
        return None
    token, _, what = key[len(_OFFER_KEY_PREFIX) :].partition(":")
    try:
        return uuid.UUID(token), what
    except ValueError:
        return None


def _originated_leg_uuid(key: str) -> uuid.UUID:
    from apps.telephony.services import origination_uuid_for

    # The uuid depends on the command's key alone; a stand-in spares building a model instance
    # on the decision path.
    return uuid.UUID(origination_uuid_for(SimpleNamespace(idempotency_key=key)))  # type: ignore[arg-type]


def agent_leg_uuid(token: uuid.UUID) -> uuid.UUID:
    """Return the uuid FreeSWITCH will give the agent leg rung for this offer."""
    return _originated_leg_uuid(offer_key(token, RING_AGENT))


def customer_leg_uuid(token: uuid.UUID) -> uuid.UUID:
    """Return the uuid FreeSWITCH will give the customer leg dialled for this callback offer."""
    return _originated_leg_uuid(offer_key(token, DIAL_CUSTOMER))


def _call_and_node(telephony_call_id: int | None, node_id: int | None) -> tuple[Any, Any]:
    """Return the command's call and node as references, without a query when both are known.

    A command only needs them for its foreign keys (the telephony worker loads the rows itself),
    and the decision path should not pay a query for that.
    """
    from apps.telephony.models import Call, FreeswitchNode

    if node_id is None:
        call = (
            Call.objects.select_related("node").filter(pk=telephony_call_id).first()
            if telephony_call_id is not None
            else None
        )
        return call, None
    node = FreeswitchNode(pk=node_id)
    call = Call(pk=telephony_call_id, node=node) if telephony_call_id is not None else None
    return call, node


def _request(
    kind: str,
    *,
    key: str,
    telephony_call_id: int | None,
    params: dict[str, Any],
    node_id: int | None = None,
) -> None:
    from apps.telephony.services import call_command_request

    call, node = _call_and_node(telephony_call_id, node_id)
    call_command_request(
        kind=kind,
        params=params,
        idempotency_key=key,
        call=call,
        node=node,
        requester=REQUESTER,
    )


def agent_destination(extension: str) -> str:
    """Return the dial string of an agent's endpoint."""
    return conf.agent_dial_string().format(
        extension=extension, domain=settings.FREESWITCH_SIP_DOMAIN
    )


def _ring_params(reservation: Reservation) -> dict[str, Any]:
    return {
        "destination": agent_destination(reservation.agent_extension),
        "application": "park",
        "timeout": reservation.ring_timeout_seconds,
        "agent_id": reservation.agent_id,
        "role": "agent",
        "caller_id_number": reservation.caller_number,
        "caller_id_name": reservation.caller_number,
        "variables": {"cc_offer": str(reservation.token)},
    }


def request_agent_ring(reservation: Reservation) -> None:
    """Ring the reserved agent's endpoint; the leg parks on answer, then routing bridges it."""
    _request(
        "originate",
        key=offer_key(reservation.token, RING_AGENT),
        telephony_call_id=reservation.telephony_call_id,
        node_id=reservation.telephony_node_id,
        params=_ring_params(reservation),
    )


def request_agent_rings(reservations: Sequence[Reservation]) -> None:
    """Ring the endpoints of a router turn's reserved agents: one statement for all.

    An offer whose call has no known node goes through ``request_agent_ring`` (telephony picks
    the node).
    """
    from apps.telephony.command_dispatch import CommandRequest, request_many

    request_many(
        [
            CommandRequest(
                kind="originate",
                params=_ring_params(reservation),
                idempotency_key=offer_key(reservation.token, RING_AGENT),
                node_id=reservation.telephony_node_id,
                call_id=reservation.telephony_call_id,
                requester=REQUESTER,
            )
            for reservation in reservations
            if reservation.telephony_node_id is not None
        ]
    )
    for reservation in reservations:
        if reservation.telephony_node_id is None:
            request_agent_ring(reservation)


def request_bridge(
    *,
    token: uuid.UUID,
    telephony_call_id: int | None,
    caller_uuid: str,
    other_uuid: str,
    node_id: int | None = None,
) -> None:
    """Bridge the waiting caller (or called-back customer) with the agent's answered leg."""
    _request(
        "bridge",
        key=offer_key(token, BRIDGE),
        telephony_call_id=telephony_call_id,
        node_id=node_id,
        params={"uuid": caller_uuid, "other_uuid": other_uuid},
    )


def request_customer_dial(
    *,
    token: uuid.UUID,
    telephony_call_id: int | None,
    number: str,
    timeout: int,
    node_id: int | None = None,
) -> None:
    """Call back the customer once their agent answered (virtual hold)."""
    _request(
        "originate",
        key=offer_key(token, DIAL_CUSTOMER),
        telephony_call_id=telephony_call_id,
        node_id=node_id,
        params={
            "destination": conf.customer_dial_string().format(number=number),
            "application": "park",
            "timeout": timeout,
            "role": "callee",
            "variables": {"cc_offer": str(token)},
        },
    )


def request_leg_hangup(
    *,
    token: uuid.UUID,
    what: str,
    telephony_call_id: int | None,
    leg_uuid: str,
    node_id: int | None = None,
) -> None:
    """Hang up one of an offer's legs (stop ringing an agent, drop a useless leg)."""
    _request(
        "hangup",
        key=offer_key(token, what),
        telephony_call_id=telephony_call_id,
        node_id=node_id,
        params={"uuid": leg_uuid, "cause": "ORIGINATOR_CANCEL"},
    )


def exit_destination(action: str, target: str) -> dict[str, str]:
    """Return the transfer parameters that send a caller out of the line by an exit action.

    FreeSWITCH command arguments are single words (telephony refuses spaces), hence the inline
    dialplan with comma-separated applications for a message, and an XML extension for the
    mailbox.
    """
    if action == "voicemail":
        extension = conf.voicemail_destination().format(mailbox=target or "default")
        return {"destination": extension, "dialplan": "XML", "context": "default"}
    if action == "transfer":
        return {"destination": target, "dialplan": "XML", "context": "default"}
    media = f"playback:{target}," if target else ""
    return {
        "destination": f"answer,{media}hangup:NORMAL_CLEARING",
        "dialplan": "inline",
        "context": "default",
    }


def request_exit(
    *,
    waiting_call_id: int,
    telephony_call_id: int | None,
    call_uuid: str,
    action: str,
    target: str,
    node_id: int | None = None,
) -> None:
    """Send a caller out of the line: a message then hang up, voicemail, or an extension."""
    _request(
        "transfer",
        key=f"routing:call:{waiting_call_id}:exit",
        telephony_call_id=telephony_call_id,
        node_id=node_id,
        params={"uuid": call_uuid, **exit_destination(action, target)},
    )


def request_broadcast(
    *,
    key: str,
    telephony_call_id: int | None,
    call_uuid: str,
    path: str,
    node_id: int | None = None,
) -> None:
    """Play media to a waiting caller (position announcements, the callback prompt)."""
    _request(
        "broadcast",
        key=key,
        telephony_call_id=telephony_call_id,
        node_id=node_id,
        params={"uuid": call_uuid, "path": path, "leg": "aleg"},
    )


# ------------------------------------------------------------------------------ inbound events


def _int(value: object, default: int = 0) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def on_call_parked(event: CallEvent) -> None:
    """A caller parked with cc_queue joins that queue's line (legs we originated are ignored)."""
    from apps.routing import services

    queue_slug = event.data.get("queue") or ""
    caller_uuid = event.leg_uuid or event.call_uuid
    if not queue_slug or not caller_uuid:
        return
    if event.leg_role not in (None, "caller") or caller_uuid != event.call_uuid:
        return
    cc = event.data.get("cc") or {}
    customer = event.data.get("customer_id")
    services.waiting_call_enqueue(
        call_uuid=caller_uuid,
        queue_slug=queue_slug,
        node=event.node,
        telephony_call_id=event.call_id,
        caller_number=event.data.get("caller_number") or "",
        customer_ref=str(customer) if customer else "",
        priority=_int(cc.get("cc_priority")),
        tier=cc.get("cc_tier", ""),
        language=cc.get("cc_language", ""),
        skills=cc.get("cc_skills", ""),
        enqueued_at=event.occurred_at,
    )


def on_call_answered(event: CallEvent) -> None:
    """An agent (or a called-back customer) answered a leg routing originated."""
    from apps.routing import services

    if event.leg_uuid:
        services.call_leg_answered(leg_uuid=event.leg_uuid)


def on_call_hungup(event: CallEvent) -> None:
    """A caller, an agent leg or a called-back customer leg hung up."""
    from apps.routing import services

    if event.leg_uuid:
        services.call_leg_hungup(leg_uuid=event.leg_uuid)


def on_call_dtmf(event: CallEvent) -> None:
    """A waiting caller pressed a key (1 accepts an offered callback)."""
    from apps.routing import services

    digit = str(event.data.get("digit") or "")
    if event.leg_uuid and digit:
        services.waiting_call_dtmf(call_uuid=event.leg_uuid, digit=digit)


def on_command_failed(event: CallEvent) -> None:
    """Ringing an agent failed (no answer within the ring timeout, busy, gone): RONA."""
    from apps.routing import services

    parsed = parse_offer_key(str(event.data.get("idempotency_key") or ""))
    if parsed is None:
        return
    token, what = parsed
    if what == RING_AGENT:
        services.offer_ring_failed(token=token)
    elif what == DIAL_CUSTOMER:
        services.callback_dial_failed(token=token)
    elif what == BRIDGE:
        logger.warning("routing bridge for offer %s failed: %s", token, event.data)


def on_endpoint_unregistered(event: CallEvent) -> None:
    """An agent's phone or softphone went away: the agent is offline."""
    from apps.accounts.models import Agent
    from apps.routing import services

    agent_id = event.agent_id
    if agent_id is None:
        username = str(event.data.get("username") or "")
        agent_id = Agent.objects.filter(extension=username).values_list("pk", flat=True).first()
    if agent_id is not None:
        services.agent_endpoint_lost(agent_id=agent_id)


def subscribe() -> None:
    """Subscribe routing to the telephony domain events it reacts to."""
    from apps.telephony import domain_events

    domain_events.subscribe(domain_events.CALL_PARKED, on_call_parked)
    domain_events.subscribe(domain_events.CALL_ANSWERED, on_call_answered)
    domain_events.subscribe(domain_events.CALL_HUNGUP, on_call_hungup)
    domain_events.subscribe(domain_events.CALL_DTMF, on_call_dtmf)
    domain_events.subscribe(domain_events.COMMAND_FAILED, on_command_failed)
    domain_events.subscribe(domain_events.ENDPOINT_UNREGISTERED, on_endpoint_unregistered)
