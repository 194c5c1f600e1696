"""Malformed or hostile byte streams raise ProtocolError quickly and keep memory bounded."""

from __future__ import annotations

import pytest

from apps.telephony.esl import FrameParser, ProtocolError, TruncatedFrame

GREETING = b"Content-Type: auth/request\n\n"


@pytest.mark.parametrize(
    "length",
    [b"-5", b"abc", b"12a", b" 12", b"", b"1e3", b"0x10", b"\xd9\xa3", b"99999999999999"],
    ids=[
        "negative",
        "letters",
        "trailing-garbage",
        "leading-space",
        "empty",
        "exponent",
        "hex",
        "arabic-digit",
        "too-many-digits",
    ],
)
def test_invalid_content_length_is_a_protocol_error(length: bytes):
    # Given a frame whose Content-Length is not a plain decimal number
    parser = FrameParser()
    frame = b"Content-Type: api/response\nContent-Length: " + length + b"\n\n+OK\n"

    # When / Then it is refused
    with pytest.raises(ProtocolError):
        parser.feed(frame)


def test_content_length_above_the_limit_is_refused_before_buffering():
    # Given a 1 KiB limit and a frame announcing 1 MiB
    parser = FrameParser(max_content_length=1024)

    # When / Then the header alone is enough to refuse it
    with pytest.raises(ProtocolError, match="exceeds the limit of 1024"):
        parser.feed(b"Content-Type: api/response\nContent-Length: 1048576\n\n")


def test_default_content_length_limit_is_8_mib():
    # Given the default parser
    parser = FrameParser()
    # When a frame announces exactly 8 MiB it is accepted (waiting for its body)
    assert parser.feed(b"Content-Type: api/response\nContent-Length: 8388608\n\n") == []
    # Then one more byte is refused
    with pytest.raises(ProtocolError):
        FrameParser().feed(b"Content-Type: api/response\nContent-Length: 8388609\n\n")


def test_header_block_without_end_is_refused_once_over_the_limit():
    # Given a 256-byte header limit
    parser = FrameParser(max_header_size=256)
    # When header lines keep coming without a blank line, first below the limit
    assert parser.feed(b"Content-Type: command/reply\n" + b"X-Pad: aaaaaaaaaa\n" * 10) == []
    # Then crossing the limit raises, and the buffer never grew past limit + one chunk
    with pytest.raises(ProtocolError, match="header block exceeds 256 bytes"):
        parser.feed(b"X-Pad: aaaaaaaaaa\n" * 10)


def test_complete_header_block_over_the_limit_is_refused():
    # Given a complete but oversized header block in a single chunk
    parser = FrameParser(max_header_size=64)
    block = b"Content-Type: command/reply\nReply-Text: " + b"x" * 100 + b"\n\n"
    # When / Then
    with pytest.raises(ProtocolError):
        parser.feed(block)


@pytest.mark.parametrize(
    "garbage",
    [
        bytes(range(256)) + b"\n\n",
        b"\x00\xff\xfe garbage\n\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\n\n",
        b"Content-Type api/response\n\n",
        b": no name\n\n",
        b"Bad Name: value\n\n",
    ],
    ids=["all-bytes", "binary", "http", "no-colon", "empty-name", "space-in-name"],
)
def test_garbage_header_lines_are_protocol_errors(garbage: bytes):
    # Given a valid frame followed by garbage
    parser = FrameParser()
    assert len(parser.feed(GREETING)) == 1
    # When / Then the garbage is refused instead of being returned as a frame
    with pytest.raises(ProtocolError):
        parser.feed(garbage)


def test_binary_garbage_without_blank_line_is_bounded():
    # Given a peer that streams random-looking bytes with no "\n\n" at all
    parser = FrameParser(max_header_size=4096)
    chunk = bytes((index * 37) % 251 + 1 for index in range(1000)).replace(b"\n", b"")

    def keep_sending() -> None:
        for _ in range(100):
            parser.feed(chunk)

    # When it keeps sending / Then the parser gives up after about the limit
    with pytest.raises(ProtocolError):
        keep_sending()
    assert parser.pending <= 4096 + len(chunk)


def test_eof_inside_a_body_is_a_truncated_frame():
    # Given a frame whose body is cut short by EOF
    parser = FrameParser()
    assert parser.feed(b"Content-Type: api/response\nContent-Length: 10\n\n+OK") == []
    # When / Then the end of stream is reported as truncation, with the byte counts
    with pytest.raises(TruncatedFrame, match="body has 3 of 10 bytes"):
        parser.feed_eof()


def test_eof_inside_a_header_block_is_a_truncated_frame():
    parser = FrameParser()
    assert parser.feed(b"Content-Type: command/re") == []
    with pytest.raises(TruncatedFrame, match="header block incomplete"):
        parser.feed_eof()


def test_eof_between_frames_is_clean():
    # Given complete frames followed by stray blank lines
    parser = FrameParser()
    frames = parser.feed(GREETING + b"\n\n")
    # When the stream ends / Then nothing is pending and no error is raised
    parser.feed_eof()
    assert [frame.content_type for frame in frames] == ["auth/request"]
    assert parser.at_frame_boundary


def test_zero_length_body_and_no_body_frames():
    # Given the linger notice (Content-Length: 0) and a reply (no Content-Length)
    parser = FrameParser()
    frames = parser.feed(
        b"Content-Type: text/disconnect-notice\nContent-Disposition: linger\n"
        b"Content-Length: 0\n\nContent-Type: command/reply\nReply-Text: +OK\n\n"
    )
    # Then both frames come out with empty bodies
    assert [(frame.content_type, frame.body) for frame in frames] == [
        ("text/disconnect-notice", b""),
        ("command/reply", b""),
    ]


def test_header_with_empty_value_is_kept():
    parser = FrameParser()
    [frame] = parser.feed(b"Content-Type: command/reply\nReply-Text:\nX-Empty: \n\n")
    assert frame.headers == {"Content-Type": "command/reply", "Reply-Text": "", "X-Empty": ""}


def test_reset_forgets_a_partial_frame():
    # Given a partial frame from a dead connection
    parser = FrameParser()
    parser.feed(b"Content-Type: api/response\nContent-Length: 10\n\n+O")
    # When the parser is reset for a new connection
    parser.reset()
    # Then the next stream is framed from scratch
    assert [frame.content_type for frame in parser.feed(GREETING)] == ["auth/request"]


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="limits"):
        FrameParser(max_header_size=0)
