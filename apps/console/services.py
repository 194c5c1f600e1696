"""Writes and pushes of the agent console.

- Call controls become telephony call commands (``call_command_request``: stored, then sent by
  the telephony worker after commit); the console shows their effect when FreeSWITCH's events
  come back, and a failure with its reason (``control_outcome_push``).
- The screen-pop is pushed to the agent's group on offer and again on answer
  (``screen_pop_push``, called from the telephony event handlers).
- Wrap-ups, scheduled callbacks and notifications are the console's own records.
- State changes go to routing, customer and ticket changes to their apps' services.

Pushes go through apps.core.realtime after commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.accounts.models import Agent, User
from apps.console import integrations, protocol, selectors
from apps.console.access import CallControlContext
from apps.console.models import DispositionCode, Notification, ScheduledCallback, WrapUp
from apps.core.batched_tasks import send_soon
from apps.core.errors import Conflict, DomainError, InvalidInput, ServiceUnavailable
from apps.core.realtime import agent_group, push_now, push_on_commit, queue_group, user_group
from apps.telephony.models import Call, CallCommand, CallLeg
from apps.telephony.services import call_command_request

logger = logging.getLogger(__name__)

TARGET_KINDS = ("agent", "queue", "external")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9-]{8,64}$")
DTMF_RE = re.compile(r"^[0-9A-Da-d*#]{1,32}$")
EXTERNAL_NUMBER_RE = re.compile(r"^\+?[0-9]{3,20}$")
CONSULT_RING_SECONDS = 30
CALLBACK_MAX_DAYS = 90
NOTES_MAX_LENGTH = 5000

AGENT_DIAL_STRING_DEFAULT = "user/{extension}@{domain}"
EXTERNAL_DIAL_STRING_DEFAULT = "loopback/{number}/default"


# ------------------------------------------------------------------------------ call controls


@dataclass(frozen=True)
class TransferTarget:
    """Where a transfer goes: another agent, a queue, or an external number."""

    kind: str
    agent_id: int | None = None
    queue_slug: str = ""
    number: str = ""


def _agent_dial_string(agent: Agent) -> str:
    conf_function = integrations.optional_function("apps.routing.conf", "agent_dial_string")
    template = conf_function() if conf_function is not None else AGENT_DIAL_STRING_DEFAULT
    return template.format(extension=agent.extension, domain=settings.FREESWITCH_SIP_DOMAIN)


def _external_dial_string(number: str) -> str:
    template = getattr(settings, "CONSOLE_EXTERNAL_DIAL_STRING", None)
    if template is None:
        conf_function = integrations.optional_function("apps.routing.conf", "customer_dial_string")
        template = conf_function() if conf_function is not None else EXTERNAL_DIAL_STRING_DEFAULT
    return template.format(number=number)


@dataclass(frozen=True)
class ResolvedTarget:
    """A validated transfer target and how FreeSWITCH reaches it."""

    kind: str
    label: str
    dial_string: str  # an endpoint to originate or bridge to ("" for a queue)
    queue_slug: str = ""


def _resolve_target(target: TransferTarget | None, *, agent: Agent) -> ResolvedTarget:
    if target is None or target.kind not in TARGET_KINDS:
        raise InvalidInput(_("Choose where to transfer the call."), field="target")
    if target.kind == "agent":
        other = (
            Agent.objects.select_related("user")
            .filter(pk=target.agent_id, is_active=True, user__is_active=True)
            .first()
            if target.agent_id
            else None
        )
        if other is None:
            raise InvalidInput(_("This agent cannot take calls."), field="target")
        if other.pk == agent.pk:
            raise InvalidInput(_("The call is already yours."), field="target")
        return ResolvedTarget("agent", str(other.user), _agent_dial_string(other))
    if target.kind == "queue":
        queue_model = integrations.model("routing.Queue")
        queue = (
            queue_model.objects.filter(slug=target.queue_slug, is_active=True).first()
            if queue_model is not None and target.queue_slug
            else None
        )
        if queue is None:
            raise InvalidInput(_("This queue does not exist."), field="target")
        return ResolvedTarget("queue", queue.name, "", queue_slug=queue.slug)
    number = re.sub(r"[\s()-]", "", target.number or "")
    if not EXTERNAL_NUMBER_RE.fullmatch(number):
        raise InvalidInput(_("Enter a phone number (digits only)."), field="target")
    return ResolvedTarget("external", number, _external_dial_string(number))


def _command(
    context: CallControlContext,
    *,
    actor: User,
    action: str,
    request_id: str,
    kind: str,
    params: dict[str, Any],
    part: str = "",
) -> CallCommand:
    return call_command_request(
        kind=kind,
        params=params,
        idempotency_key=protocol.command_key(
            agent_id=context.agent.pk,
            call_id=context.call.pk,
            action=action,
            request_id=request_id,
            part=part,
        ),
        call=context.call,
        requested_by=actor,
        requester=protocol.REQUESTER,
    )


def _require_customer(context: CallControlContext) -> CallLeg:
    customer_leg = context.parties.customer_leg
    if customer_leg is None:
        raise Conflict(_("The other party has hung up."), code="party_gone")
    return customer_leg


def _require_connected(context: CallControlContext) -> tuple[CallLeg, CallLeg]:
    agent_leg = context.parties.agent_leg
    customer_leg = _require_customer(context)
    if agent_leg is None or agent_leg.answered_at is None:
        raise Conflict(_("Answer the call first."), code="not_answered")
    return agent_leg, customer_leg


@dataclass(frozen=True)
class _ControlRequest:
    """One control being turned into commands (what the per-action builders need)."""

    actor: User
    context: CallControlContext
    action: str
    request_id: str
    target: TransferTarget | None
    digits: str

    @property
    def agent_leg(self) -> CallLeg:
        leg = self.context.parties.agent_leg
        assert leg is not None  # access_call_control guarantees the agent is on the call
        return leg

    def command(self, kind: str, params: dict[str, Any], part: str = "") -> CallCommand:
        return _command(
            self.context,
            actor=self.actor,
            action=self.action,
            request_id=self.request_id,
            kind=kind,
            params=params,
            part=part,
        )


def _hold(request: _ControlRequest) -> list[CallCommand]:
    agent_leg = request.agent_leg
    if agent_leg.answered_at is None:
        raise Conflict(_("Answer the call first."), code="not_answered")
    holding = request.action == "hold"
    if holding and agent_leg.is_held:
        raise Conflict(_("The call is already on hold."), code="already_held")
    if not holding and not agent_leg.is_held:
        raise Conflict(_("The call is not on hold."), code="not_held")
    kind = CallCommand.Kind.HOLD if holding else CallCommand.Kind.UNHOLD
    return [request.command(kind, {"uuid": agent_leg.uuid})]


def _hangup(request: _ControlRequest) -> list[CallCommand]:
    agent_leg = request.agent_leg
    consult_leg = request.context.parties.consult_leg
    if consult_leg is not None and agent_leg.bridged_to == consult_leg.uuid:
        raise Conflict(_("Complete or cancel the consultation first."), code="consulting")
    if agent_leg.answered_at is None:
        # Declining a ringing call: only the agent's leg goes (routing offers it elsewhere).
        return [
            request.command(CallCommand.Kind.HANGUP, {"uuid": agent_leg.uuid, "cause": "USER_BUSY"})
        ]
    commands = [
        request.command(
            CallCommand.Kind.HANGUP,
            {"uuid": agent_leg.uuid, "cause": "NORMAL_CLEARING"},
            part="agent",
        )
    ]
    customer_leg = request.context.parties.customer_leg
    if customer_leg is not None and customer_leg.bridged_to == agent_leg.uuid:
        commands.append(
            request.command(
                CallCommand.Kind.HANGUP,
                {"uuid": customer_leg.uuid, "cause": "NORMAL_CLEARING"},
                part="customer",
            )
        )
    return commands


def _dtmf(request: _ControlRequest) -> list[CallCommand]:
    if not DTMF_RE.fullmatch(request.digits or ""):
        raise InvalidInput(_("Enter DTMF digits (0-9, *, #, A-D)."), field="digits")
    _agent_leg, customer_leg = _require_connected(request.context)
    return [
        request.command(
            CallCommand.Kind.SEND_DTMF, {"uuid": customer_leg.uuid, "digits": request.digits}
        )
    ]


def _transfer(request: _ControlRequest) -> list[CallCommand]:
    _agent_leg, customer_leg = _require_connected(request.context)
    if request.context.parties.consult_leg is not None:
        raise Conflict(_("Complete or cancel the consultation first."), code="consulting")
    resolved = _resolve_target(request.target, agent=request.context.agent)
    if resolved.kind == "queue":
        # The caller parks again with the new queue; routing puts them in its line.
        destination = f"set:cc_queue={resolved.queue_slug},park"
    else:
        destination = f"bridge:{resolved.dial_string}"
    return [
        request.command(
            CallCommand.Kind.TRANSFER,
            {
                "uuid": customer_leg.uuid,
                "destination": destination,
                "dialplan": "inline",
                "target_kind": resolved.kind,
                "target_label": resolved.label,
            },
        )
    ]


def _consult(request: _ControlRequest) -> list[CallCommand]:
    agent_leg, customer_leg = _require_connected(request.context)
    if request.context.parties.consult_leg is not None:
        raise Conflict(_("A consultation is already in progress."), code="consulting")
    resolved = _resolve_target(request.target, agent=request.context.agent)
    if resolved.kind == "queue":
        raise InvalidInput(
            _("A consultation needs a person: choose an agent or a number."), field="target"
        )
    return [
        request.command(
            CallCommand.Kind.ATTENDED_TRANSFER,
            {
                "action": "start",
                "customer_uuid": customer_leg.uuid,
                "agent_uuid": agent_leg.uuid,
                "target_destination": resolved.dial_string,
                "timeout": CONSULT_RING_SECONDS,
                "target_kind": resolved.kind,
                "target_label": resolved.label,
            },
        )
    ]


def _consult_finish(request: _ControlRequest) -> list[CallCommand]:
    consult_leg = request.context.parties.consult_leg
    if consult_leg is None:
        raise Conflict(_("There is no consultation in progress."), code="no_consultation")
    customer_leg = _require_customer(request.context)
    return [
        request.command(
            CallCommand.Kind.ATTENDED_TRANSFER,
            {
                "action": "complete" if request.action == "consult_complete" else "cancel",
                "customer_uuid": customer_leg.uuid,
                "agent_uuid": request.agent_leg.uuid,
                "consult_uuid": consult_leg.uuid,
            },
        )
    ]


_BUILDERS: dict[str, Any] = {
    "hold": _hold,
    "unhold": _hold,
    "hangup": _hangup,
    "dtmf": _dtmf,
    "transfer": _transfer,
    "consult": _consult,
    "consult_complete": _consult_finish,
    "consult_cancel": _consult_finish,
}


@transaction.atomic
def call_control_request(
    *,
    actor: User,
    context: CallControlContext,
    action: str,
    request_id: str,
    target: TransferTarget | None = None,
    digits: str = "",
) -> list[CallCommand]:
    """Ask telephony for the commands one console control needs; return them.

    The same ``request_id`` (one click, retried) returns the same commands and sends nothing
    twice. FreeSWITCH's resulting events update every console of the agent; a command that
    fails is reported to them with its reason (``control_outcome_push``).
    """
    builder = _BUILDERS.get(action)
    if builder is None:
        raise InvalidInput(_("Unknown call control."), field="action")
    if not REQUEST_ID_RE.fullmatch(request_id or ""):
        raise InvalidInput(
            _("A request id of 8 to 64 letters, digits or dashes is required."), field="request_id"
        )
    return builder(_ControlRequest(actor, context, action, request_id, target, digits))


CONTROL_ACTIONS = tuple(_BUILDERS)


def control_outcome_push(
    *,
    idempotency_key: str,
    succeeded: bool,
    kind: str,
    error_code: str = "",
    error_message: str = "",
    command_id: int | None = None,
) -> bool:
    """Tell the agent's consoles what became of one of their call controls; return True when
    the command was the console's."""
    parsed = protocol.parse_command_key(idempotency_key)
    if parsed is None:
        return False
    action = str(parsed["action"])
    payload: dict[str, Any] = {
        "call_id": parsed["call_id"],
        "action": action,
        "request_id": parsed["request_id"],
        "command_id": command_id,
        "kind": kind,
    }
    agent_id = int(parsed["agent_id"])
    if succeeded:
        push_now(agent_group(agent_id), protocol.CONTROL_SUCCEEDED, payload)
        return True
    agent = Agent.objects.select_related("user").filter(pk=agent_id).first()
    language = agent.user.language if agent is not None else settings.LANGUAGE_CODE
    with translation.override(language):
        reason = protocol.failure_reason(
            action=action, error_code=error_code, error_message=error_message
        )
    push_now(
        agent_group(agent_id),
        protocol.CONTROL_FAILED,
        {**payload, "error_code": error_code, "reason": reason},
    )
    return True


