"""The console's WebSocket protocol: the typed messages a tab receives and sends.

Server -> browser (``{"type": ..., ...payload}``):

- ``snapshot``: everything the tab shows (selectors.console_snapshot), on connect and on resync;
- ``interaction``: the agent's current interaction and recent calls, asked for with
  ``interaction.refresh`` when events show the call's legs changed (bridge, transfer, end);
- ``state.changed``: the agent's routing state (routing pushes it as ``agent.state``);
- ``call.offered``: routing reserved the agent for a waiting call (ringing starts);
- ``call.ringing`` / ``call.answered`` / ``call.bridged`` / ``call.unbridged`` / ``call.held`` /
  ``call.unheld`` / ``call.recording_started`` / ``call.recording_stopped``: FreeSWITCH events
  on the agent's leg, as telephony pushes them;
- ``call.ended``: the agent's leg hung up (telephony pushes it as ``call.hungup``);
- ``screen_pop``: caller, customer, queue and IVR path of a call, on offer and again on answer;
- ``queue.stats``: callers waiting and longest wait of one of the agent's queues;
- ``notification`` / ``notification.read``: a message for the user, and its being read;
- ``control.succeeded`` / ``control.failed``: what became of a call control, with the reason;
- ``wrap_up.saved``: the agent's wrap-up of a call was recorded (every tab updates);
- ``session.closed``: the user logged out or was disabled; the socket closes after it;
- ``error``: an inbound message was refused; ``pong``: answer to ``ping``.

Browser -> server: ``resync``, ``interaction.refresh``, ``ping``, ``state.set`` {state, reason},
``notification.read`` {ids}. Call controls go through the REST API (apps/console/api), never
over the socket.
"""

from __future__ import annotations

from typing import Final

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

SNAPSHOT: Final = "snapshot"
INTERACTION: Final = "interaction"
STATE_CHANGED: Final = "state.changed"
CALL_ENDED: Final = "call.ended"
SCREEN_POP: Final = "screen_pop"
QUEUE_STATS: Final = "queue.stats"
NOTIFICATION: Final = "notification"
NOTIFICATION_READ: Final = "notification.read"
CONTROL_SUCCEEDED: Final = "control.succeeded"
CONTROL_FAILED: Final = "control.failed"
WRAP_UP_SAVED: Final = "wrap_up.saved"
SESSION_CLOSED: Final = "session.closed"
ERROR: Final = "error"
PONG: Final = "pong"

# Group message types renamed for the browser; anything else passes through unchanged.
RENAMED: Final = {
    "agent.state": STATE_CHANGED,
    "call.hungup": CALL_ENDED,
}

# WebSocket close codes (4000-4999 are the application's).
CLOSE_SESSION_ENDED: Final = 4001
CLOSE_FORBIDDEN: Final = 4003

# Prefix of the idempotency keys of the console's call commands:
# console:<agent id>:<call id>:<action>:<request id>[:<part>]
COMMAND_KEY_PREFIX: Final = "console:"
REQUESTER: Final = "console"


def command_key(
    *, agent_id: int, call_id: int, action: str, request_id: str, part: str = ""
) -> str:
    """Return the idempotency key of one call command a console control sends."""
    key = f"{COMMAND_KEY_PREFIX}{agent_id}:{call_id}:{action}:{request_id}"
    return f"{key}:{part}" if part else key


def parse_command_key(key: str) -> dict[str, str | int] | None:
    """Return agent_id, call_id, action and request_id of a console command key, else None."""
    if not key.startswith(COMMAND_KEY_PREFIX):
        return None
    parts = key[len(COMMAND_KEY_PREFIX) :].split(":")
    if len(parts) < 4 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return {
        "agent_id": int(parts[0]),
        "call_id": int(parts[1]),
        "action": parts[2],
        "request_id": parts[3],
    }


# Why a command failed, by FreeSWITCH error code (apps.telephony.command_runner.error_code_for).
_REASONS: Final = (
    (
        ("USER_NOT_REGISTERED", "SUBSCRIBER_ABSENT"),
        _lazy("The transfer target is not reachable (not registered)."),
    ),
    (
        ("NO_ANSWER", "NO_USER_RESPONSE", "ALLOTTED_TIMEOUT", "ORIGINATOR_CANCEL"),
        _lazy("The transfer target did not answer."),
    ),
    (("USER_BUSY", "CALL_REJECTED"), _lazy("The transfer target is busy or declined the call.")),
    (
        ("NODE_UNAVAILABLE", "NOT_CONNECTED", "CONNECTION_LOST"),
        _lazy("The phone system cannot be reached right now; try again."),
    ),
    (("TIMEOUT",), _lazy("The phone system did not answer in time; try again.")),
    (
        ("OUTCOME_UNKNOWN",),
        _lazy("It is not known whether the action was carried out; check the call."),
    ),
    (
        ("UNALLOCATED_NUMBER", "NO_ROUTE_DESTINATION", "INVALID_NUMBER_FORMAT"),
        _lazy("The number cannot be reached."),
    ),
    (
        ("EXPIRED",),
        _lazy("The phone system could not carry out the action in time; it was cancelled."),
    ),
    (("CALL_ENDED",), _lazy("The call had already ended.")),
)


def failure_reason(*, action: str, error_code: str, error_message: str) -> str:
    """Return why a call control failed, in words an agent understands (translated)."""
    code = (error_code or "").upper()
    if code == "NO_SUCH_CHANNEL":
        if action in ("hold", "unhold", "hangup"):
            return _("The call has already ended.")
        return _("The other party has hung up.")
    for codes, reason in _REASONS:
        if code in codes:
            return str(reason)
    if error_message:
        return _("The action failed: %(detail)s") % {"detail": error_message[:200]}
    return _("The action failed.")
