"""Subscriptions: event/nixevent/noevents/filter/myevents/log/sendevent (h2 capture)."""

from __future__ import annotations

from .helpers import RawClient, capture_events, capture_frames, destroyed


def _replies(capture: str) -> list[str]:
    return [
        f.headers["Reply-Text"]
        for f in capture_frames(capture)
        if f.content_type == "command/reply"
    ]


def test_subscription_commands_reply_like_the_h2_capture(sim, client):
    # given the h2 client's sequence of subscription commands (minus calls and exit)
    captured = _replies("h2_misc_commands.raw")
    commands = [
        ("event xml CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE", captured[1]),
        ("noevents", captured[3]),
        ("event plain CHANNEL_HANGUP_COMPLETE CUSTOM sofia::register", captured[4]),
        ("filter Unique-ID fx-h2-0001", captured[5]),
        ("filter Unique-ID fx-h2-0001", captured[6]),
        ("nixevent CUSTOM sofia::register", captured[7]),
        ("nixevent NO_SUCH_EVENT", captured[8]),
        ("event plain NO_SUCH_EVENT", captured[9]),
        ("log 6", captured[10]),
        ("nolog", captured[11]),
        ("filter delete Unique-ID fx-h2-0001", captured[12]),
        ("filter delete all", captured[13]),
        ("myevents fx-h2-0001", captured[14]),
        ("divert_events on", captured[15]),
        ("no_such_esl_command", captured[16]),
        ("getvar foo", captured[18]),
    ]
    # when each is sent, then the reply text is FreeSWITCH's
    for command, expected in commands:
        assert client.command(command) == expected, command


def test_plain_and_json_subscribers_receive_the_same_event_sequence(sim):
    # given one plain and one json ALL subscriber
    plain, as_json = RawClient(sim.port), RawClient(sim.port)
    for connection, fmt in ((plain, "plain"), (as_json, "json")):
        connection.login()
        assert connection.command(f"event {fmt} ALL") == f"+OK event listener enabled {fmt}"
    # when a call comes in and is hung up
    uuid = sim.place_inbound_call(caller="+8613800138000", destination="4001")
    assert sim.wait_until(lambda s: s.switch.find(uuid).parked)
    sim.hangup(uuid)
    plain_events = plain.collect_until(destroyed(uuid))
    json_events = as_json.collect_until(destroyed(uuid))
    # then both saw the same events with the same Event-Sequence, strictly increasing,
    # and the same (decoded) header values
    sequences = [event.sequence for event in plain_events]
    assert sequences == [event.sequence for event in json_events]
    assert sequences == sorted(set(sequences))
    for left, right in zip(plain_events, json_events, strict=True):
        assert left.values == right.values
    assert [e.fmt for e in json_events] == ["json"] * len(json_events)
    plain.close()
    as_json.close()


def test_named_subscription_only_delivers_those_events(sim, client):
    client.command("event plain CHANNEL_CREATE CHANNEL_HANGUP_COMPLETE")
    uuid = sim.place_inbound_call(caller="5551000", destination="4001")
    sim.hangup(uuid)
    events = client.collect_until(lambda e: e.name == "CHANNEL_HANGUP_COMPLETE")
    assert [e.name for e in events] == ["CHANNEL_CREATE", "CHANNEL_HANGUP_COMPLETE"]


def test_custom_events_need_their_subclass(sim, client):
    # given a subscription to CUSTOM sofia::unregister only
    client.command("event plain CUSTOM sofia::unregister")
    # when a phone registers and unregisters
    sim.register_endpoint("1001")
    sim.unregister_endpoint("1001")
    event = client.wait_event(lambda e: True)
    # then only the unregister arrives, with the subclass first and url-encoded in plain
    assert event.get("Event-Subclass") == "sofia::unregister"
    assert event.names[:2] == ["Event-Subclass", "Event-Name"]
    assert client.events() == []


def test_register_event_carries_the_captured_headers(sim, client):
    client.command("event plain CUSTOM sofia::register")
    sim.register_endpoint("1500", display_name="Agent 1500")
    event = client.wait_event(lambda e: True)
    captured = next(
        e
        for e in capture_events("g1_xml_curl_esl.raw")
        if e.get("Event-Subclass") == "sofia::register"
    )
    assert event.names == captured.names
    assert event.get("from-user") == "1500"
    assert event.get("status") == "Registered(UDP)"
    assert event.get("effective_caller_id_name") == "Agent 1500"


def test_nixevent_removes_one_event_from_all(sim, client):
    client.command("event plain ALL")
    assert client.command("nixevent CHANNEL_STATE") == "+OK events nixed"
    uuid = sim.place_inbound_call(caller="5551000", destination="4001")
    sim.hangup(uuid)
    events = client.collect_until(destroyed(uuid))
    assert "CHANNEL_STATE" not in {e.name for e in events}
    assert "CHANNEL_CALLSTATE" in {e.name for e in events}