# ---------------------------------------------------------------------------------- screen-pop


def screen_pop_push(
    *,
    call_id: int,
    agent_id: int,
    phase: str,
    leg_uuid: str | None = None,
    leg_role: str | None = None,
    occurred_at: dt.datetime | None = None,
) -> dict[str, Any] | None:
    """Push the call's screen-pop to the agent's consoles now (callers are past the commit).

    ``phase`` is "offer" (the agent's phone rings), "answer" or "update" (the customer changed).
    Return the payload sent, None when the call is unknown.
    """
    core = selectors.screen_pop_core(call_id=call_id)
    if core is None:
        return None
    call = core["call"]
    if phase == "answer" and occurred_at is not None and not call.get("answered_at"):
        call = {**call, "answered_at": selectors.iso(occurred_at)}
    payload = {
        **core,
        "call": call,
        "phase": phase,
        "agent_id": agent_id,
        "leg_uuid": leg_uuid,
        "leg_role": leg_role,
        "event_at": selectors.iso(occurred_at),
        # When the suite sent it: with event_at, where a slow screen-pop spent its time.
        "pushed_at": timezone.now().isoformat(),
    }
    push_now(agent_group(agent_id), protocol.SCREEN_POP, payload)
    return payload


def screen_pop_prepare(*, call_id: int) -> None:
    """Build and keep a call's screen-pop before any agent is rung (the caller is queued)."""
    selectors.screen_pop_core(call_id=call_id)


