"""Event rendering: FreeSWITCH's url-encoding, the json form, and the captured header sets."""

from __future__ import annotations

import json

import pytest

from apps.telephony.simulator.channel import CallerProfile, Channel
from apps.telephony.simulator.rendering import json_member, json_members, url_encode

from .helpers import capture_events, capture_frames, destroyed, parse_event

CORE = [
    "Event-Name",
    "Core-UUID",
    "FreeSWITCH-Hostname",
    "FreeSWITCH-Switchname",
    "FreeSWITCH-IPv4",
    "FreeSWITCH-IPv6",
    "Event-Date-Local",
    "Event-Date-GMT",
    "Event-Date-Timestamp",
    "Event-Calling-File",
    "Event-Calling-Function",
    "Event-Calling-Line-Number",
    "Event-Sequence",
]

# What the captured calls carry and a simulated call does not, and why.
VANILLA_DIALPLAN = {"variable_DP_MATCH", "variable_RFC2822_DATE", "variable_export_vars"}
SIPP_SPECIFIC = {"variable_sip_subject", "variable_rtp_h_X-Broken-PTIME"}
C1_IVR_APPS = {
    "variable_fx_digits",
    "variable_fx_stage",
    "variable_current_application_data",
    "variable_last_arg",
    "variable_playback_last_offset_pos",
    "variable_playback_ms",
    "variable_playback_samples",
    "variable_playback_seconds",
    "variable_read_result",
    "variable_read_terminator_used",
    "variable_record_completion_cause",
    "variable_record_file_size",
    "variable_record_ms",
    "variable_record_samples",
    "variable_record_seconds",
}


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("#", "%23"),
        ("*", "*"),
        ("fd00::2", "fd00%3A%3A2"),
        ("Sun, 22 Nov 2026 00:09:32 GMT", "Sun,%2022%20Nov%202026%2000%3A09%3A32%20GMT"),
        ("tone_stream://%(250,4750,440)", "tone_stream%3A//%25(250,4750,440)"),
        ("already%20encoded", "already%20encoded"),
        ("lower%2fhex", "lower%252fhex"),
        (
            '"fx caller" <sip:5551000@127.0.0.1>',
            "%22fx%20caller%22%20%3Csip%3A5551000%40127.0.0.1%3E",
        ),
        ("v=0\r\n", "v%3D0%0D%0A"),
        ("张三", "%E5%BC%A0%E4%B8%89"),
        ("!$'()*,-./_~", "!$'()*,-./_~"),
    ],
)
def test_url_encode_follows_switch_url_encode(value, encoded):
    assert url_encode(value) == encoded


def test_url_encode_reproduces_every_value_of_the_c1_capture():
    # given the same call captured in plain (encoded) and json (raw values)
    plain = {e.sequence: e for e in capture_events("c1_ivr_call_plain.raw", decode=False)}
    raw = {e.sequence: e for e in capture_events("c1_ivr_call_json.raw")}
    checked = 0
    # when every json value is encoded, then it equals the plain value byte for byte
    for sequence, event in plain.items():
        values = raw[sequence].values
        for name, value in event.headers:
            if name == "Content-Length" or not isinstance(values.get(name), str):
                continue
            assert url_encode(values[name]) == value, (sequence, name)
            checked += 1
    assert checked > 7000


def _inbound_call(sim, client):
    uuid = sim.place_inbound_call(caller="5551000", destination="4001", caller_name="fx caller")
    client.wait_event(lambda e: e.name == "CHANNEL_PARK" and e.get("Unique-ID") == uuid)
    sim.hangup(uuid)
    client.wait_event(destroyed(uuid))
    return uuid


def _first(events, name, uuid):
    return next(e for e in events if e.name == name and e.get("Unique-ID") == uuid)


