"""Messages and events decode to the values FreeSWITCH meant (checked on real captures)."""

from __future__ import annotations

from functools import cache
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.telephony.esl import (
    ApiResponse,
    AuthRequest,
    CommandReply,
    DisconnectNotice,
    Event,
    FrameParser,
    LogData,
    Message,
    decode_frame,
    parse_plain_event,
)
from apps.telephony.esl.messages import decode_plain_headers
from tests.telephony.esl.fakes import load_transcript

GOODBYE = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"


@cache
def messages(name: str) -> tuple[Message, ...]:
    """Decode a transcript fed in its captured chunk sizes."""
    parser = FrameParser()
    frames = []
    for chunk in load_transcript(name).in_chunks:
        frames.extend(parser.feed(chunk))
    return tuple(decode_frame(frame) for frame in frames)


def events(name: str) -> list[Event]:
    return [message for message in messages(name) if isinstance(message, Event)]


def test_dtmf_digits_are_url_decoded_in_plain_and_json():
    # Given the IVR call where the caller sent 1 (RFC 2833), 2 (SIP INFO) and # (RFC 2833)
    for name in ("c1_ivr_call_plain", "c1_ivr_call_json"):
        # When the DTMF events are decoded
        digits = [(e["DTMF-Digit"], e["DTMF-Source"]) for e in events(name) if e.name == "DTMF"]
        # Then "%23" became "#" and the sources are kept
        assert digits == [("1", "RTP"), ("2", "ENDPOINT"), ("#", "RTP")]


def test_unencoded_star_digit_is_kept():
    # Given the eavesdrop capture, where "*" is sent raw while "#" would be "%23"
    digits = [e["DTMF-Digit"] for e in events("j1_eavesdrop_plain") if e.name == "DTMF"]
    # Then
    assert digits == ["2", "1", "3", "0", "*"]


def test_multi_line_sdp_value_stays_whole():
    # Given the CHANNEL_HANGUP_COMPLETE of the IVR call (SDP url-encoded with %0D%0A)
    [hangup] = [e for e in events("c1_ivr_call_plain") if e.name == "CHANNEL_HANGUP_COMPLETE"]
    # Then the SDP is one value with its CRLF line breaks
    assert hangup.variables["switch_r_sdp"] == (
        "v=0\r\no=caller 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\n"
        "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8 101\r\n"
        "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
    )


def test_hangup_complete_accessors_and_variables():
    # Given the ~9.5 KB CHANNEL_HANGUP_COMPLETE of c1 (c_ivr_call.md: 181 variable_* headers)
    [hangup] = [e for e in events("c1_ivr_call_plain") if e.name == "CHANNEL_HANGUP_COMPLETE"]
    # Then the typed accessors and the variables read as documented
    assert hangup.unique_id == "675ab3a6-6a84-45b9-8de8-3d96abc43566"
    assert hangup.sequence == 907
    assert hangup.timestamp == 1795306096078494
    assert hangup.job_uuid is None
    assert hangup.body is None
    assert len(hangup.variables) == 181
    assert hangup.variables["hangup_cause_q850"] == "16"
    assert hangup.variables["digits_dialed"] == "12#"
    assert hangup.variables["fx_digits"] == "12"
    assert hangup.variables["sip_hangup_disposition"] == "send_bye"
    assert hangup["Hangup-Cause"] == "NORMAL_CLEARING"
    assert hangup["Event-Date-GMT"] == "Sun, 22 Nov 2026 00:08:16 GMT"
    assert hangup["FreeSWITCH-IPv6"] == "fd00::2"
    assert hangup["Caller-Caller-ID-Name"] == "fx caller"
    assert hangup.get_array("variable_DP_MATCH") == ["DELAYED NEGOTIATION"] * 2


def test_plain_and_json_subscribers_decode_identical_events():
    # Given the same calls captured by a plain and a json subscriber (same Event-Sequence)
    pairs = [
        ("c1_ivr_call_plain", "c1_ivr_call_json", 66),
        ("d1_bridge_plain", "d1_bridge_json", 91),
        ("i1_api_driven_call_plain", "i1_api_driven_call_json", 91),
        ("e1_callcenter_plain", "e1_callcenter_json", 13),
        ("h1_heartbeat_plain", "h1_heartbeat_json", 2),
    ]
    for plain_name, json_name, count in pairs:
        plain = {event.sequence: event for event in events(plain_name)}
        as_json = {event.sequence: event for event in events(json_name)}
        # Then every event has the same headers and body in both formats
        assert len(plain) == len(as_json) == count
        for sequence, event in plain.items():
            assert event.headers == as_json[sequence].headers, (plain_name, sequence)
            assert event.body == as_json[sequence].body