def caller_queued_later(*, call_id: int, queue_slug: str) -> None:
    """A caller joined a queue's line (in the event process): have the realtime worker prepare
    their screen-pop (a task call; the calls of the same few milliseconds leave in one message)
    and the queue's figures pushed (rarely more than a memory check, see queue_stats_changed)."""
    from apps.console.tasks import prepare_screen_pops

    send_soon(prepare_screen_pops, call_id)
    queue_stats_changed(queue_slug=queue_slug)


def caller_queued(*, call_id: int, queue_slug: str) -> None:
    """A caller joined a queue's line (in the realtime worker): build their screen-pop before
    an agent is rung, then have the queue's figures pushed (at most about once a second)."""
    screen_pop_prepare(call_id=call_id)
    queue_stats_changed(queue_slug=queue_slug)


def _push_screen_pop_update(call: Call, agent: Agent) -> None:
    def send() -> None:
        selectors.screen_pop_forget(call_id=call.pk)
        screen_pop_push(call_id=call.pk, agent_id=agent.pk, phase="update")

    transaction.on_commit(send)


@transaction.atomic
def caller_customer_create(
    *,
    actor: User,
    call: Call,
    agent: Agent,
    name: str,
    language: str = "",
    company: str = "",
) -> Any:
    """Create a customer for an unknown caller, with the call's number; push the new screen-pop."""
    create = integrations.function("customer_create")
    identity_input = integrations.optional("apps.customers.services", "IdentityInput")
    if create is None or identity_input is None:
        raise ServiceUnavailable(_("Customer records are not available yet."))
    number = selectors.customer_number(call)
    if not selectors.normalized_number(number):
        raise InvalidInput(_("The caller's number is withheld or invalid."), field="number")
    if selectors.call_customer(call) is not None:
        raise Conflict(_("The caller is already a known customer."), code="known_caller")
    profile: dict[str, Any] = {"name": name.strip()[:200]}
    if language:
        profile["language"] = language
    if company:
        profile["company"] = company.strip()[:200]
    customer = create(
        actor=actor,
        identities=[identity_input(kind="phone", value=number, is_primary=True)],
        **profile,
    )
    _push_screen_pop_update(call, agent)
    return customer


