"""Every error reply found in the captures maps to a typed CommandError callers can act on."""

from __future__ import annotations

import pytest

from apps.telephony.esl import (
    ApiResponse,
    CallFailed,
    ChannelNotImplemented,
    CommandError,
    CommandNotFound,
    CommandReply,
    Event,
    FrameParser,
    NoAnswer,
    NoSuchChannel,
    SubscriberAbsent,
    TemporaryFailure,
    UsageError,
    UserBusy,
    UserNotRegistered,
    decode_frame,
    error_from_reply,
    is_error_reply,
)
from tests.telephony.esl.fakes import transcript_paths

# Every distinct error text in the fixtures (replies, api bodies, BACKGROUND_JOB results).
EXPECTED: dict[str, tuple[type[CommandError], str | None]] = {
    "-ERR invalid": (CommandError, None),
    "-ERR command not found": (CommandNotFound, None),
    "-ERR no_such_command Command not found!": (CommandNotFound, None),
    "-ERR No such channel!": (NoSuchChannel, None),
    "-ERR USER_NOT_REGISTERED": (UserNotRegistered, "USER_NOT_REGISTERED"),
    "-ERR SUBSCRIBER_ABSENT": (SubscriberAbsent, "SUBSCRIBER_ABSENT"),
    "-ERR CHAN_NOT_IMPLEMENTED": (ChannelNotImplemented, "CHAN_NOT_IMPLEMENTED"),
    "-ERR NORMAL_TEMPORARY_FAILURE": (TemporaryFailure, "NORMAL_TEMPORARY_FAILURE"),
    "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] "
    "[<cid_name>] [<cid_num>] [<timeout_sec>]": (UsageError, None),
    "-USAGE: <uuid> [start [read|write] [mute|level <level>]|stop]": (UsageError, None),
    "-ERR no keywords supplied": (CommandError, None),
    "-ERR not controlling a session.": (CommandError, None),
    "-ERR Invalid Agent Status!": (CommandError, None),
    "-ERR Agent not found!": (CommandError, None),
    "-ERR Cannot mask recording session!": (CommandError, None),
}


def _error_texts_in_captures() -> set[str]:
    texts = set()
    for path in transcript_paths():
        for frame in FrameParser().feed(path.read_bytes()):
            message = decode_frame(frame)
            if isinstance(message, CommandReply):
                candidate = message.reply_text
            elif isinstance(message, ApiResponse) or (
                isinstance(message, Event) and message.body is not None
            ):
                candidate = message.body
            else:
                continue
            if is_error_reply(candidate):
                texts.add(candidate.rstrip())
    return texts


def test_the_table_covers_every_error_reply_in_the_captures():
    # Given every -ERR/-USAGE text FreeSWITCH produced in the fixtures
    found = _error_texts_in_captures()
    # Then each one is mapped below (and nothing in the table is invented)
    assert found == set(EXPECTED)


@pytest.mark.parametrize(("reply", "expected"), list(EXPECTED.items()), ids=list(EXPECTED))
def test_captured_error_replies_map_to_typed_errors(
    reply: str, expected: tuple[type[CommandError], str | None]
):
    error_type, cause = expected
    # When the reply (as sent, with its newline) becomes an error
    error = error_from_reply(reply + "\n", command="some command")
    # Then it has the specific type, the parsed cause and the reply text
    assert type(error) is error_type
    assert error.cause == cause
    assert error.reply == reply
    assert error.command == "some command"
    assert "some command" in str(error)


def test_originate_failures_share_a_base_class_with_their_cause():
    error = error_from_reply("-ERR USER_NOT_REGISTERED\n")
    assert isinstance(error, CallFailed)
    assert error.text == "USER_NOT_REGISTERED"


@pytest.mark.parametrize(
    ("reply", "error_type", "cause"),
    [
        ("-ERR no such channel", NoSuchChannel, None),
        ("-ERR NO_ANSWER", NoAnswer, "NO_ANSWER"),
        ("-ERR NO_USER_RESPONSE", NoAnswer, "NO_USER_RESPONSE"),
        ("-ERR USER_BUSY", UserBusy, "USER_BUSY"),
        ("-ERR ORIGINATOR_CANCEL", CallFailed, "ORIGINATOR_CANCEL"),
    ],
)
def test_other_documented_replies(reply: str, error_type: type[CommandError], cause: str | None):
    error = error_from_reply(reply)
    assert type(error) is error_type
    assert error.cause == cause


@pytest.mark.parametrize("text", ["+OK", "+OK Success\n", "true", "_undef_", "", "-", "ERR"])
def test_non_error_texts(text: str):
    assert not is_error_reply(text)