def test_background_job_results_are_event_bodies():
    # Given the bgapi capture (b_api.md): results in arrival order, not command order
    expected_plain = [
        "+OK fx-b2-plain-0001\n",
        "+OK fx-b2-plain-0002\n",
        "-ERR USER_NOT_REGISTERED\n",
        "-ERR SUBSCRIBER_ABSENT\n",
        "-ERR CHAN_NOT_IMPLEMENTED\n",
        "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] "
        "[<cid_name>] [<cid_num>] [<timeout_sec>]\n",
        "status",
        "-ERR NORMAL_TEMPORARY_FAILURE\n",
    ]
    for name, suffix in (
        ("b2_bgapi_originate_plain", "plain"),
        ("b2_bgapi_originate_json", "json"),
    ):
        jobs = [e for e in events(name) if e.name == "BACKGROUND_JOB"]
        bodies = [e.body if e["Job-Command"] != "status" else "status" for e in jobs]
        # Then each body is the job result and the client-chosen Job-UUID came back
        assert bodies == [text.replace("plain", suffix) for text in expected_plain]
        assert jobs[1].job_uuid == f"fx-job-{suffix}-0002"
        assert jobs[6].body.startswith("UP 0 years, 0 days, 0 hours")
        assert jobs[0]["Job-Command-Arg"] == (
            f"{{origination_uuid=fx-b2-{suffix}-0001,origination_caller_id_number=5550101}}"
            "loopback/5500/default &park"
        )
        # The usage job had no arguments: FreeSWITCH omits Job-Command-Arg entirely.
        assert "Job-Command-Arg" not in jobs[5]


def test_recv_info_body_keeps_its_crlf():
    # Given the SIP INFO DTMF of the IVR call
    [info] = [e for e in events("c1_ivr_call_plain") if e.name == "RECV_INFO"]
    # Then the inner body is the SIP payload byte for byte
    assert info.body == "Signal=2\r\nDuration=160\r\n"
    assert info["Content-Length"] == "24"
    assert info["SIP-Content-Type"] == "application/dtmf-relay"


def test_repeated_header_keeps_the_last_value_in_every_format():
    # Given the hold-music broadcast re-fired by FreeSWITCH as PRIVATE_COMMAND: the block
    # starts with the COMMAND event's headers and appends new ones (a second Event-Name,
    # Event-Sequence, ...)
    for name in ("d1_bridge_plain", "d1_bridge_json"):
        [command] = [e for e in events(name) if e.name == "PRIVATE_COMMAND"]
        # Then the last value wins, as in any JSON decoder
        assert command.sequence == 967
        assert command.unique_id == "968c698c-40f0-49d8-a61d-714c7c01d4d1"
        assert command["execute-app-arg"] == "tone_stream://%(250,4750,440)"


def test_custom_events_route_by_subclass():
    # Given the mod_callcenter events (plain: "Event-Subclass: callcenter%3A%3Ainfo")
    cc = events("e1_callcenter_plain")
    # Then the subclass is decoded and used as routing key
    assert {e.routing_key for e in cc} == {"callcenter::info"}
    assert [e.name for e in cc] == ["CUSTOM"] * 13
    assert [e["CC-Action"] for e in cc][:4] == [
        "agent-status-change",
        "agent-state-change",
        "member-queue-start",
        "members-count",
    ]
    # CC-Member-UUID is a member id; CC-Member-Session-UUID is the caller channel.
    start = cc[2]
    assert start["CC-Member-Session-UUID"] == start.unique_id
    assert start["CC-Member-UUID"] != start.unique_id


def test_xml_events_decode_url_encoded_text():
    # Given the "event xml" part of h2
    xml_events = [e for e in events("h2_misc_commands") if e.wire_format == "xml"]
    # Then names, uuids and url-encoded values come out decoded
    assert [e.name for e in xml_events] == [
        "CHANNEL_CREATE",
        "CHANNEL_CREATE",
        "CHANNEL_ANSWER",
        "CHANNEL_ANSWER",
    ]
    first = xml_events[0]
    assert first.unique_id == "fx-h2-0001"
    assert first["Event-Date-Local"] == "2026-11-22 00:09:52"
    assert first["Caller-Callee-ID-Name"] == "Outbound Call"
    assert first.sequence == 1360


def test_log_data_frames():
    # Given "log 6" then uuid_kill in h2
    logs = [m for m in messages("h2_misc_commands") if isinstance(m, LogData)]
    # Then six log lines arrive with their level and text
    assert len(logs) == 6
    assert {log.level for log in logs} == {5}
    assert logs[0].text.endswith(
        "switch_ivr.c:4412 Hangup loopback/5500-a [CS_EXECUTE] [NORMAL_CLEARING]\n"
    )
    assert logs[0].headers["User-Data"] == "fx-h2-0001"