@transaction.atomic
def caller_customer_link(*, actor: User, call: Call, agent: Agent, customer: Any) -> Any:
    """Add the caller's number to an existing customer; push the new screen-pop."""
    identity_add = integrations.function("customer_identity_add")
    if identity_add is None:
        raise ServiceUnavailable(_("Customer records are not available yet."))
    number = selectors.customer_number(call)
    if not selectors.normalized_number(number):
        raise InvalidInput(_("The caller's number is withheld or invalid."), field="number")
    identity_add(actor=actor, customer=customer, kind="phone", value=number)
    _push_screen_pop_update(call, agent)
    return customer


# ------------------------------------------------------------------------------ agent state


def agent_state_request(*, actor: User, agent: Agent, state: str, reason: str = "") -> Any:
    """Ask routing to set the agent's state; routing pushes the change to every console."""
    set_state = integrations.function("agent_set_state")
    if set_state is None:
        raise ServiceUnavailable(_("Agent states are not available yet."))
    return set_state(agent=agent, state=state, reason=reason or "", actor=actor)


def wrap_up_extend_request(*, actor: User, agent: Agent, seconds: int) -> Any:
    """Ask routing for more wrap-up time before the agent becomes available again."""
    extend = integrations.function("wrap_up_extend")
    if extend is None:
        raise ServiceUnavailable(_("Wrap-up cannot be extended yet."))
    if not 1 <= seconds <= 600:
        raise InvalidInput(_("Extend by 1 to 600 seconds."), field="seconds")
    return extend(agent=agent, seconds=seconds, actor=actor)


