"""originate through greenswitch (a real third-party ESL client): endpoints and failures."""

from __future__ import annotations

import pytest

from apps.telephony.simulator import Bridge, Park, SetVar

from .helpers import GreenClient, capture_events

OMITTED = {"CODEC", "PRESENCE_IN"}


@pytest.fixture
def green(sim):
    client = GreenClient(sim.port)
    assert client.send("event plain ALL") == "+OK event listener enabled plain"
    yield client
    client.close()


def test_originate_to_a_registered_user_answers_and_parks_like_i1(sim, green):
    # given a registered phone answering after 10 ms
    sim.register_endpoint("1001", answer_after=0.01)
    # when it is originated with an origination_uuid and &park
    reply = green.api(
        "originate {origination_uuid=agent-leg,origination_caller_id_name=Agent,"
        "origination_caller_id_number=1000}user/1001 &park"
    )
    green.wait(lambda e: e["Event-Name"] == "CHANNEL_PARK")
    # then the reply names the uuid and the leg's events are i1's, in order
    assert reply == "+OK agent-leg\n"
    captured = [
        e.name
        for e in capture_events("i1_api_driven_call_plain.raw")
        if e.get("Unique-ID") == "fx-i1-agent-leg" and e.name not in OMITTED
    ]
    assert green.of("agent-leg") == captured[: captured.index("CHANNEL_PARK") + 1]
    park = green.wait(lambda e: e["Event-Name"] == "CHANNEL_PARK")
    assert park["Channel-Name"] == "sofia/internal/sip:1001@127.0.0.1:20000"
    assert park["Caller-Caller-ID-Name"] == "Outbound Call"
    assert park["Caller-Callee-ID-Name"] == "Agent"
    assert park["variable_dialed_user"] == "1001"


def test_originate_to_an_unregistered_user_fails_like_freeswitch(green):
    assert green.api("originate user/1005 &park") == "-ERR USER_NOT_REGISTERED\n"
    assert green.api("originate user/9999999 &park") == "-ERR SUBSCRIBER_ABSENT\n"
    assert green.api("originate loopback/5500/default &park") == "-ERR CHAN_NOT_IMPLEMENTED\n"
    assert green.events == [e for e in green.events if e["Event-Name"] == "API"]


def test_phone_that_never_answers_times_out_with_no_answer(sim, green):
    sim.register_endpoint("1002", answers=False)
    reply = green.api("originate {origination_uuid=silent,originate_timeout=0.05}user/1002 &park")
    assert reply == "-ERR NO_ANSWER\n"
    report = green.wait(lambda e: e["Event-Name"] == "CHANNEL_HANGUP_COMPLETE")
    assert report["Unique-ID"] == "silent"
    assert report["Hangup-Cause"] == "NO_ANSWER"
    assert report["variable_sip_hangup_disposition"] == "send_cancel"
    assert report["variable_billsec"] == "0"
    assert "CHANNEL_ANSWER" not in green.of("silent")


def test_phone_that_rejects_reports_its_cause(sim, green):
    sim.register_endpoint("1003", reject_cause="USER_BUSY")
    assert green.api("originate user/1003 &park") == "-ERR USER_BUSY\n"
    report = green.wait(lambda e: e["Event-Name"] == "CHANNEL_HANGUP_COMPLETE")
    assert report["variable_hangup_cause_q850"] == "17"
    assert report["variable_sip_hangup_disposition"] == "recv_refuse"


def test_dial_string_variables_are_applied_to_the_leg(sim, green):
    sim.register_endpoint("1001")
    reply = green.api(
        "originate {origination_uuid=leg-vars,fx_ticket=4711,"
        "origination_caller_id_name='Li Lei'}user/1001 &park"
    )
    assert reply == "+OK leg-vars\n"
    assert green.api("uuid_getvar leg-vars fx_ticket") == "4711"
    created = green.wait(lambda e: e["Event-Name"] == "CHANNEL_CREATE")
    assert created["Caller-Caller-ID-Name"] == "Li Lei"
    assert created["variable_origination_caller_id_name"] == "Li Lei"


