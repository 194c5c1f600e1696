"""Send a stored call command to FreeSWITCH exactly once and record what FreeSWITCH answered.

The guarantee against a second call rests on three things:

1. ``services.call_command_claim`` marks the command ``sent`` in a committed transaction, under
   a row lock, *before* a byte goes to FreeSWITCH; a redelivered task finds it ``sent`` or final
   and does not send it again.
2. An attempt that dies after sending leaves the command ``sent``; once its lease expires the
   outcome is resolved from our records (an originate's leg exists or not), never by resending.
3. ``originate`` asks for ``origination_uuid`` derived from the idempotency key, so even two
   sends of one command could not create two live channels: FreeSWITCH refuses a uuid in use,
   and the uuid ties the leg the event process records back to the command.

Only a send that provably wrote nothing (``NotConnected`` before the write) puts the command
back to ``pending`` for a later retry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apps.core.realtime import gevent_patched
from apps.telephony import services
from apps.telephony.clients import client_for_node
from apps.telephony.esl import (
    CallFailed,
    CommandError,
    CommandNotFound,
    CommandTimeout,
    ConnectionLost,
    ConsultCall,
    EavesdropMode,
    FreeSwitchClient,
    HoldAction,
    NoSuchChannel,
    NotConnected,
    RecordAction,
    TransferLeg,
    UsageError,
)
from apps.telephony.models import CallCommand

logger = logging.getLogger(__name__)

# Retries while the node is unreachable: after these the command fails with NODE_UNAVAILABLE
# rather than placing a call long after whoever asked has moved on.
MAX_UNREACHABLE_ATTEMPTS = 5


@dataclass(frozen=True)
class RunOutcome:
    """The command after this run, and when to run again (None: done)."""

    command: CallCommand
    retry_in: float | None = None


def _originate_variables(command: CallCommand) -> dict[str, Any]:
    params = command.params
    variables: dict[str, Any] = dict(params.get("variables") or {})
    variables[services.CC_COMMAND_ID] = command.pk
    if command.call is not None:
        variables[services.CC_CALL_UUID] = command.call.uuid
    if params.get("agent_id"):
        variables[services.CC_AGENT_ID] = int(params["agent_id"])
    if params.get("role"):
        variables[services.CC_LEG_ROLE] = params["role"]
    return variables


_RECORD_ACTIONS = {
    CallCommand.Kind.RECORD_START: RecordAction.START,
    CallCommand.Kind.RECORD_STOP: RecordAction.STOP,
    CallCommand.Kind.RECORD_MASK: RecordAction.MASK,
    CallCommand.Kind.RECORD_UNMASK: RecordAction.UNMASK,
}
_EAVESDROP_MODES = {
    CallCommand.Kind.EAVESDROP: EavesdropMode.LISTEN,
    CallCommand.Kind.WHISPER: EavesdropMode.TALK_TO_TARGET,
    CallCommand.Kind.BARGE: EavesdropMode.BARGE,
}


Sender = Callable[[FreeSwitchClient, CallCommand], dict[str, Any]]


def _originate(client: FreeSwitchClient, command: CallCommand) -> dict[str, Any]:
    params = command.params
    extension = params.get("extension")
    leg_uuid = client.originate(
        destination=params["destination"],
        application=None if extension else params.get("application", "park"),
        application_args=None if extension else params.get("application_args"),
        extension=extension,
        dialplan=params.get("dialplan", "XML"),
        context=params.get("context", "default"),
        origination_uuid=services.origination_uuid_for(command),
        caller_id_name=params.get("caller_id_name"),
        caller_id_number=params.get("caller_id_number"),
        variables=_originate_variables(command),
        timeout=params.get("timeout"),
    )
    return {"uuid": leg_uuid}


def _bridge(client: FreeSwitchClient, command: CallCommand) -> dict[str, Any]:
    client.uuid_bridge(uuid=command.params["uuid"], other_uuid=command.params["other_uuid"])
    return {}


def _transfer(client: FreeSwitchClient, command: CallCommand) -> dict[str, Any]:
    params = command.params
    client.uuid_transfer(
        uuid=params["uuid"],
        destination=params["destination"],
        dialplan=params.get("dialplan", "XML"),
        context=params.get("context", "default"),
        leg=TransferLeg(params.get("leg", "aleg")),
    )
    return {}


def _hangup(client: FreeSwitchClient, command: CallCommand) -> dict[str, Any]:
    params = command.params
    existed = client.uuid_kill(uuid=params["uuid"], cause=params.get("cause"), missing_ok=True)
    return {"already_gone": not existed}


def _hold(client: FreeSwitchClient, command: CallCommand) -> dict[str, Any]:
    held = command.kind == CallCommand.Kind.HOLD
    client.uuid_hold(uuid=command.params["uuid"], action=HoldAction.ON if held else HoldAction.OFF)
    return {}


def _record(client: FreeSwitchClient, command: CallCommand) -> dict[str, Any]:
    params = command.params
    client.uuid_record(
        uuid=params["uuid"], action=_RECORD_ACTIONS[command.kind], path=params["path"]
    )
    return {"path": params["path"]}


def _broadcast(client: FreeSwitchClient, command: CallCommand) -> dict[str, Any]:
    params = command.params
    client.uuid_broadcast(
        uuid=params["uuid"], path=params["path"], leg=TransferLeg(params.get("leg", "aleg"))
    )
    return {}


def _send_dtmf(client: FreeSwitchClient, command: CallCommand) -> dict[str, Any]:
    client.uuid_send_dtmf(uuid=command.params["uuid"], digits=command.params["digits"])
    return {}


def _eavesdrop(client: FreeSwitchClient, command: CallCommand) -> dict[str, Any]:
    params = command.params
    leg_uuid = client.eavesdrop(
        supervisor_destination=params["supervisor_destination"],
        target_uuid=params["target_uuid"],
        mode=_EAVESDROP_MODES[command.kind],
        supervisor_uuid=services.origination_uuid_for(command),
        variables={**_originate_variables(command), services.CC_LEG_ROLE: "supervisor"},
        timeout=params.get("timeout"),
    )
    return {"uuid": leg_uuid}


def _attended_transfer(client: FreeSwitchClient, command: CallCommand) -> dict[str, Any]:
    params = command.params
    if params["action"] == "start":
        consult = client.attended_transfer_start(
            customer_uuid=params["customer_uuid"],
            agent_uuid=params["agent_uuid"],
            target_destination=params["target_destination"],
            consult_uuid=services.origination_uuid_for(command),
            variables={**_originate_variables(command), services.CC_LEG_ROLE: "consult"},
            timeout=params.get("timeout"),
        )
        return {"consult_uuid": consult.consult_uuid}
    consult = ConsultCall(
        customer_uuid=params["customer_uuid"],
        agent_uuid=params["agent_uuid"],
        consult_uuid=params["consult_uuid"],
    )
    if params["action"] == "complete":
        client.attended_transfer_complete(consult)
    else:
        client.attended_transfer_cancel(consult)
    return {}


_SENDERS: dict[str, Sender] = {
    CallCommand.Kind.ORIGINATE: _originate,
    CallCommand.Kind.BRIDGE: _bridge,
    CallCommand.Kind.TRANSFER: _transfer,
    CallCommand.Kind.ATTENDED_TRANSFER: _attended_transfer,
    CallCommand.Kind.HANGUP: _hangup,
    CallCommand.Kind.HOLD: _hold,
    CallCommand.Kind.UNHOLD: _hold,
    CallCommand.Kind.RECORD_START: _record,
    CallCommand.Kind.RECORD_STOP: _record,
    CallCommand.Kind.RECORD_MASK: _record,
    CallCommand.Kind.RECORD_UNMASK: _record,
    CallCommand.Kind.BROADCAST: _broadcast,
    CallCommand.Kind.SEND_DTMF: _send_dtmf,
    CallCommand.Kind.EAVESDROP: _eavesdrop,
    CallCommand.Kind.WHISPER: _eavesdrop,
    CallCommand.Kind.BARGE: _eavesdrop,
}


def send_command(command: CallCommand, client: FreeSwitchClient) -> dict[str, Any]:
    """Send one command with the typed client; return its result (raise the typed error)."""
    sender = _SENDERS.get(command.kind)
    if sender is None:
        raise ValueError(f"unknown command kind {command.kind!r}")
    return sender(client, command)


# Most specific first: CallFailed carries its own cause (USER_NOT_REGISTERED, NO_ANSWER, ...).
_ERROR_CODES: tuple[tuple[type[Exception], str], ...] = (
    (NoSuchChannel, "NO_SUCH_CHANNEL"),
    (UsageError, "USAGE"),
    (CommandNotFound, "COMMAND_NOT_FOUND"),
    (CommandTimeout, "TIMEOUT"),
    (ConnectionLost, "CONNECTION_LOST"),
    (ValueError, "INVALID_PARAMS"),
)


def error_code_for(error: Exception) -> str:
    """Return the stable error code recorded for a FreeSWITCH error."""
    if isinstance(error, CallFailed) and error.cause:
        return error.cause
    for error_type, code in _ERROR_CODES:
        if isinstance(error, error_type):
            return code
    return "COMMAND_ERROR"


def _unreachable_retry(command: CallCommand, reason: str) -> RunOutcome:
    if command.attempts >= MAX_UNREACHABLE_ATTEMPTS:
        return RunOutcome(
            services.call_command_record_result(
                command_id=command.pk,
                succeeded=False,
                error_code="NODE_UNAVAILABLE",
                error_message=reason,
            )
        )
    services.call_command_release(command_id=command.pk)
    return RunOutcome(
        command, retry_in=min(services.UNREACHABLE_RETRY_CAP_SECONDS, 2.0**command.attempts)
    )


def run_call_command(command_id: int) -> RunOutcome:
    """Claim, send and record one command; return whether to retry later."""
    claim = services.call_command_claim(command_id=command_id)
    if not claim.send:
        return RunOutcome(claim.command, retry_in=claim.retry_in)
    command = services.call_command_get(command_id=command_id)
    try:
        client = client_for_node(command.node)
        result = send_command(command, client)
    except NotConnected as error:
        return _unreachable_retry(command, str(error))
    except (CommandError, CommandTimeout, ConnectionLost, ValueError) as error:
        logger.info("call command %s (%s) failed: %s", command.pk, command.kind, error)
        return RunOutcome(
            services.call_command_record_result(
                command_id=command.pk,
                succeeded=False,
                error_code=error_code_for(error),
                error_message=str(error),
            )
        )
    return RunOutcome(
        services.call_command_record_result(command_id=command.pk, succeeded=True, result=result)
    )


def _run_isolated(command_id: int) -> float | None:
    """Run one command of a batch; return when to run it again (None: done)."""
    try:
        return run_call_command(command_id).retry_in
    except CallCommand.DoesNotExist:
        # Its transaction was rolled back after all (a savepoint): there is nothing to send.
        logger.warning("call command %s of a batch does not exist", command_id)
        return None
    except Exception:
        # An unexpected error must not cost the other commands of the batch their send; this one
        # is retried on its own (the claim keeps a retry from sending it twice).
        logger.exception("call command %s of a batch failed unexpectedly", command_id)
        return 1.0


def run_call_commands(command_ids: list[int]) -> dict[int, float]:
    """Run several commands, each on its own; return {command id: seconds until its retry}.

    Under gevent (the telephony worker) they run concurrently, one greenlet and database
    connection each: an originate waits for its leg's answer, and the others must not wait
    behind it. Elsewhere (tests, eager mode) they run one after the other.
    """
    retries: dict[int, float] = {}
    if not gevent_patched() or len(command_ids) == 1:
        for command_id in command_ids:
            retry_in = _run_isolated(command_id)
            if retry_in is not None:
                retries[command_id] = retry_in
        return retries

    import gevent
    from django.db import connections

    def run_and_close(command_id: int) -> float | None:
        try:
            return _run_isolated(command_id)
        finally:
            connections.close_all()  # this greenlet's own connections

    greenlets = {command_id: gevent.spawn(run_and_close, command_id) for command_id in command_ids}
    gevent.joinall(list(greenlets.values()))
    for command_id, greenlet in greenlets.items():
        retry_in = greenlet.value if greenlet.successful() else 1.0
        if retry_in is not None:
            retries[command_id] = retry_in
    return retries
