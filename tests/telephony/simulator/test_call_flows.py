"""Call flows replayed from the captures: per-channel event order must match FreeSWITCH's.

The d1 and i1 scenarios are re-enacted with the same commands on the same connection; each
channel's event-name sequence is compared with the captured one after removing what the
simulator deliberately does not produce: PRESENCE_IN, CODEC, PRIVATE_COMMAND and the vanilla
dialplan's own ``hash``/``export`` executions.
"""

from __future__ import annotations

import json

from apps.telephony.simulator import Answer, Bridge, Playback, SetVar

from .helpers import capture_events, destroyed

# PRIVATE_COMMAND events start with a first Event-Name of COMMAND in the captures.
OMITTED = {"PRESENCE_IN", "CODEC", "PRIVATE_COMMAND", "COMMAND"}
VANILLA_APPS = {"hash", "export"}


def captured_sequence(capture: str, uuid: str) -> list[str]:
    names = []
    for event in capture_events(capture):
        if event.get("Unique-ID") != uuid or event.name in OMITTED:
            continue
        if event.get("Application") in VANILLA_APPS:
            continue
        names.append(event.name)
    return names


def sequence(events, uuid: str) -> list[str]:
    return [event.name for event in events if event.get("Unique-ID") == uuid]


def test_api_driven_call_replays_the_i1_capture(sim, events_client):
    # given the two phones the i1 capture called directly
    sim.register_endpoint("agent1", contact_port=5070, answer_after=0.01)
    sim.register_endpoint("customer", contact_port=5072, answer_after=0.01)
    client = events_client
    # when the i1 client's commands are replayed on one connection
    for leg, name, number, target in (
        ("fx-i1-agent-leg", "Agent", "1000", "agent1@127.0.0.1:5070"),
        ("fx-i1-customer-leg", "Support", "5550199", "customer@127.0.0.1:5072"),
    ):
        client.send(
            f"bgapi originate {{origination_uuid={leg},origination_caller_id_name={name},"
            f"origination_caller_id_number={number},ignore_early_media=true}}"
            f"sofia/internal/{target} &park"
        )
        client.reply()
        client.wait_event(lambda e, leg=leg: e.name == "CHANNEL_PARK" and e.get("Unique-ID") == leg)
    assert (
        client.api("uuid_bridge fx-i1-agent-leg fx-i1-customer-leg") == "+OK fx-i1-customer-leg\n"
    )
    assert client.api("uuid_setvar fx-i1-agent-leg fx_ticket 4711") == "+OK\n"
    assert client.api("uuid_getvar fx-i1-agent-leg fx_ticket") == "4711"
    path = "/usr/local/fs1/recordings/fx_i1_fx-i1-agent-leg.wav"
    assert client.api(f"uuid_record fx-i1-agent-leg start {path}") == "+OK Success\n"
    assert (
        client.api("uuid_broadcast fx-i1-customer-leg tone_stream://%(400,200,660);loops=2 aleg")
        == "+OK Message sent\n"
    )
    client.wait_event(
        lambda e: e.name == "CHANNEL_EXECUTE_COMPLETE" and e.get("Application") == "playback"
    )
    assert (
        client.api("uuid_send_dtmf fx-i1-customer-leg 12")
        == "+OK fx-i1-customer-leg sent DTMF 12.\n"
    )
    assert client.api(f"uuid_record fx-i1-agent-leg stop {path}") == "+OK Success\n"
    assert client.api("uuid_exists fx-i1-agent-leg") == "true"
    assert client.api("uuid_kill fx-i1-customer-leg") == "+OK\n"
    client.wait_event(destroyed("fx-i1-agent-leg"))
    client.wait_event(destroyed("fx-i1-customer-leg"))
    assert client.api("uuid_exists fx-i1-agent-leg") == "false"
    assert client.api("uuid_kill fx-i1-agent-leg") == "-ERR No such channel!\n"
    # then every channel saw the captured events in the captured order
    events = client.log
    for leg in ("fx-i1-agent-leg", "fx-i1-customer-leg"):
        assert sequence(events, leg) == captured_sequence("i1_api_driven_call_plain.raw", leg)


