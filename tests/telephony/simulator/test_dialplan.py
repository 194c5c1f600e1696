"""Inbound dialplan: routes, built-in steps, custom steps, caller and agent behaviour."""

from __future__ import annotations

from dataclasses import dataclass

from apps.telephony.simulator import (
    Answer,
    CallSession,
    CollectDigits,
    Hangup,
    Park,
    Playback,
    SetVar,
    Step,
)

from .helpers import destroyed


def _names(client, uuid):
    return [e.name for e in client.log if e.get("Unique-ID") == uuid]


def test_default_dialplan_answers_then_parks(sim, events_client):
    uuid = sim.place_inbound_call(caller="+8613800138000", destination="4001")
    events_client.wait_event(lambda e: e.name == "CHANNEL_PARK")
    assert _names(events_client, uuid) == [
        "CHANNEL_STATE",
        "CHANNEL_STATE",
        "CHANNEL_CREATE",
        "CHANNEL_CALLSTATE",
        "CHANNEL_STATE",
        "CHANNEL_STATE",
        "CHANNEL_EXECUTE",
        "CHANNEL_PROGRESS_MEDIA",
        "CHANNEL_CALLSTATE",
        "CHANNEL_ANSWER",
        "CHANNEL_CALLSTATE",
        "CHANNEL_EXECUTE_COMPLETE",
        "CHANNEL_EXECUTE",
        "CHANNEL_PARK",
    ]
    info = sim.channel(uuid)
    assert info.parked
    assert info.caller_id_number == "+8613800138000"
    assert info.name == "sofia/internal/+8613800138000@127.0.0.1:5080"


def test_parked_caller_hanging_up_unparks_then_reports(sim, events_client):
    uuid = sim.place_inbound_call(caller="5551000", destination="4001")
    events_client.wait_event(lambda e: e.name == "CHANNEL_PARK")
    sim.hangup(uuid)
    events_client.wait_event(destroyed(uuid))
    assert _names(events_client, uuid)[-9:] == [
        "CHANNEL_HANGUP",
        "CHANNEL_UNPARK",
        "CHANNEL_EXECUTE_COMPLETE",
        "CHANNEL_STATE",
        "CHANNEL_CALLSTATE",
        "CHANNEL_STATE",
        "CHANNEL_HANGUP_COMPLETE",
        "CHANNEL_DESTROY",
        "CHANNEL_STATE",
    ]
    report = next(e for e in events_client.log if e.name == "CHANNEL_HANGUP_COMPLETE")
    assert report.get("variable_sip_hangup_disposition") == "recv_bye"
    assert report.get("variable_last_app") == "park"