def test_replies_and_api_bodies_are_exact():
    decoded = messages("b1_api_commands")
    # Then the greeting, the replies and the api bodies (newline or not) are as sent
    assert isinstance(decoded[0], AuthRequest)
    assert decoded[1] == CommandReply(
        "+OK accepted", {"Content-Type": "command/reply", "Reply-Text": "+OK accepted"}
    )
    bodies = [m.body for m in decoded if isinstance(m, ApiResponse)]
    assert bodies[2] == '{"row_count": 0}\n'
    assert bodies[4] == "\n0 total.\n"
    assert bodies[7] == "-ERR no_such_command Command not found!\n"
    assert bodies[9:] == ["127.0.0.1", "vm"]


def test_bgapi_acknowledgement_carries_the_job_uuid():
    replies = [m for m in messages("b2_bgapi_originate_plain") if isinstance(m, CommandReply)]
    assert replies[3].reply_text == "+OK Job-UUID: fx-job-plain-0002"
    assert replies[3].job_uuid == "fx-job-plain-0002"
    assert replies[3].ok


def test_disconnect_notices():
    # a: goodbye after exit, and right after a refused auth
    for name in ("a1_auth_ok", "a2_auth_fail"):
        notice = messages(name)[-1]
        assert isinstance(notice, DisconnectNotice)
        assert (notice.body, notice.disposition, notice.linger_time) == (GOODBYE, None, None)
    # f1: "linger" (no number) -> Linger-Time -1, then "disconnect" after exit
    f1 = [m for m in messages("f1_outbound_socket_linger_exit") if isinstance(m, DisconnectNotice)]
    assert [(n.disposition, n.linger_time, n.is_linger) for n in f1] == [
        ("linger", -1, True),
        ("disconnect", None, False),
    ]
    assert f1[0].controlled_session_uuid == "fdd385c9-3d59-4b8b-9233-e56264f01c58"
    assert f1[1].body == GOODBYE
    # f2: "linger 3"
    f2 = [
        m for m in messages("f2_outbound_socket_linger_timeout") if isinstance(m, DisconnectNotice)
    ]
    assert [(n.disposition, n.linger_time) for n in f2] == [("linger", 3), ("disconnect", None)]
    # z: shutdown notice, no disposition
    shutdown = messages("z1_shutdown_control")[-1]
    assert isinstance(shutdown, DisconnectNotice)
    assert (shutdown.body, shutdown.disposition) == ("The system is being shut down.\n", None)


def test_outbound_connect_reply_carries_the_channel():
    # Given the first frame of an outbound socket session
    reply = messages("f1_outbound_socket_linger_exit")[0]
    # Then it is a command/reply whose url-encoded Reply-Text reads "+OK"
    assert isinstance(reply, CommandReply)
    assert reply.reply_text == "+OK"
    assert reply.ok
    # and whose header block is the whole channel, url-decoded like a plain event
    channel = reply.channel
    assert channel is not None
    assert channel.name == "CHANNEL_DATA"
    assert channel.unique_id == "fdd385c9-3d59-4b8b-9233-e56264f01c58"
    assert channel["Channel-Name"] == "sofia/internal/5551000@127.0.0.1:5061"
    assert channel["Socket-Mode"] == "async"
    assert channel["Control"] == "full"
    assert channel.variables["current_application"] == "socket"
    assert len(channel.headers) == 146


def test_event_without_trailing_blank_line_and_irregular_lines_still_decode():
    # Given blocks that break the fast path: a raw ": " inside a value, a bad escape
    event = parse_plain_event(b"Event-Name: CUSTOM\nX-Raw: a: b\nX-Bad: 100%zz\nX-Ok: %41")
    # Then they are decoded line by line with the same meaning
    assert event.headers == {
        "Event-Name": "CUSTOM",
        "X-Raw": "a: b",
        "X-Bad": "100%zz",
        "X-Ok": "A",
    }


_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,20}", fullmatch=True)
_values = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)


# No example database: the tests must not write into the work tree.
_PROPERTY = settings(max_examples=80, deadline=None, database=None)


@_PROPERTY
@given(st.dictionaries(_names, _values, max_size=12))
def test_url_encoded_blocks_round_trip(headers: dict[str, str]):
    # Given any headers, url-encoded the way FreeSWITCH serialises plain events
    block = "\n".join(f"{name}: {quote(value, safe='')}" for name, value in headers.items())
    # When decoded / Then every value comes back exactly, line breaks included
    assert decode_plain_headers(block.encode()) == headers


@_PROPERTY
@given(st.dictionaries(_names, st.from_regex(r"[ -~]{0,30}", fullmatch=True), max_size=12))
def test_partly_encoded_blocks_decode_like_a_line_by_line_decoder(headers: dict[str, str]):
    # Given values where only "%" and line breaks are encoded (FreeSWITCH leaves some raw)
    block = "\n".join(f"{name}: {value.replace('%', '%25')}" for name, value in headers.items())
    # Then the result matches the values, whichever decoding path was taken
    assert decode_plain_headers(block.encode()) == headers
