"""Domain events reach subscribers after commit only, and agents' browsers get their legs' news."""

from __future__ import annotations

from datetime import UTC, datetime

import gevent
import gevent.event
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from apps.core import realtime
from apps.telephony import domain_events
from apps.telephony.domain_events import CallEvent
from apps.telephony.esl import Event
from apps.telephony.models import Call, CallLeg
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def _event(kind: str = domain_events.CALL_PARKED) -> CallEvent:
    return CallEvent(kind=kind, node="fs1", occurred_at=AT, call_uuid="u1")


def test_subscribers_of_a_kind_get_its_events_and_only_those(published):
    parked: list[CallEvent] = []
    domain_events.subscribe(domain_events.CALL_PARKED, parked.append)
    try:
        domain_events.publish(_event(domain_events.CALL_PARKED))
        domain_events.publish(_event(domain_events.CALL_ANSWERED))
    finally:
        domain_events.unsubscribe(domain_events.CALL_PARKED, parked.append)

    assert [event.kind for event in parked] == ["call.parked"]
    assert published.kinds() == ["call.parked", "call.answered"]


def test_an_unknown_kind_cannot_be_subscribed():
    with pytest.raises(ValueError, match="Unknown telephony event kind"):
        domain_events.subscribe("call.teleported", print)


def test_a_failing_subscriber_does_not_stop_the_others(published):
    def broken(event: CallEvent) -> None:
        raise RuntimeError("subscriber bug")

    domain_events.subscribe(domain_events.CALL_HUNGUP, broken)
    try:
        domain_events.publish(_event(domain_events.CALL_HUNGUP))
    finally:
        domain_events.unsubscribe(domain_events.CALL_HUNGUP, broken)

    assert published.kinds() == ["call.hungup"]


def test_events_of_a_rolled_back_transaction_are_never_published(
    node, published, django_capture_on_commit_callbacks
):
    from apps.telephony import listener
    from tests.telephony.conftest import captured_events

    create = next(e for e in captured_events("d1_bridge_plain") if e.name == "CHANNEL_CREATE")

    def fail_after_writing() -> None:
        with transaction.atomic():
            listener.process_batch([create], node=node)
            raise RuntimeError("the surrounding work failed")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError, match="the surrounding work failed"),
    ):
        fail_after_writing()

    assert callbacks == []
    assert published.events == []
    assert Call.objects.count() == 0


def _agent_leg_events(uuid: str, extension: str) -> list[Event]:
    """A leg originated to user/<extension> ringing then answered (headers as FreeSWITCH's)."""
    base = {
        "Core-UUID": "core-1",
        "Unique-ID": uuid,
        "Channel-Call-UUID": uuid,
        "Call-Direction": "outbound",
        "Channel-Name": f"sofia/internal/{extension}@127.0.0.1",
        "Caller-Caller-ID-Number": "4001",
        "Caller-Destination-Number": extension,
        "Caller-Channel-Created-Time": "1795306099118504",
        "variable_direction": "outbound",
        "variable_uuid": uuid,
        "variable_dialed_user": extension,
    }
    return [
        Event(
            {
                **base,
                "Event-Name": "CHANNEL_CREATE",
                "Event-Sequence": "10",
                "Event-Date-Timestamp": "1795306099118504",
            }
        ),
        Event(
            {
                **base,
                "Event-Name": "CHANNEL_PROGRESS",
                "Event-Sequence": "11",
                "Event-Date-Timestamp": "1795306099218504",
            }
        ),
    ]


def test_an_agents_leg_is_pushed_to_the_agents_consoles_after_commit(node, role_groups, replay):
    # Given agent 3001 with a console open (a channel in their group)
    agent = AgentFactory(extension="3001")
    layer = get_channel_layer()
    agent_channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(realtime.agent_group(agent.pk), agent_channel)

    # When FreeSWITCH rings the agent's phone
    replay("", node, events=_agent_leg_events("leg-3001", "3001"))

    # Then the console hears that the leg rings, with the leg's identity
    message = async_to_sync(layer.receive)(agent_channel)
    assert message["type"] == "broadcast"
    assert message["message"] == {
        "type": "call.ringing",
        "call_id": Call.objects.get(uuid="leg-3001").pk,
        "call_uuid": "leg-3001",
        "leg_uuid": "leg-3001",
        "leg_role": "agent",
        "agent_id": agent.pk,
        "occurred_at": "2026-11-22T00:08:19.218504+00:00",
    }


def test_legs_without_an_agent_are_pushed_to_nobody(node, role_groups, replay, monkeypatch):
    from apps.telephony import ledger

    sent: list = []
    monkeypatch.setattr(ledger, "send_pushes", sent.extend)

    replay("d1_bridge_plain", node)

    assert sent == []
    assert CallLeg.objects.count() == 2