def test_noevents_stops_delivery(sim, client):
    client.command("event plain ALL")
    assert client.command("noevents") == "+OK no longer listening for events"
    assert client.command("noevents") == "-ERR not listening for events"
    sim.place_inbound_call(caller="5551000", destination="4001")
    client.api("hostname")
    assert client.events() == []


def test_filter_keeps_only_matching_events(sim, client):
    # given two calls and a filter on the second one's uuid
    client.command("event plain CHANNEL_HANGUP_COMPLETE")
    assert client.command("filter Unique-ID call-b") == "+OK filter added. [Unique-ID]=[call-b]"
    first = sim.place_inbound_call(caller="5551000", destination="4001", uuid="call-a")
    second = sim.place_inbound_call(caller="5551001", destination="4001", uuid="call-b")
    # when both hang up
    sim.hangup(first)
    sim.hangup(second)
    # then only the filtered channel's event arrives
    event = client.wait_event(lambda e: True)
    assert event.get("Unique-ID") == "call-b"
    client.api("hostname")
    assert client.events() == []


def test_filter_on_another_header_and_delete(sim, client):
    client.command("event plain CHANNEL_CREATE")
    client.command("filter Caller-Caller-ID-Number 5551001")
    sim.place_inbound_call(caller="5551000", destination="4001")
    sim.place_inbound_call(caller="5551001", destination="4001")
    event = client.wait_event(lambda e: True)
    assert event.get("Caller-Caller-ID-Number") == "5551001"
    assert (
        client.command("filter delete Caller-Caller-ID-Number")
        == "+OK filter deleted. [Caller-Caller-ID-Number][]"
    )
    sim.place_inbound_call(caller="5551002", destination="4001")
    assert client.wait_event(lambda e: True).get("Caller-Caller-ID-Number") == "5551002"


def test_myevents_follows_one_channel(sim, client):
    first = sim.place_inbound_call(caller="5551000", destination="4001")
    second = sim.place_inbound_call(caller="5551001", destination="4001")
    assert client.command(f"myevents {second}") == "+OK Events Enabled"
    assert client.command(f"myevents {second}") == "-ERR aready enabled."
    sim.hangup(first)
    sim.hangup(second)
    events = client.collect_until(destroyed(second))
    assert {e.get("Unique-ID") for e in events} == {second}


def test_xml_subscription_renders_url_encoded_values(sim, client):
    client.command("event xml CHANNEL_CREATE")
    sim.place_inbound_call(caller="5551000", destination="4001", caller_name="fx caller")
    frame = client.next_matching(lambda f: f.content_type == "text/event-xml")
    text = frame.body.decode()
    assert text.startswith("<event>\n  <headers>\n    <Event-Name>CHANNEL_CREATE</Event-Name>\n")
    assert "<Caller-Caller-ID-Name>fx%20caller</Caller-Caller-ID-Name>" in text
    assert text.endswith("  </headers>\n</event>\n")


def test_log_data_frames_follow_log_level(sim, client):
    assert client.command("log 6") == "+OK log level 6 [6]"
    uuid = sim.place_inbound_call(caller="5551000", destination="4001")
    sim.hangup(uuid)
    frame = client.next_matching(lambda f: f.content_type == "log/data")
    assert frame.headers["Log-Level"] == "5"
    assert frame.headers["User-Data"] == uuid
    assert b"[NOTICE] switch_channel.c:3445 Hangup sofia/internal/5551000@" in frame.body
    assert client.command("nolog") == "+OK no longer logging"
    assert client.command("nolog") == "-ERR not loging"
    assert client.command("log bogus") == "-ERR invalid log level"


def test_sendevent_broadcasts_a_custom_event(sim):
    sender, listener = RawClient(sim.port), RawClient(sim.port)
    sender.login()
    listener.login()
    listener.command("event plain CUSTOM fx::test")
    reply = sender.command("sendevent CUSTOM\nEvent-Subclass: fx::test\nFx-Header: hello world")
    assert reply.startswith("+OK ")
    event = listener.wait_event(lambda e: True)
    assert event.get("Event-Subclass") == "fx::test"
    assert event.get("Fx-Header") == "hello world"
    assert event.get("Event-UUID") == reply[4:]
    assert b"\nFx-Header: hello%20world\n" in listener.received
    sender.close()
    listener.close()


def test_unsubscribed_events_still_use_up_event_sequence_numbers(sim, client):
    # given a client that only wants CHANNEL_CREATE
    client.command("event plain CHANNEL_CREATE")

    def two_calls(simulator):
        return [
            simulator.place_inbound_call(caller="5551000", destination="4001"),
            simulator.place_inbound_call(caller="5551001", destination="4001"),
        ]

    # when two calls arrive in the same instant
    sim.call(two_calls, sim.simulator)
    first = client.wait_event(lambda e: True)
    second = client.wait_event(lambda e: True)
    # then the numbers in between belong to the first call's CALLSTATE/STATE events and the
    # second call's two CS_NEW/CS_INIT states, as FreeSWITCH would have numbered them
    assert second.sequence - first.sequence == 6
