"""Typed errors raised by the ESL layer.

Hierarchy::

    ESLError
    +-- ProtocolError            the byte stream is not valid ESL (connection is dropped)
    |   +-- TruncatedFrame       EOF in the middle of a frame
    |   +-- MessageDecodeError   a well-framed message whose payload cannot be decoded
    +-- AuthenticationError      ``auth`` refused (``-ERR invalid``) or ACL rude rejection
    +-- ConnectionLost           the TCP session ended (or was never up)
    |   +-- NotConnected         a command was issued while no session is up
    +-- CommandTimeout           no reply within the caller's timeout
    +-- CommandError             FreeSWITCH answered ``-ERR ...`` / ``-USAGE: ...``
        +-- UsageError           ``-USAGE: ...`` (wrong arguments)
        +-- CommandNotFound      ``-ERR command not found``, ``-ERR foo Command not found!``
        +-- NoSuchChannel        ``-ERR No such channel!`` / ``-ERR no such channel``
        +-- CallFailed           ``-ERR <HANGUP_CAUSE>`` (originate results)
            +-- UserNotRegistered, SubscriberAbsent, NoAnswer, UserBusy, CallRejected,
                ChannelNotImplemented, TemporaryFailure

The reply texts mapped here are the ones present in the fixtures captured from FreeSWITCH
1.10.12 (``/work/shared/fixtures/esl``): ``b2`` (originate causes, usage, no such channel),
``b1``/``a3``/``h2`` (command not found), ``i1`` (no such channel), ``e1``/``k1`` (other ``-ERR``).
"""

from __future__ import annotations

import re

__all__ = [
    "AuthenticationError",
    "CallFailed",
    "CallRejected",
    "ChannelNotImplemented",
    "CommandError",
    "CommandNotFound",
    "CommandTimeout",
    "ConnectionLost",
    "ESLError",
    "MessageDecodeError",
    "NoAnswer",
    "NoSuchChannel",
    "NotConnected",
    "ProtocolError",
    "SubscriberAbsent",
    "TemporaryFailure",
    "TruncatedFrame",
    "UsageError",
    "UserBusy",
    "UserNotRegistered",
    "error_from_reply",
    "is_error_reply",
]


class ESLError(Exception):
    """Base class of every error raised by the ESL layer."""


class ProtocolError(ESLError):
    """Signal bytes that violate the ESL framing; the connection must be dropped."""


class TruncatedFrame(ProtocolError):
    """Signal that the peer closed the stream in the middle of a frame."""


class MessageDecodeError(ProtocolError):
    """Signal a well-framed message whose payload cannot be decoded (framing is intact)."""


class AuthenticationError(ESLError):
    """Signal that FreeSWITCH refused the password or rejected the client by ACL."""


class ConnectionLost(ESLError):
    """Signal that the TCP session to FreeSWITCH ended."""


class NotConnected(ConnectionLost):
    """Signal that a command was issued while no authenticated session is up."""


class CommandTimeout(ESLError):
    """Signal that FreeSWITCH did not answer a command within the allotted time."""


class CommandError(ESLError):
    """Carry a FreeSWITCH error reply (``-ERR ...`` or ``-USAGE: ...``).

    Attributes:
        command: the command as sent (without the ``api``/``bgapi`` prefix).
        reply: the full reply text, trailing whitespace removed.
        text: the reply without its ``-ERR``/``-USAGE:`` marker.
        cause: the hangup cause when the reply is exactly ``-ERR <CAUSE>``
            (e.g. ``USER_NOT_REGISTERED``), else ``None``.
    """

    def __init__(self, reply: str, *, command: str = "", cause: str | None = None) -> None:
        self.reply = reply.rstrip()
        self.command = command
        self.cause = cause
        self.text = _strip_marker(self.reply)
        where = f" (command: {command})" if command else ""
        super().__init__(f"{self.reply}{where}")


class UsageError(CommandError):
    """Carry a ``-USAGE: ...`` reply: the command's arguments were wrong."""


class CommandNotFound(CommandError):
    """Carry ``-ERR command not found`` (ESL level) or ``-ERR <cmd> Command not found!`` (API)."""


class NoSuchChannel(CommandError):
    """Carry ``-ERR No such channel!`` / ``-ERR no such channel``: the uuid does not exist."""


class CallFailed(CommandError):
    """Carry ``-ERR <HANGUP_CAUSE>``: a call could not be set up; see ``cause``."""


class UserNotRegistered(CallFailed):
    """Carry ``-ERR USER_NOT_REGISTERED``: the directory user has no registration."""


class SubscriberAbsent(CallFailed):
    """Carry ``-ERR SUBSCRIBER_ABSENT``: no such directory user."""


class NoAnswer(CallFailed):
    """Carry ``-ERR NO_ANSWER`` / ``-ERR NO_USER_RESPONSE``: nobody answered in time."""


class UserBusy(CallFailed):
    """Carry ``-ERR USER_BUSY``."""


class CallRejected(CallFailed):
    """Carry ``-ERR CALL_REJECTED``."""


class ChannelNotImplemented(CallFailed):
    """Carry ``-ERR CHAN_NOT_IMPLEMENTED``: unknown endpoint type in the dial string."""


class TemporaryFailure(CallFailed):
    """Carry ``-ERR NORMAL_TEMPORARY_FAILURE``: the far end could not be reached."""


CAUSE_ERRORS: dict[str, type[CallFailed]] = {
    "USER_NOT_REGISTERED": UserNotRegistered,
    "SUBSCRIBER_ABSENT": SubscriberAbsent,
    "NO_ANSWER": NoAnswer,
    "NO_USER_RESPONSE": NoAnswer,
    "USER_BUSY": UserBusy,
    "CALL_REJECTED": CallRejected,
    "CHAN_NOT_IMPLEMENTED": ChannelNotImplemented,
    "NORMAL_TEMPORARY_FAILURE": TemporaryFailure,
}

# A hangup cause is an upper-case token (switch_channel_cause2str names).
_CAUSE_RE = re.compile(r"[A-Z][A-Z0-9_]*")


def _strip_marker(reply: str) -> str:
    if reply.startswith("-USAGE:"):
        return reply[len("-USAGE:") :].strip()
    if reply.startswith("-ERR"):
        return reply[len("-ERR") :].strip()
    return reply


def is_error_reply(text: str) -> bool:
    """Tell whether a reply text or api body is a FreeSWITCH error (``-ERR``/``-USAGE``)."""
    return text.startswith("-ERR") or text.startswith("-USAGE")


def error_from_reply(reply: str, command: str = "") -> CommandError:
    """Build the most specific ``CommandError`` for an error reply text."""
    stripped = reply.rstrip()
    if stripped.startswith("-USAGE"):
        return UsageError(stripped, command=command)
    text = _strip_marker(stripped)
    lowered = text.lower()
    if lowered.startswith("no such channel"):
        return NoSuchChannel(stripped, command=command)
    if lowered == "command not found" or lowered.endswith(" command not found!"):
        return CommandNotFound(stripped, command=command)
    if _CAUSE_RE.fullmatch(text):
        error_type = CAUSE_ERRORS.get(text, CallFailed)
        return error_type(stripped, command=command, cause=text)
    return CommandError(stripped, command=command)