def test_every_fact_of_an_agents_leg_reaches_the_console_even_across_batches(
    node, role_groups, replay, monkeypatch
):
    # Given agent 3002, and pushes captured instead of sent
    from apps.telephony import ledger

    agent = AgentFactory(extension="3002")
    sent: list = []
    monkeypatch.setattr(ledger, "send_pushes", sent.extend)
    common = {"Core-UUID": "core-1", "Event-Date-Timestamp": "1795306099118504"}
    caller = {
        **common,
        "Unique-ID": "caller-1",
        "Channel-Call-UUID": "caller-1",
        "Call-Direction": "inbound",
        "Caller-Caller-ID-Number": "5550001",
        "Caller-Destination-Number": "4001",
        "variable_uuid": "caller-1",
    }
    agent_leg = {
        **common,
        "Unique-ID": "agent-1",
        "Channel-Call-UUID": "caller-1",
        "Call-Direction": "outbound",
        "Caller-Destination-Number": "3002",
        "variable_uuid": "agent-1",
        "variable_dialed_user": "3002",
        "variable_originating_leg_uuid": "caller-1",
    }
    events = [
        Event({**caller, "Event-Name": "CHANNEL_CREATE", "Event-Sequence": "1"}),
        Event({**agent_leg, "Event-Name": "CHANNEL_CREATE", "Event-Sequence": "2"}),
        Event({**agent_leg, "Event-Name": "CHANNEL_ANSWER", "Event-Sequence": "3"}),
        Event(
            {
                **caller,
                "Event-Name": "CHANNEL_BRIDGE",
                "Event-Sequence": "4",
                "Bridge-A-Unique-ID": "caller-1",
                "Bridge-B-Unique-ID": "agent-1",
            }
        ),
        Event(
            {
                **agent_leg,
                "Event-Name": "CHANNEL_HANGUP_COMPLETE",
                "Event-Sequence": "5",
                "Hangup-Cause": "NORMAL_CLEARING",
            }
        ),
    ]

    # When each event is its own batch (as when calls last longer than a batch)
    replay("", node, events=events)

    # Then the agent's console got answered, bridged (reported on the caller's leg), hung up
    assert [(group, kind, payload["leg_uuid"]) for group, kind, payload in sent] == [
        (realtime.agent_group(agent.pk), "call.answered", "agent-1"),
        (realtime.agent_group(agent.pk), "call.bridged", "caller-1"),
        (realtime.agent_group(agent.pk), "call.hungup", "agent-1"),
    ]
    assert sent[1][2]["other_leg_uuid"] == "agent-1"


# ------------------------------------------------------------------- lanes (the event process)


class Gate:
    """A handler that blocks its lane until opened, recording what it saw."""

    def __init__(self) -> None:
        self.open = gevent.event.Event()
        self.seen: list[str | None] = []

    def __call__(self, event: CallEvent) -> None:
        self.open.wait(10)
        self.seen.append(event.call_uuid)


def _calls(*uuids: str, kind: str = domain_events.CALL_HUNGUP) -> list[CallEvent]:
    return [CallEvent(kind=kind, node="fs1", occurred_at=AT, call_uuid=uuid) for uuid in uuids]


@pytest.fixture
def lanes():
    created: list[domain_events.Lanes] = []

    def make(**options) -> domain_events.Lanes:
        created.append(domain_events.Lanes(**options))
        return created[-1]

    yield make
    for each in created:
        each.stop(timeout=5)


def test_a_slow_subscribers_backlog_does_not_delay_another_lanes_delivery(lanes):
    # Given a routing-like subscriber with a backlog of 120 events, then a console-like event
    delivered: list[tuple[str, str | None]] = []
    domain_events.subscribe(
        domain_events.CALL_HUNGUP, lambda e: delivered.append(("slow", e.call_uuid)), lane="slow"
    )
    domain_events.subscribe(
        domain_events.CALL_RINGING, lambda e: delivered.append(("fast", e.call_uuid)), lane="fast"
    )
    announcer = lanes(shards=1)

    # When a batch of 120 hangups is published, then a batch with a ringing leg
    announcer.submit(_calls(*(f"c{n}" for n in range(120))))
    announcer.submit(_calls("r1", kind=domain_events.CALL_RINGING))

    # Then the ringing leg is delivered among the first hangups, not after all of them
    assert announcer.wait_idle(5)
    assert ("fast", "r1") in delivered[:3]
    assert [uuid for lane, uuid in delivered if lane == "slow"] == [f"c{n}" for n in range(120)]
    assert announcer.is_idle


def test_a_lane_waiting_on_its_round_trips_does_not_hold_up_another_lane(lanes):
    # Given a lane whose handler is stuck waiting (as on a slow database or Redis round trip)
    stuck = Gate()
    domain_events.subscribe(domain_events.CALL_HUNGUP, stuck, lane="routing")
    delivered: list[str | None] = []
    domain_events.subscribe(
        domain_events.CALL_RINGING, lambda e: delivered.append(e.call_uuid), lane="agent"
    )
    announcer = lanes(shards=1)

    # When hangups are published, then two ringing legs
    announcer.submit(_calls(*(f"c{n}" for n in range(30))))
    announcer.submit(_calls("r1", "r2", kind=domain_events.CALL_RINGING))
    gevent.sleep(0.05)

    # Then both ringing legs are delivered while the other lane still waits on its first event,
    # and once it goes on, it gets every event in order
    assert delivered == ["r1", "r2"]
    assert stuck.seen == []
    stuck.open.set()
    assert announcer.wait_idle(5)
    assert stuck.seen == [f"c{n}" for n in range(30)]


