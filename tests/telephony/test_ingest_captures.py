"""Real FreeSWITCH event streams (captured bytes) become calls, legs, CDRs and recordings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.telephony import domain_events
from apps.telephony.models import Call, CallLeg, CallRecording, Cdr, EndpointRegistration

pytestmark = pytest.mark.django_db

A_LEG = "968c698c-40f0-49d8-a61d-714c7c01d4d1"
B_LEG = "ec6123a0-8cf0-4f1f-94e9-a836d7519a08"


def _at(micros: int) -> datetime:
    return datetime.fromtimestamp(micros / 1_000_000, tz=UTC)


def test_a_bridged_call_gives_one_call_with_two_legs_and_their_cdrs(node, replay):
    # Given the d1 capture: caller -> 5502 -> bridge to an agent, hold, unhold, transfer, kill
    # When every event is handled one by one
    replay("d1_bridge_plain", node)

    # Then there is one call, with the caller as its A-leg and the agent leg joined to it
    call = Call.objects.get()
    assert call.uuid == A_LEG
    assert (call.direction, call.caller_number, call.caller_name) == (
        "inbound",
        "5551000",
        "fx caller",
    )
    assert (call.callee_number, call.did, call.state) == ("5502", "5502", "ended")
    assert call.answered_at == _at(1795306100158503)
    assert call.ended_at == _at(1795306107698504)
    assert call.hangup_cause == "NORMAL_CLEARING"
    legs = {leg.uuid: leg for leg in CallLeg.objects.filter(call=call)}
    assert set(legs) == {A_LEG, B_LEG}
    assert (legs[A_LEG].role, legs[B_LEG].role) == ("caller", "callee")
    assert legs[B_LEG].direction == "outbound"
    assert legs[B_LEG].answered_at == _at(1795306100138497)
    assert legs[B_LEG].bridged_at == _at(1795306100158503)
    assert legs[B_LEG].is_held is False  # held (CHANNEL_HOLD), then unheld (CHANNEL_UNHOLD)
    assert {leg.state for leg in legs.values()} == {"ended"}
    # And each leg has the CDR FreeSWITCH computed in CHANNEL_HANGUP_COMPLETE
    cdrs = {cdr.uuid: cdr for cdr in Cdr.objects.filter(call=call)}
    assert (cdrs[A_LEG].billsec, cdrs[A_LEG].duration) == (7, 8)
    assert (cdrs[B_LEG].billsec, cdrs[B_LEG].duration) == (4, 5)
    assert cdrs[A_LEG].hangup_cause == "NORMAL_CLEARING"
    assert cdrs[A_LEG].hangup_cause_q850 == 16
    assert cdrs[A_LEG].sip_hangup_disposition == "send_bye"
    assert (cdrs[A_LEG].caller, cdrs[A_LEG].callee) == ("5551000", "5502")
    assert cdrs[A_LEG].started_at == _at(1795306099118504)
    assert cdrs[A_LEG].ended_at == _at(1795306107698504)
    assert cdrs[A_LEG].source == "event"


def test_the_json_capture_of_the_same_call_gives_the_same_records(node, replay):
    # Given the plain and the json subscriptions of the same d1 call, ingested on two nodes
    from apps.telephony.models import FreeswitchNode

    json_node = FreeswitchNode.objects.create(name="fs2", host="127.0.0.2", password="x")
    replay("d1_bridge_plain", node)
    replay("d1_bridge_json", json_node)

    # Then both nodes hold identical calls, legs and CDRs
    def records(of_node):
        call = Call.objects.get(node=of_node)
        return (
            (call.uuid, call.state, call.answered_at, call.bridged_at, call.ended_at),
            sorted(
                (leg.uuid, leg.role, leg.answered_at, leg.ended_at, leg.hangup_cause)
                for leg in CallLeg.objects.filter(node=of_node)
            ),
            sorted(
                (cdr.uuid, cdr.billsec, cdr.duration, cdr.hangup_cause)
                for cdr in Cdr.objects.filter(node=of_node)
            ),
        )

    assert records(node) == records(json_node)


def test_the_bridged_call_announces_each_fact_once_in_order(node, replay, published):
    replay("d1_bridge_plain", node)

    assert published.kinds() == [
        "call.created",
        "call.ringing",
        "call.ringing",
        "call.answered",
        "call.answered",
        "call.bridged",
        "call.held",
        "call.unheld",
        "call.hungup",
        "call.unbridged",
        "call.hungup",
    ]
    hangups = published.of(domain_events.CALL_HUNGUP)
    assert [(event.leg_uuid, event.data["call_ended"]) for event in hangups] == [
        (B_LEG, False),
        (A_LEG, True),
    ]
    call = Call.objects.get()
    assert {event.call_id for event in published.events} == {call.pk}


def test_an_ivr_call_keeps_its_dtmf_and_recording(node, replay):
    # Given the c1 capture: answer, prompts, DTMF (RTP and SIP INFO), record_session, hangup
    replay("c1_ivr_call_plain", node)

    leg = CallLeg.objects.get()
    assert [digit for _, digit, _ in leg.dtmf] == ["1", "2", "#"]
    assert [source for _, _, source in leg.dtmf] == ["RTP", "ENDPOINT", "RTP"]
    recording = CallRecording.objects.get()
    assert recording.path == (
        "/usr/local/fs1/recordings/fx_ivr_675ab3a6-6a84-45b9-8de8-3d96abc43566.wav"
    )
    assert recording.duration_ms == 2990
    assert recording.stopped_at is not None
    cdr = Cdr.objects.get()
    assert (cdr.billsec, cdr.duration) == (9, 9)
    assert cdr.recording_path == recording.path


def test_an_api_driven_call_records_both_originated_legs_and_their_bridge(node, replay):
    # Given the i1 capture: two legs originated over ESL, uuid_bridge'd, recorded, killed
    replay("i1_api_driven_call_plain", node)

    legs = {leg.uuid: leg for leg in CallLeg.objects.all()}
    assert set(legs) == {"fx-i1-agent-leg", "fx-i1-customer-leg"}
    agent_leg = legs["fx-i1-agent-leg"]
    assert agent_leg.bridged_at is not None
    assert legs["fx-i1-customer-leg"].bridged_at == agent_leg.bridged_at
    assert {leg.hangup_cause for leg in legs.values()} == {"NORMAL_CLEARING"}
    recording = CallRecording.objects.get()
    assert recording.leg == agent_leg
    assert recording.path == "/usr/local/fs1/recordings/fx_i1_fx-i1-agent-leg.wav"
    assert sorted(Cdr.objects.values_list("uuid", "billsec")) == [
        ("fx-i1-agent-leg", 7),
        ("fx-i1-customer-leg", 6),
    ]


def test_two_recordings_of_one_leg_are_two_records(node, replay):
    # Given the k1 capture: record, mask, unmask, stop; then record, pause, resume, stop
    replay("k1_record_mask_plain", node)

    recordings = list(CallRecording.objects.order_by("start_sequence"))
    assert [recording.duration_ms for recording in recordings] == [9020, 6000]
    assert [recording.path.rsplit("/", 1)[1][:6] for recording in recordings] == [
        "fx_k1_",
        "fx_k2_",
    ]


def test_a_sip_registration_and_unregistration_update_the_endpoint(node, replay, published):
    # Given the g1 capture: user 1500 registers, then unregisters
    replay("g1_xml_curl_esl", node)

    registration = EndpointRegistration.objects.get()
    assert (registration.username, registration.realm) == ("1500", "127.0.0.1")
    assert registration.is_registered is False
    assert registration.network_ip == "127.0.0.1"
    assert [event.kind for event in published.events if event.kind.startswith("endpoint.")] == [
        "endpoint.registered",
        "endpoint.unregistered",
    ]