def test_hangup_report_carries_cdr_variables(sim, events_client):
    uuid = sim.place_inbound_call(caller="5551000", destination="4001")
    events_client.wait_event(lambda e: e.name == "CHANNEL_PARK")
    sim.press_dtmf(uuid, "12")
    sim.hangup(uuid, "NORMAL_CLEARING")
    report = events_client.wait_event(lambda e: e.name == "CHANNEL_HANGUP_COMPLETE")
    values = report.values
    assert values["variable_hangup_cause"] == "NORMAL_CLEARING"
    assert values["variable_hangup_cause_q850"] == "16"
    assert values["variable_digits_dialed"] == "12"
    start, answer, end = (
        int(values[f"variable_{name}_uepoch"]) for name in ("start", "answer", "end")
    )
    assert start <= answer <= end
    assert values["variable_billusec"] == str(end - answer)
    assert values["variable_uduration"] == str(end - start)
    assert values["variable_duration"] == str(end // 1_000_000 - start // 1_000_000)
    assert values["variable_billsec"] == str(end // 1_000_000 - answer // 1_000_000)
    assert values["variable_caller_id"] == '"5551000" <5551000>'
    assert values["Caller-Channel-Hangup-Time"] != "0"


def test_routes_patterns_and_registered_users_choose_the_steps(sim, events_client):
    sim.set_route("4100", [Answer(), Playback("ivr/welcome.wav", 0.01), Hangup("NORMAL_CLEARING")])
    sim.set_pattern(r"42\d\d", [SetVar("queue", "sales"), Answer(), Park()])
    sim.register_endpoint("1001")
    exact = sim.place_inbound_call(caller="5551000", destination="4100")
    events_client.wait_event(destroyed(exact))
    pattern = sim.place_inbound_call(caller="5551001", destination="4201")
    events_client.wait_event(lambda e: e.name == "CHANNEL_PARK" and e.get("Unique-ID") == pattern)
    user = sim.place_inbound_call(caller="5551002", destination="1001")
    events_client.wait_event(lambda e: e.name == "CHANNEL_BRIDGE" and e.get("Unique-ID") == user)
    applications = [
        e.get("Application")
        for e in events_client.log
        if e.name == "CHANNEL_EXECUTE" and e.get("Unique-ID") == exact
    ]
    assert applications == ["answer", "playback", "hangup"]
    assert sim.channel(pattern).variables["queue"] == "sales"
    assert sim.channel(user).bridged_to is not None


def test_collect_digits_uses_the_callers_planned_choice(sim, events_client):
    # given an IVR step and a caller who plans to press 2 then #
    sim.set_route("4300", [Answer(), CollectDigits("menu", max_digits=2, timeout=1.0), Park()])
    uuid = sim.place_inbound_call(caller="5551000", destination="4300", digits="2#")
    park = events_client.wait_event(lambda e: e.name == "CHANNEL_PARK")
    # then the digits were read with DTMF events and stored like play_and_get_digits does
    digits = [e.get("DTMF-Digit") for e in events_client.log if e.name == "DTMF"]
    assert digits == ["2", "#"]
    assert park.get("variable_menu") == "2"
    assert park.get("variable_read_result") == "success"
    assert park.get("variable_read_terminator_used") == "#"
    assert sim.channel(uuid).variables["menu"] == "2"


def test_collect_digits_times_out_without_input(sim, events_client):
    sim.set_route("4301", [Answer(), CollectDigits("menu", timeout=0.02), Park()])
    sim.place_inbound_call(caller="5551000", destination="4301")
    park = events_client.wait_event(lambda e: e.name == "CHANNEL_PARK")
    assert park.get("variable_read_result") == "failure"
    assert "variable_menu" not in park.names


@dataclass(frozen=True)
class Greet:
    """A custom step, as a later httapi step would be written."""

    greeting: str

    async def run(self, call: CallSession) -> None:
        await call.answer()
        await call.set("greeting", f"{self.greeting} {call.caller_number}")
        await call.playback(f"say:{self.greeting}", 0.01)


def test_custom_steps_plug_into_the_dialplan(sim, events_client):
    assert isinstance(Greet("hi"), Step)
    sim.set_route("4400", [Greet("hello"), Park()])
    uuid = sim.place_inbound_call(caller="5551000", destination="4400")
    park = events_client.wait_event(lambda e: e.name == "CHANNEL_PARK")
    assert park.get("variable_greeting") == "hello 5551000"
    assert sim.channel(uuid).parked


def test_dialplan_running_out_of_steps_hangs_up(sim, events_client):
    sim.set_route("4500", [Answer()])
    uuid = sim.place_inbound_call(caller="5551000", destination="4500")
    hangup = events_client.wait_event(lambda e: e.name == "CHANNEL_HANGUP")
    assert hangup.get("Unique-ID") == uuid
    assert hangup.get("Hangup-Cause") == "NORMAL_CLEARING"


def test_caller_hangs_up_after_its_talk_time_once_bridged(sim, events_client):
    sim.register_endpoint("1001", answer_after=0.01)
    uuid = sim.place_inbound_call(caller="5551000", destination="1001", talk_time=0.05)
    events_client.wait_event(lambda e: e.name == "CHANNEL_BRIDGE")
    report = events_client.wait_event(
        lambda e: e.name == "CHANNEL_HANGUP_COMPLETE" and e.get("Unique-ID") == uuid
    )
    assert report.get("variable_sip_hangup_disposition") == "recv_bye"
    assert int(report.get("variable_billmsec")) >= 50


def test_waiting_caller_abandons_after_its_patience(sim, events_client):
    uuid = sim.place_inbound_call(caller="5551000", destination="4001", patience=0.05)
    hangup = events_client.wait_event(lambda e: e.name == "CHANNEL_HANGUP")
    assert hangup.get("Unique-ID") == uuid
    assert hangup.get("variable_sip_hangup_disposition") is None
    report = events_client.wait_event(lambda e: e.name == "CHANNEL_HANGUP_COMPLETE")
    assert report.get("variable_sip_hangup_disposition") == "recv_bye"


def test_agent_phone_hangs_up_after_its_talk_time(sim, events_client):
    sim.register_endpoint("1001", answer_after=0.01, hangup_after=0.05)
    caller = sim.place_inbound_call(caller="5551000", destination="1001")
    bridge = events_client.wait_event(lambda e: e.name == "CHANNEL_BRIDGE")
    agent = bridge.get("Bridge-B-Unique-ID")
    first = events_client.wait_event(lambda e: e.name == "CHANNEL_HANGUP")
    assert first.get("Unique-ID") == agent
    # the caller's bridge application ends and, with nothing left, the caller is hung up too
    events_client.wait_event(destroyed(caller))


def test_transfer_to_a_registered_user_bridges_to_that_phone(sim, events_client):
    sim.register_endpoint("1001", answer_after=0.01)
    caller = sim.place_inbound_call(caller="5551000", destination="4001")
    events_client.wait_event(lambda e: e.name == "CHANNEL_PARK")
    assert events_client.api(f"uuid_transfer {caller} 1001") == "+OK\n"
    bridge = events_client.wait_event(lambda e: e.name == "CHANNEL_BRIDGE")
    assert bridge.get("Unique-ID") == caller
    assert bridge.get("Other-Leg-Destination-Number") == "1001"
    assert bridge.get("Caller-Destination-Number") == "1001"


def test_hold_from_the_api_plays_music_to_the_partner(sim, events_client):
    sim.register_endpoint("1001", answer_after=0.01)
    caller = sim.place_inbound_call(caller="5551000", destination="1001")
    bridge = events_client.wait_event(lambda e: e.name == "CHANNEL_BRIDGE")
    agent = bridge.get("Bridge-B-Unique-ID")
    assert events_client.api(f"uuid_hold {caller}") == "+OK Success\n"
    start = events_client.wait_event(lambda e: e.name == "PLAYBACK_START")
    assert start.get("Unique-ID") == agent
    assert start.get("Playback-File-Path") == "tone_stream://%(250,4750,440)"
    assert sim.channel(caller).held
    assert events_client.api(f"uuid_hold toggle {caller}") == "+OK Success\n"
    events_client.wait_event(lambda e: e.name == "CHANNEL_UNHOLD")
    assert not sim.channel(caller).held


def test_record_mask_and_unmask_are_silent_on_the_event_stream(sim, events_client):
    uuid = sim.place_inbound_call(caller="5551000", destination="4001")
    events_client.wait_event(lambda e: e.name == "CHANNEL_PARK")
    path = "/var/lib/freeswitch/recordings/rec.wav"
    assert events_client.api(f"uuid_record {uuid} start {path}") == "+OK Success\n"
    assert events_client.api(f"uuid_record {uuid} mask {path}") == "+OK Success\n"
    assert events_client.api(f"uuid_record {uuid} unmask {path}") == "+OK Success\n"
    assert (
        events_client.api(f"uuid_record {uuid} mask /var/lib/freeswitch/recordings/other.wav")
        == "-ERR Cannot mask recording session!\n"
    )
    assert events_client.api(f"uuid_record {uuid} stop {path}") == "+OK Success\n"
    stop = events_client.wait_event(lambda e: e.name == "RECORD_STOP")
    names = [e.name for e in events_client.log if e.get("Unique-ID") == uuid]
    assert names[-4:] == ["RECORD_START", "MEDIA_BUG_START", "RECORD_STOP", "MEDIA_BUG_STOP"]
    assert stop.get("Record-Completion-Cause") == "success-maxtime"
    assert stop.get("variable_record_ms") is not None


def test_caller_hanging_up_while_the_agent_rings_cancels_the_agent_leg(sim, events_client):
    # given an agent phone that never answers
    sim.register_endpoint("1001", answers=False)
    caller = sim.place_inbound_call(caller="5551000", destination="1001")
    ringing = events_client.wait_event(
        lambda e: e.name == "CHANNEL_PROGRESS" and e.get("Unique-ID") != caller
    )
    agent = ringing.get("Unique-ID")
    # when the caller gives up
    sim.hangup(caller)
    events_client.wait_event(destroyed(caller))
    # then the agent leg is cancelled and the caller's bridge application completes
    agent_hangup = next(
        e for e in events_client.log if e.name == "CHANNEL_HANGUP" and e.get("Unique-ID") == agent
    )
    assert agent_hangup.get("Hangup-Cause") == "ORIGINATOR_CANCEL"
    caller_events = _names(events_client, caller)
    assert caller_events[-8:] == [
        "CHANNEL_HANGUP",
        "CHANNEL_EXECUTE_COMPLETE",
        "CHANNEL_STATE",
        "CHANNEL_CALLSTATE",
        "CHANNEL_STATE",
        "CHANNEL_HANGUP_COMPLETE",
        "CHANNEL_DESTROY",
        "CHANNEL_STATE",
    ]


def test_a_step_can_read_the_session_data_an_http_fetch_would_post(sim, events_client):
    seen = {}

    @dataclass(frozen=True)
    class Capture:
        async def run(self, call: CallSession) -> None:
            seen.update(call.channel_data())

    sim.set_route("4600", [Capture(), Park()])
    uuid = sim.place_inbound_call(caller="5551000", destination="4600")
    events_client.wait_event(lambda e: e.name == "CHANNEL_PARK")
    assert seen["Unique-ID"] == uuid
    assert seen["Caller-Destination-Number"] == "4600"
    assert seen["variable_sip_from_user"] == "5551000"
    assert "Event-Sequence" not in seen


def test_a_transfer_step_hands_the_call_to_the_target_extension(sim, events_client):
    from apps.telephony.simulator import Execute

    sim.set_route("4700", [Answer(), Execute("transfer", "4701"), Hangup("CALL_REJECTED")])
    sim.set_route("4701", [SetVar("reached", "4701"), Park()])
    uuid = sim.place_inbound_call(caller="5551000", destination="4700")
    park = events_client.wait_event(lambda e: e.name == "CHANNEL_PARK")
    # the first extension's remaining steps never run: the call is parked in 4701
    assert park.get("Unique-ID") == uuid
    assert park.get("variable_reached") == "4701"
    assert park.get("Caller-Destination-Number") == "4701"
    assert sim.channel(uuid).hangup_cause is None