@pytest.mark.parametrize(
    ("event_name", "allowed_missing"),
    [
        ("CHANNEL_CREATE", SIPP_SPECIFIC),
        ("CHANNEL_ANSWER", SIPP_SPECIFIC | VANILLA_DIALPLAN),
        ("CHANNEL_HANGUP_COMPLETE", SIPP_SPECIFIC | VANILLA_DIALPLAN | C1_IVR_APPS),
    ],
)
def test_inbound_call_events_carry_the_captured_header_names(
    sim, events_client, event_name, allowed_missing
):
    # given an inbound sofia call answered, parked and hung up by the caller
    uuid = _inbound_call(sim, events_client)
    mine = _first(events_client.log, event_name, uuid)
    captured = next(e for e in capture_events("c1_ivr_call_plain.raw") if e.name == event_name)
    # then the header names are the captured ones, apart from the documented omissions
    assert set(mine.names) - set(captured.names) == set()
    assert set(captured.names) - set(mine.names) <= allowed_missing
    assert mine.names[:13] == CORE


@pytest.mark.parametrize(
    "event_name", ["CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE"]
)
def test_api_originated_bridged_leg_carries_the_captured_header_names(
    sim, events_client, event_name
):
    # given the i1 agent leg: originated, parked, uuid_bridged, recorded, partner killed
    sim.register_endpoint("agent1", contact_port=5070)
    sim.register_endpoint("customer", contact_port=5072)
    client = events_client
    for leg, name, number, target in (
        ("fx-i1-agent-leg", "Agent", "1000", "agent1@127.0.0.1:5070"),
        ("fx-i1-customer-leg", "Support", "5550199", "customer@127.0.0.1:5072"),
    ):
        client.api(
            f"originate {{origination_uuid={leg},origination_caller_id_name={name},"
            f"origination_caller_id_number={number},ignore_early_media=true}}"
            f"sofia/internal/{target} &park"
        )
        client.wait_event(lambda e, leg=leg: e.name == "CHANNEL_PARK" and e.get("Unique-ID") == leg)
    client.api("uuid_bridge fx-i1-agent-leg fx-i1-customer-leg")
    client.api("uuid_setvar fx-i1-agent-leg fx_ticket 4711")
    client.api("uuid_record fx-i1-agent-leg start /tmp/fx_i1.wav")
    client.api("uuid_record fx-i1-agent-leg stop /tmp/fx_i1.wav")
    client.api("uuid_kill fx-i1-customer-leg")
    client.wait_event(destroyed("fx-i1-agent-leg"))
    mine = _first(client.log, event_name, "fx-i1-agent-leg")
    captured = _first(capture_events("i1_api_driven_call_plain.raw"), event_name, "fx-i1-agent-leg")
    # then the header-name sets are identical
    assert set(mine.names) == set(captured.names)


def test_hangup_complete_repeats_hangup_cause_in_plain_only(sim, events_client):
    uuid = _inbound_call(sim, events_client)
    plain = _first(events_client.log, "CHANNEL_HANGUP_COMPLETE", uuid)
    assert plain.names.count("Hangup-Cause") == 2
    assert plain.names[13] == "Hangup-Cause"


def test_json_events_use_string_members_and_the_inner_body(sim, client):
    # given a json subscriber to background jobs
    client.command("event json BACKGROUND_JOB")
    client.send("bgapi originate user/1005 &park\nJob-UUID: fx-job-json")
    client.reply()
    frame = client.next_matching(lambda f: f.content_type == "text/event-json")
    # then the json object is compact, string-valued, with Content-Length then _body last
    text = frame.body.decode()
    assert text.startswith('{"Event-Name":"BACKGROUND_JOB","Core-UUID":"')
    assert text.endswith('"Content-Length":"25","_body":"-ERR USER_NOT_REGISTERED\\n"}')
    captured = next(
        f
        for f in capture_frames("b2_bgapi_originate_json.raw")
        if f.content_type == "text/event-json"
    )
    assert list(json.loads(frame.body)) == list(json.loads(captured.body))
    assert frame.headers == {
        "Content-Length": str(len(frame.body)),
        "Content-Type": "text/event-json",
    }