# ------------------------------------------------------------------------------------ wrap-up


@dataclass(frozen=True)
class TicketRequest:
    """The ticket a wrap-up creates (``subject``) or links (``ticket_id``)."""

    subject: str = ""
    description: str = ""
    priority: str = "normal"
    ticket_id: int | None = None


@dataclass(frozen=True)
class CallbackRequest:
    """A callback a wrap-up schedules."""

    due_at: dt.datetime
    number: str = ""
    notes: str = ""


def _ticket_for_wrap_up(
    *, actor: User, call: Call, request: TicketRequest, customer: Any
) -> tuple[int, str] | None:
    if request.ticket_id is not None:
        access = integrations.function("access_ticket_by_id")
        link = integrations.function("ticket_link_call")
        if access is None or link is None:
            raise ServiceUnavailable(_("Tickets are not available yet."))
        ticket = access(actor, request.ticket_id)
        link(actor=actor, ticket=ticket, call_uuid=call.uuid)
        return ticket.pk, ticket.reference
    if not request.subject.strip():
        return None
    create = integrations.function("ticket_create_from_call")
    if create is None:
        raise ServiceUnavailable(_("Tickets are not available yet."))
    ticket = create(
        actor=actor,
        call_uuid=call.uuid,
        subject=request.subject.strip(),
        description=request.description,
        customer=customer,
        caller_number=selectors.customer_number(call) or None,
        priority=request.priority or "normal",
    )
    return ticket.pk, ticket.reference


def _record_on_timeline(*, actor: User, customer: Any, call: Call, wrap_up: WrapUp) -> None:
    record = integrations.optional_function("apps.customers.services", "interaction_record")
    if record is None or customer is None or not (wrap_up.notes or wrap_up.disposition_id):
        return
    label = wrap_up.disposition.label if wrap_up.disposition else ""
    summary = ": ".join(part for part in (label, wrap_up.notes) if part)
    record(
        actor=actor,
        customer=customer,
        channel="note",
        direction="internal",
        summary=summary,
        refs={
            "call_uuid": call.uuid,
            "wrap_up_id": wrap_up.pk,
            "disposition": wrap_up.disposition.code if wrap_up.disposition else "",
        },
        agent=actor,
    )


