"""api command replies: exact texts and shapes as captured in b1/b2/d1/i1."""

from __future__ import annotations

import json

from .helpers import capture_frames, destroyed


def _captured_response(capture: str, index: int) -> bytes:
    responses = [f for f in capture_frames(capture) if f.content_type == "api/response"]
    return responses[index].raw


def test_version_reply_is_byte_identical_to_freeswitch(client):
    client.send("api version")
    assert client.reply().raw == _captured_response("b1_api_commands.raw", 0)


def test_empty_show_channels_and_calls_as_json_use_the_spaced_row_count_form(client):
    client.send("api show channels as json")
    channels = client.reply().raw
    client.send("api show calls as json")
    calls = client.reply().raw
    assert channels == _captured_response("b1_api_commands.raw", 2)
    assert calls == _captured_response("b1_api_commands.raw", 3)
    assert channels == b'Content-Type: api/response\nContent-Length: 17\n\n{"row_count": 0}\n'


def test_empty_show_channels_text_and_registrations(client):
    client.send("api show channels")
    assert client.reply().raw == _captured_response("b1_api_commands.raw", 4)
    client.send("api show registrations as json")
    assert client.reply().raw == _captured_response("b1_api_commands.raw", 8)


def test_unknown_api_command_and_values_without_trailing_newline(client):
    client.send("api no_such_command foo")
    assert client.reply().raw == _captured_response("b1_api_commands.raw", 7)
    client.send("api global_getvar domain")
    assert client.reply().raw == _captured_response("b1_api_commands.raw", 9)
    assert client.api("hostname") == "fs-sim"


def test_status_reports_uptime_sessions_and_the_version_line(client):
    lines = client.api("status").split("\n")
    assert lines[0].startswith("UP 0 years, 0 days, 0 hours, 0 minutes, ")
    assert lines[1] == (
        "FreeSWITCH (Version 1.10.12-release git a88d069 2024-08-02 21:02:27Z 64bit) is ready"
    )
    assert lines[2] == "0 session(s) since startup"
    assert lines[5] == "1000 session(s) max"
    assert lines[-1] == ""


def test_show_channels_as_json_lists_live_channels_with_freeswitchs_columns(sim, client):
    # given a parked inbound call
    uuid = sim.place_inbound_call(caller="5551000", destination="4001", caller_name="fx caller")
    assert sim.wait_until(lambda s: s.switch.find(uuid).parked)
    # when the channels are listed
    body = json.loads(client.api("show channels as json"))
    # then the row has exactly the columns FreeSWITCH reports (d1 capture)
    captured = json.loads(_captured_response("d1_bridge_plain.raw", 3).split(b"\n\n", 1)[1])
    assert body["row_count"] == 1
    row = body["rows"][0]
    assert list(row) == list(captured["rows"][0])
    assert row["uuid"] == uuid
    assert row["direction"] == "inbound"
    assert row["name"] == "sofia/internal/5551000@127.0.0.1:5080"
    assert row["cid_name"] == "fx caller"
    assert row["dest"] == "4001"
    assert row["application"] == "park"
    assert row["callstate"] == "ACTIVE"
    assert row["read_codec"] == "PCMA"


def test_show_calls_pairs_a_bridged_call_into_one_row(sim, client):
    # given an inbound call bridged to a registered agent
    sim.register_endpoint("1001")
    uuid = sim.place_inbound_call(caller="5551000", destination="1001")
    assert sim.wait_until(lambda s: s.switch.find(uuid).partner is not None)
    # when calls are listed
    body = json.loads(client.api("show calls as json"))
    # then the agent leg is the b-leg of the caller's row (b2's column set)
    captured = json.loads(
        _captured_response("b2_bgapi_originate_plain.raw", 1).split(b"\n\n", 1)[1]
    )
    assert body["row_count"] == 1
    row = body["rows"][0]
    assert list(row) == list(captured["rows"][0])
    assert row["uuid"] == uuid
    assert row["b_name"] == "sofia/internal/sip:1001@127.0.0.1:20000"
    assert row["b_callstate"] == "ACTIVE"


def test_uuid_commands_on_a_missing_channel_use_freeswitch_errors(client):
    missing = "00000000-0000-0000-0000-000000000000"
    assert client.api(f"uuid_kill {missing}") == "-ERR No such channel!\n"
    assert client.api(f"uuid_exists {missing}") == "false"
    assert client.api(f"uuid_getvar {missing} uuid") == "-ERR No such channel!\n"
    assert client.api(f"uuid_bridge {missing} {missing}") == f"-ERR Invalid uuid {missing}\n"
    assert client.api(f"uuid_record {missing} start /tmp/x.wav") == "-ERR Cannot locate session!\n"
    assert client.api(f"uuid_send_dtmf {missing} 12") == "-ERR Cannot locate session!\n"


def test_setvar_getvar_exists_and_send_dtmf_on_a_live_channel(sim, client):
    uuid = sim.place_inbound_call(caller="5551000", destination="4001")
    assert client.api(f"uuid_setvar {uuid} fx_ticket 4711") == "+OK\n"
    assert client.api(f"uuid_getvar {uuid} fx_ticket") == "4711"
    assert client.api(f"uuid_getvar {uuid} not_set") == "_undef_"
    assert client.api(f"uuid_exists {uuid}") == "true"
    assert client.api(f"uuid_send_dtmf {uuid} 12") == f"+OK {uuid} sent DTMF 12.\n"


def test_user_exists_checks_the_directory_and_registrations(sim, client):
    sim.register_endpoint("2001")
    assert client.api("user_exists id 1005 127.0.0.1") == "true"
    assert client.api("user_exists id 2001 127.0.0.1") == "true"
    assert client.api("user_exists id 9999999 127.0.0.1") == "false"


def test_show_registrations_lists_registered_phones(sim, client):
    sim.register_endpoint("1001")
    body = json.loads(client.api("show registrations as json"))
    assert body["row_count"] == 1
    assert body["rows"][0]["reg_user"] == "1001"
    assert body["rows"][0]["url"] == "sofia/internal/sip:1001@127.0.0.1:20000"
    assert list(body["rows"][0]) == [
        "reg_user",
        "realm",
        "token",
        "url",
        "expires",
        "network_ip",
        "network_port",
        "network_proto",
        "hostname",
        "metadata",
    ]


def test_hupall_hangs_up_every_channel(sim, events_client):
    first = sim.place_inbound_call(caller="5551000", destination="4001")
    second = sim.place_inbound_call(caller="5551001", destination="4001")
    events_client.send("api hupall")
    assert events_client.reply().body == b"+OK hangup all channels with cause MANAGER_REQUEST\n"
    for uuid in (first, second):
        event = events_client.wait_event(destroyed(uuid))
        assert event.get("Hangup-Cause") == "MANAGER_REQUEST"
    assert sim.channels() == []