def test_plain_background_job_nests_the_body_after_an_inner_content_length(sim, client):
    client.command("event plain BACKGROUND_JOB")
    client.send("bgapi originate user/1005 &park")
    client.reply()
    frame = client.next_matching(lambda f: f.content_type == "text/event-plain")
    assert frame.body.endswith(b"\nContent-Length: 25\n\n-ERR USER_NOT_REGISTERED\n")
    assert parse_event(frame).body == "-ERR USER_NOT_REGISTERED\n"


def test_dtmf_events_carry_no_variables_and_encode_hash(sim, events_client):
    uuid = sim.place_inbound_call(caller="5551000", destination="4001")
    events_client.wait_event(lambda e: e.name == "CHANNEL_PARK")
    sim.press_dtmf(uuid, "1*#")
    events_client.collect_until(lambda e: e.name == "DTMF" and e.get("DTMF-Digit") == "#")
    raw = events_client.received
    dtmf_events = [e for e in events_client.log if e.name == "DTMF"]
    assert [e.get("DTMF-Digit") for e in dtmf_events] == ["1", "*", "#"]
    assert all(not name.startswith("variable_") for name in dtmf_events[0].names)
    assert b"DTMF-Digit: %23\n" in raw
    assert b"DTMF-Digit: *\n" in raw
    captured = next(e for e in capture_events("c1_ivr_call_plain.raw") if e.name == "DTMF")
    assert dtmf_events[0].names == captured.names


@pytest.mark.parametrize(
    "pairs",
    [
        [("Caller-Caller-ID-Name", 'Jörg "J" O\'Neil'), ("Caller-Username", "1001")],
        [("variable_sip_full_via", "SIP/2.0/UDP 10.0.0.1\r\n\t\x01\x1f\x7f\\/ \u2028")],
        [("Hangup-Cause", "NORMAL_CLEARING"), ("Hangup-Cause", "NORMAL_CLEARING")],
        [("variable_broken", "lone \udc80 surrogate"), ("variable_ok", "ok")],
        [],
    ],
    ids=["non-ascii-and-quotes", "control-characters", "repeated-name", "surrogate", "empty"],
)
def test_json_members_render_exactly_as_member_by_member(pairs):
    # Given header pairs with what a JSON encoder may escape differently
    # When they are rendered in one call
    rendered = json_members(pairs)

    # Then the text is byte for byte that of json_member one pair at a time
    assert rendered == "".join(json_member(name, value) for name, value in pairs)


def test_variables_render_as_json_members_after_sets_and_unsets():
    # Given a channel whose variables were set, re-set (moving to the end) and unset
    uuid = "5a1b7a4e-0000-4000-8000-000000000001"
    name = "sofia/internal/1001@10.0.0.1"
    profile = CallerProfile(
        direction="inbound",
        logical_direction="inbound",
        caller_id_name="Caller",
        caller_id_number="1001",
        destination_number="9999",
        unique_id=uuid,
        source="mod_sofia",
        channel_name=name,
    )
    channel = Channel(uuid, name, "inbound", profile=profile, created_us=1, session_id=1)
    channel.set_vars([("direction", "inbound"), ("uuid", uuid), ("cc_queue", "sales")])
    assert channel.render_vars("json") == "".join(
        json_member("variable_" + name, value) for name, value in channel.vars.items()
    )
    channel.set_vars([("cc_queue", "support"), ("cc_note", 'say "hi"\n'), ("empty", "")])
    channel.set_var("direction", None)

    # When they are rendered in json
    rendered = channel.render_vars("json")

    # Then they are the variables in their current order, each as json_member renders it
    assert list(channel.vars) == ["uuid", "cc_queue", "cc_note"]
    assert rendered == "".join(
        json_member("variable_" + name, value) for name, value in channel.vars.items()
    )
    assert rendered.startswith(f'"variable_uuid":"{uuid}","variable_cc_queue":"support",')