@transaction.atomic
def wrap_up_submit(
    *,
    actor: User,
    call: Call,
    agent: Agent,
    disposition_id: int | None,
    notes: str = "",
    ticket: TicketRequest | None = None,
    callback: CallbackRequest | None = None,
    ready: bool = True,
) -> WrapUp:
    """Record how the agent closed the call: disposition, notes, a ticket, a callback.

    The disposition must be one of the call's queue (or a global one) and is required when there
    are any. With ``ready`` an agent in wrap-up becomes available again.
    """
    if WrapUp.objects.filter(call_uuid=call.uuid, agent=agent).exists():
        raise Conflict(_("This call is already wrapped up."), code="already_wrapped_up")
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX_LENGTH:
        raise InvalidInput(_("The notes are too long."), field="notes")
    allowed = {code.pk: code for code in selectors.disposition_list_for_call(call)}
    disposition: DispositionCode | None = None
    if disposition_id is not None:
        disposition = allowed.get(disposition_id)
        if disposition is None:
            raise InvalidInput(_("Choose a disposition of this call's queue."), field="disposition")
    elif allowed:
        raise InvalidInput(_("Choose a disposition."), field="disposition")
    if disposition is not None and disposition.requires_notes and not notes:
        raise InvalidInput(_("This disposition needs notes."), field="notes")
    customer = selectors.call_customer(call)
    ticket_ref = (
        _ticket_for_wrap_up(actor=actor, call=call, request=ticket, customer=customer)
        if ticket is not None
        else None
    )
    scheduled = None
    if callback is not None:
        scheduled = callback_schedule(
            actor=actor,
            agent=agent,
            call=call,
            due_at=callback.due_at,
            number=callback.number or selectors.customer_number(call),
            notes=callback.notes,
        )
    wrap_up = WrapUp.objects.create(
        call=call,
        call_uuid=call.uuid,
        agent=agent,
        disposition=disposition,
        notes=notes,
        customer_id=customer.pk if customer is not None else None,
        ticket_id=ticket_ref[0] if ticket_ref else None,
        ticket_reference=ticket_ref[1] if ticket_ref else "",
        callback=scheduled,
        submitted_by=actor,
    )
    _record_on_timeline(actor=actor, customer=customer, call=call, wrap_up=wrap_up)
    push_on_commit(
        agent_group(agent.pk),
        protocol.WRAP_UP_SAVED,
        {
            "call_id": call.pk,
            "wrap_up": selectors.wrap_up_payload(wrap_up),
            "callback": selectors.callback_payload(scheduled) if scheduled else None,
        },
    )
    if ready and selectors.agent_presence(agent)["state"] == "wrap_up":
        try:
            with transaction.atomic():
                agent_state_request(actor=actor, agent=agent, state="available")
        except DomainError as error:  # the wrap-up stands even if routing refuses the change
            logger.info("agent %s stays in wrap-up after submitting: %s", agent.pk, error)
    return wrap_up


# ---------------------------------------------------------------------------------- callbacks


@transaction.atomic
def callback_schedule(
    *,
    actor: User,
    agent: Agent,
    due_at: dt.datetime,
    number: str,
    call: Call | None = None,
    notes: str = "",
) -> ScheduledCallback:
    """Schedule a callback for the agent; they are reminded when it is due."""
    now = timezone.now()
    if timezone.is_naive(due_at):
        raise InvalidInput(_("Give the callback time with its time zone."), field="due_at")
    if due_at < now - dt.timedelta(minutes=1) or due_at > now + dt.timedelta(
        days=CALLBACK_MAX_DAYS
    ):
        raise InvalidInput(
            _("A callback is due between now and %(days)s days from now.")
            % {"days": CALLBACK_MAX_DAYS},
            field="due_at",
        )
    cleaned = selectors.normalized_number(number) or re.sub(r"[\s()-]", "", number or "")
    if not EXTERNAL_NUMBER_RE.fullmatch(cleaned):
        raise InvalidInput(_("Enter the number to call back."), field="number")
    customer = selectors.call_customer(call) if call is not None else None
    callback = ScheduledCallback.objects.create(
        agent=agent,
        call=call,
        customer_id=customer.pk if customer is not None else None,
        number=cleaned,
        due_at=due_at,
        queue_slug=call.queue_slug if call is not None else "",
        notes=(notes or "").strip()[:NOTES_MAX_LENGTH],
        created_by=actor,
    )
    from apps.console.tasks import callback_due

    callback_id = callback.pk
    transaction.on_commit(lambda: callback_due.apply_async(args=[callback_id], eta=due_at))
    return callback


CALLBACK_REMINDED = "reminded"
CALLBACK_NOT_DUE = "not_due"
CALLBACK_CLOSED = "closed"