def test_bridge_hold_transfer_kill_replays_the_d1_capture(sim, events_client):
    # given the d1 dialplan: 5502 bridges to the agent, 5506 answers and plays a tone
    sim.register_endpoint("agent1", contact_port=5070, answer_after=0.01)
    sim.set_route(
        "5502",
        [
            SetVar("hangup_after_bridge", "true"),
            SetVar("call_timeout", "15"),
            Bridge(
                "{origination_caller_id_number=5502,fx_leg=agent}sofia/internal/agent1@127.0.0.1:5070"
            ),
        ],
    )
    sim.set_route("5506", [Answer(), Playback("tone_stream://%(300,300,620);loops=-1", 60)])
    client = events_client
    # when the caller calls 5502 and the d1 client's commands are replayed
    a_leg = sim.place_inbound_call(caller="5551000", destination="5502", caller_name="fx caller")
    bridge = client.wait_event(lambda e: e.name == "CHANNEL_BRIDGE")
    b_leg = bridge.get("Bridge-B-Unique-ID")
    client.wait_event(lambda e: e.name == "CALL_UPDATE" and e.get("Unique-ID") == b_leg)
    assert client.api(f"uuid_hold {b_leg}") == "+OK Success\n"
    client.wait_event(lambda e: e.name == "PLAYBACK_START")
    assert client.api(f"uuid_hold off {b_leg}") == "+OK Success\n"
    client.wait_event(lambda e: e.name == "CHANNEL_UNHOLD")
    dump = json.loads(client.api(f"uuid_dump {a_leg} json"))
    assert dump["Event-Name"] == "CHANNEL_DATA"
    assert dump["Unique-ID"] == a_leg
    assert json.loads(client.api("show channels as json"))["row_count"] == 2
    assert client.api(f"uuid_transfer {a_leg} 5506 XML default") == "+OK\n"
    client.wait_event(
        lambda e: e.name == "PLAYBACK_START" and e.get("Caller-Destination-Number") == "5506"
    )
    assert client.api(f"uuid_kill {a_leg}") == "+OK\n"
    client.wait_event(destroyed(a_leg))
    # then both legs saw the captured events in the captured order
    events = client.log
    capture = "d1_bridge_plain.raw"
    assert sequence(events, a_leg) == captured_sequence(
        capture, "968c698c-40f0-49d8-a61d-714c7c01d4d1"
    )
    assert sequence(events, b_leg) == captured_sequence(
        capture, "ec6123a0-8cf0-4f1f-94e9-a836d7519a08"
    )


def test_bridge_and_transfer_headers_follow_the_capture(sim, events_client):
    sim.register_endpoint("agent1", contact_port=5070, answer_after=0.01)
    sim.set_route(
        "5502",
        [SetVar("hangup_after_bridge", "true"), Bridge("sofia/internal/agent1@127.0.0.1:5070")],
    )
    a_leg = sim.place_inbound_call(caller="5551000", destination="5502")
    bridge = events_client.wait_event(lambda e: e.name == "CHANNEL_BRIDGE")
    # CHANNEL_BRIDGE is fired on the caller (A) leg with both ids and the other leg
    assert bridge.get("Unique-ID") == a_leg
    assert bridge.get("Bridge-A-Unique-ID") == a_leg
    assert bridge.get("Other-Type") == "originatee"
    assert bridge.get("Other-Leg-Unique-ID") == bridge.get("Bridge-B-Unique-ID")
    assert bridge.names[13:15] == ["Bridge-A-Unique-ID", "Bridge-B-Unique-ID"]
    events_client.send(f"api uuid_transfer {a_leg} 5599 XML default")
    events_client.reply()
    unbridge = events_client.wait_event(lambda e: e.name == "CHANNEL_UNBRIDGE")
    # the new caller profile is already in place when the bridge breaks (d1 seq 976)
    assert unbridge.get("Caller-Destination-Number") == "5599"
    assert unbridge.get("Caller-RDNIS") == "5502"
    assert unbridge.get("Caller-Profile-Index") == "2"
    assert unbridge.get("Caller-Transfer-Source").endswith(":bl_xfer:5599/default/XML")
    assert unbridge.get("variable_transfer_history") == unbridge.get("Caller-Transfer-Source")


def test_caller_hangup_tears_down_both_legs_like_k1(sim, events_client):
    # given a caller bridged to an agent (k1 shape)
    sim.register_endpoint("agent1", contact_port=5070, answer_after=0.01)
    sim.set_route("5502", [Bridge("sofia/internal/agent1@127.0.0.1:5070")])
    a_leg = sim.place_inbound_call(caller="5551000", destination="5502")
    bridge = events_client.wait_event(lambda e: e.name == "CHANNEL_BRIDGE")
    b_leg = bridge.get("Bridge-B-Unique-ID")
    # when the caller's leg is killed
    events_client.api(f"uuid_kill {a_leg}")
    events_client.wait_event(destroyed(a_leg))
    events = events_client.log
    # then the teardown order of each leg is k1's
    capture = "k1_record_mask_plain.raw"
    assert (
        sequence(events, a_leg)[-9:]
        == captured_sequence(capture, "fc825fe0-87b0-484f-88e7-b93bcea81c68")[-9:]
    )
    assert (
        sequence(events, b_leg)[-7:]
        == captured_sequence(capture, "4f523d41-c183-475f-bef7-faefb71e4416")[-7:]
    )
