"""Domain events reach subscribers after commit only, and agents' browsers get their legs' news."""

from __future__ import annotations

from datetime import UTC, datetime

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