@transaction.atomic
def callback_mark_due(*, callback_id: int, now: dt.datetime | None = None) -> str:
    """Remind the agent of a callback that is due, once.

    Return "reminded", "not_due" (ask again later) or "closed" (gone, already reminded or
    closed: nothing to do).
    """
    now = now or timezone.now()
    callback = (
        ScheduledCallback.objects.select_for_update()
        .select_related("agent__user")
        .filter(pk=callback_id)
        .first()
    )
    if callback is None or callback.status != ScheduledCallback.Status.SCHEDULED:
        return CALLBACK_CLOSED
    if callback.due_at > now:
        return CALLBACK_NOT_DUE
    callback.status = ScheduledCallback.Status.DUE
    callback.notified_at = now
    callback.save(update_fields=["status", "notified_at", "updated_at"])
    user = callback.agent.user
    with translation.override(user.language):
        message = _("Callback due: %(number)s") % {"number": callback.number}
    notification_send(
        user=user,
        kind="callback_due",
        message=message,
        data={"callback": selectors.callback_payload(callback)},
    )
    return CALLBACK_REMINDED


@transaction.atomic
def callback_close(*, actor: User, callback: ScheduledCallback, done: bool) -> ScheduledCallback:
    """Mark a callback made (``done``) or cancelled."""
    callback = ScheduledCallback.objects.select_for_update().get(pk=callback.pk)
    if callback.status in (ScheduledCallback.Status.DONE, ScheduledCallback.Status.CANCELLED):
        raise Conflict(_("This callback is already closed."), code="closed")
    callback.status = ScheduledCallback.Status.DONE if done else ScheduledCallback.Status.CANCELLED
    callback.save(update_fields=["status", "updated_at"])
    push_on_commit(
        agent_group(callback.agent_id),
        "callback.changed",
        {"callback": selectors.callback_payload(callback)},
    )
    return callback


# ------------------------------------------------------------------------------ notifications


@transaction.atomic
def notification_send(
    *, user: User, kind: str, message: str, data: dict[str, Any] | None = None
) -> Notification:
    """Store a notification for the user and push it to every console they have open."""
    notification = Notification.objects.create(
        user=user, kind=kind[:50], message=message[:500], data=data or {}
    )
    push_on_commit(
        user_group(user.pk), protocol.NOTIFICATION, selectors.notification_payload(notification)
    )
    return notification