def test_originate_with_bridge_application_connects_two_phones(sim, green):
    sim.register_endpoint("1001")
    sim.register_endpoint("1002")
    reply = green.api("originate {origination_uuid=click2call}user/1001 &bridge(user/1002)")
    assert reply == "+OK click2call\n"
    bridge = green.wait(lambda e: e["Event-Name"] == "CHANNEL_BRIDGE")
    assert bridge["Unique-ID"] == "click2call"
    assert bridge["Other-Leg-Destination-Number"] == "1002"
    calls = [c for c in sim.channels() if c.bridged_to]
    assert len(calls) == 2


def test_originate_to_an_extension_runs_its_dialplan(sim, green):
    sim.register_endpoint("1001")
    assert green.api("originate {origination_uuid=to-ext}user/1001 4001") == "+OK to-ext\n"
    park = green.wait(lambda e: e["Event-Name"] == "CHANNEL_PARK")
    assert park["Unique-ID"] == "to-ext"
    assert park["Caller-Destination-Number"] == "4001"


def test_supervisor_eavesdrop_follows_dtmf_until_star(sim, green):
    # given a caller bridged to an agent and a supervisor's phone
    sim.register_endpoint("1001")
    sim.register_endpoint("2000")
    caller = sim.place_inbound_call(caller="5551000", destination="1001")
    green.wait(lambda e: e["Event-Name"] == "CHANNEL_BRIDGE")
    # when the supervisor is originated into eavesdrop on the caller and presses 2 1 3 0 *
    reply = green.api(f"originate {{origination_uuid=sup}}user/2000 &eavesdrop({caller})")
    assert reply == "+OK sup\n"
    bug = green.wait(lambda e: e["Event-Name"] == "MEDIA_BUG_START")
    assert sim.press_dtmf("sup", "2130*")
    green.wait(lambda e: e["Event-Name"] == "CHANNEL_DESTROY" and e["Unique-ID"] == "sup")
    # then j1's pattern: a media bug on the target, one DTMF event per digit, no mode events,
    # and the supervisor leg hangs up when eavesdrop ends
    assert bug["Unique-ID"] == caller
    assert bug["Media-Bug-Function"] == "eavesdrop"
    assert bug["Media-Bug-Target"] == caller
    digits = [e["DTMF-Digit"] for e in green.events if e["Event-Name"] == "DTMF"]
    assert digits == ["2", "1", "3", "0", "*"]
    assert "MEDIA_BUG_STOP" in green.of(caller)
    assert green.of("sup")[-9:] == [
        "DTMF",
        "CHANNEL_EXECUTE_COMPLETE",
        "CHANNEL_HANGUP",
        "CHANNEL_STATE",
        "CHANNEL_CALLSTATE",
        "CHANNEL_STATE",
        "CHANNEL_HANGUP_COMPLETE",
        "CHANNEL_DESTROY",
        "CHANNEL_STATE",
    ]
    assert sim.channel(caller).bridged_to is not None


def test_bridge_to_a_silent_agent_falls_through_to_the_next_step(sim, green):
    # given a dialplan that tries an agent for 50 ms, then parks the caller
    sim.register_endpoint("1003", answers=False)
    sim.set_route("4002", [SetVar("call_timeout", "0.05"), Bridge("user/1003"), Park()])
    # when a call arrives
    caller = sim.place_inbound_call(caller="5551000", destination="4002")
    park = green.wait(lambda e: e["Event-Name"] == "CHANNEL_PARK")
    # then the agent leg timed out and the caller went on to park
    assert park["Unique-ID"] == caller
    assert park["variable_originate_disposition"] == "NO_ANSWER"
    assert park["variable_DIALSTATUS"] == "NOANSWER"
    agent_report = green.wait(
        lambda e: e["Event-Name"] == "CHANNEL_HANGUP_COMPLETE" and e["Unique-ID"] != caller
    )
    assert agent_report["Hangup-Cause"] == "NO_ANSWER"
