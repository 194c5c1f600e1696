"""Every captured FreeSWITCH transcript is framed exactly, whatever the read sizes."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from apps.telephony.esl import Event, FrameParser, decode_frame
from tests.telephony.esl.fakes import (
    event_names_in,
    load_transcript,
    split_frames,
    transcript_paths,
)

# Frame starts found without the parser: a known content type right after a line start or
# right after a body that did not end in a newline (hence no ^ anchor), but never inside a
# longer header name such as "SIP-Content-Type".
FRAME_MARKER = re.compile(
    rb"(?<!-)Content-Type: (auth/request|command/reply|api/response|text/event-plain|"
    rb"text/event-json|text/event-xml|text/disconnect-notice|log/data)\n"
)
TRANSCRIPTS = transcript_paths()


def _ids(paths: list[Path]) -> list[str]:
    return [path.stem for path in paths]


def _frames_in_captured_chunks(path: Path) -> list:
    transcript = load_transcript(path)
    parser = FrameParser()
    frames = []
    for chunk in transcript.in_chunks:
        frames.extend(parser.feed(chunk))
    parser.feed_eof()
    return frames


def test_all_transcripts_are_covered():
    # Given the fixture folders / Then every capture with a .raw is replayed (27 + 2).
    assert len(TRANSCRIPTS) == 29
    assert {"1_ivr_post_esl_plain", "3_error_cases_esl"} <= {p.stem for p in TRANSCRIPTS}


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=_ids(TRANSCRIPTS))
def test_captured_chunks_yield_every_frame_in_order(path: Path):
    # Given a transcript replayed in the exact recv() sizes of its capture
    raw = path.read_bytes()

    # When it is framed
    frames = _frames_in_captured_chunks(path)

    # Then the frames and their content types match the markers counted without the parser
    expected_types = [match.group(1).decode() for match in FRAME_MARKER.finditer(raw)]
    assert [frame.content_type for frame in frames] == expected_types
    # and the frames are exactly the naive splitter's byte ranges, covering every byte.
    assert len(frames) == len(split_frames(raw))
    assert sum(len(piece) for piece in split_frames(raw)) == len(raw)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # a_auth.md: greeting, "+OK accepted", "+OK bye", goodbye notice.
        ("a1_auth_ok", {"auth/request": 1, "command/reply": 2, "text/disconnect-notice": 1}),
        # b_api.md: 11 api commands between auth and exit.
        (
            "b1_api_commands",
            {
                "auth/request": 1,
                "command/reply": 2,
                "api/response": 11,
                "text/disconnect-notice": 1,
            },
        ),
        # h_heartbeat_misc.md: 20 command replies, 1 api, 4 xml + 1 plain events, 6 log lines.
        (
            "h2_misc_commands",
            {
                "auth/request": 1,
                "command/reply": 20,
                "api/response": 1,
                "text/event-xml": 4,
                "text/event-plain": 1,
                "log/data": 6,
                "text/disconnect-notice": 1,
            },
        ),
        # z_shutdown.md: API + SHUTDOWN + CUSTOM + 2 UNPUBLISH + 263 MODULE_UNLOAD events.
        (
            "z1_shutdown_seen_by_client",
            {
                "auth/request": 1,
                "command/reply": 2,
                "text/event-plain": 268,
                "text/disconnect-notice": 1,
            },
        ),
        # f_outbound_socket.md: no greeting; 8 commands (connect ... exit), two notices.
        (
            "f1_outbound_socket_linger_exit",
            {
                "command/reply": 7,
                "api/response": 1,
                "text/event-plain": 13,
                "text/disconnect-notice": 2,
            },
        ),
    ],
)
def test_frame_counts_match_the_scenario_notes(name: str, expected: dict[str, int]):
    # Given a transcript whose content is described frame by frame in its scenario note
    frames = _frames_in_captured_chunks(_path(name))

    # Then the content types are counted exactly
    assert Counter(frame.content_type for frame in frames) == expected


def _path(name: str) -> Path:
    return next(path for path in TRANSCRIPTS if path.stem == name)


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=_ids(TRANSCRIPTS))
def test_decoded_event_names_follow_the_capture(path: Path):
    # Given the event names read straight from the bytes
    expected = event_names_in(path.read_bytes())

    # When the transcript is framed and decoded
    events = [decode_frame(frame) for frame in _frames_in_captured_chunks(path)]

    # Then the events come out in the same order with the same names
    assert [event.name for event in events if isinstance(event, Event)] == expected
    assert len(expected) == sum(isinstance(event, Event) for event in events)


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=_ids(TRANSCRIPTS))
def test_read_sizes_do_not_change_the_frames(path: Path):
    # Given the same bytes fed in captured chunks, all at once, and one byte at a time
    raw = path.read_bytes()
    chunked = _frames_in_captured_chunks(path)

    whole_parser = FrameParser()
    whole = whole_parser.feed(raw)
    whole_parser.feed_eof()

    byte_parser = FrameParser()
    one_by_one = []
    for index in range(len(raw)):
        one_by_one.extend(byte_parser.feed(raw[index : index + 1]))
    byte_parser.feed_eof()

    # Then all three framings are identical (headers and body bytes)
    assert whole == chunked
    assert one_by_one == chunked
    assert byte_parser.pending == 0