@transaction.atomic
def notification_mark_read(*, user: User, ids: list[int]) -> int:
    """Mark the user's notifications read; every console of theirs drops them. Return how many."""
    ids = [int(value) for value in ids if str(value).isdigit()][:200]
    if not ids:
        return 0
    now = timezone.now()
    changed = list(
        Notification.objects.filter(user=user, pk__in=ids, read_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    Notification.objects.filter(pk__in=changed).update(read_at=now)
    if changed:
        push_on_commit(user_group(user.pk), protocol.NOTIFICATION_READ, {"ids": changed})
    return len(changed)


# ------------------------------------------------------------------------------ queue statistics


QUEUE_STATS_LEADING_KEY = "console:queue-stats:lead:{queue}"
QUEUE_STATS_TRAILING_KEY = "console:queue-stats:trail:{queue}"


def queue_stats_push(*, queue_slug: str) -> dict[str, Any] | None:
    """Push a queue's waiting count and longest wait to its group now; return the figures."""
    summary = selectors.queue_summary(queue_slug)
    if summary is None or summary["id"] is None:
        return None
    (stats,) = selectors.queue_stats([summary["id"]])
    push_now(queue_group(summary["id"]), protocol.QUEUE_STATS, stats)
    return stats


def queue_stats_changed(*, queue_slug: str) -> None:
    """Have a queue's statistics pushed after its line changed, at most about once a second per
    queue (a queue group may hold every agent's sockets): the first change is pushed at once by
    the realtime worker, the ones after it within the second are folded into one push a second
    later. Costs the caller (the event process) one or two Redis writes."""
    from django.core.cache import cache

    from apps.console.tasks import push_queue_stats

    now = time.monotonic()
    if _QUEUE_STATS_COVERED_UNTIL.get(queue_slug, 0.0) > now:
        return  # the trailing push this process scheduled runs later and counts this change
    interval = float(getattr(settings, "CONSOLE_QUEUE_STATS_INTERVAL", 1.0))
    if cache.add(QUEUE_STATS_LEADING_KEY.format(queue=queue_slug), 1, timeout=interval):
        push_queue_stats.apply_async(args=[queue_slug])
    elif cache.add(QUEUE_STATS_TRAILING_KEY.format(queue=queue_slug), 1, timeout=interval):
        push_queue_stats.apply_async(args=[queue_slug], countdown=interval)
        # It reads the figures no earlier than ``interval`` from now: until then every change
        # is covered without a Redis write (the event process sees a hang-up per caller).
        _QUEUE_STATS_COVERED_UNTIL[queue_slug] = now + interval


# Per process: until when (monotonic) a trailing queue-statistics push it scheduled covers changes.
_QUEUE_STATS_COVERED_UNTIL: dict[str, float] = {}


# ------------------------------------------------------------------------------ sessions


def session_key_digest(session_key: str | None) -> str:
    """Return a digest naming a session in pushes without spreading the key itself."""
    if not session_key:
        return ""
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


def console_sessions_close(*, user_id: int, reason: str, session_key: str | None = None) -> None:
    """Close the user's console sockets now: those of one browser session (logout), or all of
    them (the account or the agent was disabled)."""
    push_now(
        user_group(user_id),
        protocol.SESSION_CLOSED,
        {"reason": reason, "session": session_key_digest(session_key)},
    )


@dataclass(frozen=True)
class ConsoleCheck:
    """One console socket to re-check: whose, which browser session, and the agent viewed
    (None: the user's own console)."""

    user_id: int
    session_key: str | None
    agent_id: int | None = None


def console_sockets_still_allowed(checks: list[ConsoleCheck]) -> list[bool]:
    """Tell, for each socket, what ``console_user_still_allowed`` tells, in a few queries for
    all of them (the web process re-checks its every console at once)."""
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
    from django.utils.module_loading import import_string

    from apps.console.access import USE_CONSOLE

    own = [check for check in checks if check.agent_id is None]
    user_ids = {check.user_id for check in own}
    active = set(User.objects.filter(pk__in=user_ids, is_active=True).values_list("pk", flat=True))
    # Granted through groups or directly (ModelBackend); the rest get the full check below.
    permitted = set(
        ModelBackend().with_perm(USE_CONSOLE).filter(pk__in=active).values_list("pk", flat=True)
    )
    with_active_agent = set(
        Agent.objects.filter(user_id__in=active, is_active=True).values_list("user_id", flat=True)
    )
    keys = {check.session_key for check in own if check.session_key}
    store_class = import_string(settings.SESSION_ENGINE + ".SessionStore")
    if issubclass(store_class, DatabaseSessionStore):
        live_keys = set(
            store_class.get_model_class()
            .objects.filter(session_key__in=keys)
            .values_list("session_key", flat=True)
        )
    else:
        live_keys = {key for key in keys if store_class().exists(key)}
    results = []
    for check in checks:
        if check.agent_id is not None or (
            check.user_id in active and check.user_id not in permitted
        ):
            # Viewing another agent's console (a supervisor, rare), or a permission that only
            # another backend may grant: the single check.
            results.append(
                console_user_still_allowed(
                    user_id=check.user_id, session_key=check.session_key, agent_id=check.agent_id
                )
            )
            continue
        results.append(
            check.user_id in permitted
            and check.user_id in with_active_agent
            and (not check.session_key or check.session_key in live_keys)
        )
    return results


def console_user_still_allowed(
    *, user_id: int, session_key: str | None, agent_id: int | None = None
) -> bool:
    """Tell whether a console socket may stay open: the user is active and may still open this
    console (their own with ``agent_id`` None, else that agent's), and their session exists."""
    from django.contrib.sessions.backends.base import SessionBase
    from django.utils.module_loading import import_string

    from apps.console.access import access_console_agent

    user = User.objects.filter(pk=user_id).first()
    if user is None or not user.is_active:
        return False
    try:
        access_console_agent(user, agent_id)
    except DomainError:
        return False
    if session_key:
        store_class = import_string(settings.SESSION_ENGINE + ".SessionStore")
        store: SessionBase = store_class()
        if not store.exists(session_key):
            return False
    return True