def test_a_lane_keeps_commit_order_and_goes_on_after_a_failing_handler(lanes):
    # Given a lane with a handler that fails on some events, then one that records
    seen: list[str | None] = []

    def broken(event: CallEvent) -> None:
        if event.call_uuid in {"c2", "c5"}:
            raise RuntimeError("subscriber bug")

    domain_events.subscribe(domain_events.CALL_HUNGUP, broken, lane="routing")
    domain_events.subscribe("*", lambda e: seen.append(e.call_uuid), lane="routing")
    announcer = lanes(shards=1)

    # When batches are published while the lane is busy with earlier ones
    for start in range(0, 60, 6):
        announcer.submit(_calls(*(f"c{n}" for n in range(start, start + 6))))

    # Then every event reached the lane's handlers in order, the failures counted
    assert announcer.wait_idle(5)
    assert seen == [f"c{n}" for n in range(60)]
    stats = announcer.lane("routing").stats
    assert (stats.delivered, stats.failed) == (60, 2)


def test_each_lane_gets_only_its_subscribers_kinds(lanes):
    parked: list[str | None] = []
    hungup: list[str | None] = []
    domain_events.subscribe(
        domain_events.CALL_PARKED, lambda e: parked.append(e.call_uuid), lane="a"
    )
    domain_events.subscribe(
        domain_events.CALL_HUNGUP, lambda e: hungup.append(e.call_uuid), lane="b"
    )
    announcer = lanes()

    announcer.submit(
        [
            *_calls("p1", kind=domain_events.CALL_PARKED),
            *_calls("h1"),
            *_calls("x", kind="call.dtmf"),
        ]
    )

    assert announcer.wait_idle(5)
    assert (parked, hungup) == (["p1"], ["h1"])
    assert set(announcer.lanes) == {"a", "b"}


def test_a_lane_keeps_each_calls_order_and_a_stuck_call_holds_up_no_other_call(lanes):
    # Given a lane whose handler gets stuck on call "a" until opened
    gate = gevent.event.Event()
    seen: list[tuple[str | None, str]] = []

    def handler(event: CallEvent) -> None:
        if event.call_uuid == "a" and event.kind == domain_events.CALL_RINGING:
            gate.wait(10)
        seen.append((event.call_uuid, event.kind))

    for kind in (domain_events.CALL_RINGING, domain_events.CALL_ANSWERED):
        domain_events.subscribe(kind, handler, lane="console.agent")
    announcer = lanes(shards=8)
    calls = ["a", *(f"b{n}" for n in range(20))]

    # When each call rings, then is answered
    announcer.submit(_calls(*calls, kind=domain_events.CALL_RINGING))
    announcer.submit(_calls(*calls, kind=domain_events.CALL_ANSWERED))
    gevent.sleep(0.05)

    # Then calls that share no shard with "a" went on, and "a" waits in order
    assert ("a", domain_events.CALL_ANSWERED) not in seen
    assert len({uuid for uuid, _ in seen}) >= 10
    gate.set()
    assert announcer.wait_idle(5)
    for uuid in calls:
        assert [kind for call, kind in seen if call == uuid] == [
            domain_events.CALL_RINGING,
            domain_events.CALL_ANSWERED,
        ]


def test_a_full_lane_makes_the_publisher_wait_and_loses_nothing(lanes):
    # Given a lane bounded to 2 waiting events, stuck on its first
    slow = Gate()
    domain_events.subscribe(domain_events.CALL_HUNGUP, slow, lane="slow")
    announcer = lanes(max_pending=2, shards=1)
    announcer.submit(_calls("c1"))
    gevent.sleep(0.05)  # the lane takes c1 and blocks

    # When more events are published than the lane holds
    publisher = gevent.spawn(announcer.submit, _calls("c2", "c3", "c4", "c5"))
    gevent.sleep(0.1)

    # Then the publisher waits for room, and once the subscriber goes on nothing was dropped
    assert not publisher.dead
    assert announcer.lane("slow").stats.full_waits >= 1
    assert announcer.lane("slow").backlog == 2
    slow.open.set()
    publisher.join(5)
    assert publisher.dead
    assert announcer.wait_idle(5)
    assert slow.seen == ["c1", "c2", "c3", "c4", "c5"]


def test_a_handler_lane_defaults_to_its_app():
    from apps.console import telephony_events
    from apps.routing import telephony_gateway

    assert domain_events.lane_of(telephony_gateway.on_call_hungup) == "routing"
    assert domain_events.lane_of(telephony_events.on_leg_hungup) == "console"
