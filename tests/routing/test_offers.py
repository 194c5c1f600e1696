"""Offers: ringing the agent, bridging on answer, RONA, and the end of the conversation."""

from __future__ import annotations

import pytest

from apps.routing import router, services, telephony_gateway
from apps.routing.models import AgentPresence, AgentStateChange, Offer, WaitingCall
from apps.telephony.models import CallCommand
from tests.routing.conftest import at, commands, state_of

pytestmark = pytest.mark.django_db


def test_an_offer_reserves_the_agent_and_asks_telephony_to_ring_their_endpoint(
    make_agent, make_queue, park, skills
):
    make_queue(requires={skills["sales"]: 1}, ring_timeout_seconds=15)
    agent = make_agent({skills["sales"]: 5}, available_at=0)
    waiting_call = park(at_seconds=5, caller_number="+8613800000000")

    reservation = router.route_call(waiting_call.pk, now=at(6))

    waiting_call.refresh_from_db()
    offer = Offer.objects.get()
    assert (waiting_call.state, waiting_call.offered_agent_id, waiting_call.offer_count) == (
        "offered",
        agent.pk,
        1,
    )
    assert (offer.status, offer.agent_id, offer.ring_deadline) == ("ringing", agent.pk, at(21))
    assert state_of(agent) == ("reserved", "")
    key = f"routing:offer:{offer.token}:agent"
    assert commands() == [("originate", key)]
    command = CallCommand.objects.get()
    assert command.call_id == waiting_call.telephony_call_id
    assert command.requester == "routing"
    assert command.params == {
        "destination": f"user/{agent.extension}@127.0.0.1",
        "application": "park",
        "timeout": 15,
        "agent_id": agent.pk,
        "role": "agent",
        "caller_id_number": "+8613800000000",
        "caller_id_name": "+8613800000000",
        "variables": {"cc_offer": str(offer.token)},
    }
    assert offer.agent_leg_uuid == reservation.agent_leg_uuid
    assert offer.agent_leg_uuid == telephony_gateway.agent_leg_uuid(offer.token)
    assert AgentStateChange.objects.filter(to_state="reserved").values_list(
        "agent_id", "from_state", "at", "previous_state_seconds", "waiting_call_id"
    ).get() == (agent.pk, "available", at(6), 6.0, waiting_call.pk)


def test_the_agent_answering_bridges_the_caller_and_puts_the_agent_on_call(
    make_agent, make_queue, park
):
    make_queue()
    agent = make_agent(available_at=0)
    waiting_call = park(at_seconds=5)
    reservation = router.route_call(waiting_call.pk, now=at(6))

    services.call_leg_answered(leg_uuid=str(reservation.agent_leg_uuid), now=at(9))

    waiting_call.refresh_from_db()
    assert (waiting_call.state, waiting_call.connected_at) == ("connected", at(9))
    assert Offer.objects.get().status == "answered"
    assert state_of(agent) == ("on_call", "")
    bridge = CallCommand.objects.get(kind="bridge")
    assert bridge.params == {
        "uuid": waiting_call.call_uuid,
        "other_uuid": str(reservation.agent_leg_uuid),
    }


def test_the_answer_event_twice_bridges_once(make_agent, make_queue, park):
    make_queue()
    make_agent(available_at=0)
    waiting_call = park(at_seconds=5)
    reservation = router.route_call(waiting_call.pk, now=at(6))

    services.call_leg_answered(leg_uuid=str(reservation.agent_leg_uuid), now=at(9))
    services.call_leg_answered(leg_uuid=str(reservation.agent_leg_uuid), now=at(9))

    assert [kind for kind, _key in commands()] == ["originate", "bridge"]


def test_rona_marks_the_agent_not_ready_missed_call_and_returns_the_call_to_the_head_of_line(
    make_agent, make_queue, park, skills
):
    make_queue(requires={skills["sales"]: 1})
    slow = make_agent({skills["sales"]: 5}, available_at=0)
    first = park(at_seconds=10)
    park(at_seconds=20)
    reservation = router.route_call(first.pk, now=at(11))

    services.offer_ring_failed(token=reservation.token, now=at(31))

    first.refresh_from_db()
    assert state_of(slow) == ("not_ready", "missed_call")
    assert AgentPresence.objects.get(agent=slow).missed_calls == 1
    assert (first.state, first.offered_agent_id, first.enqueued_at) == ("waiting", None, at(10))
    assert Offer.objects.get().status == "missed"
    # The next agent takes the returned call before the one that arrived after it.
    next_agent = make_agent({skills["sales"]: 5}, available_at=32)
    assert router.route_agent(next_agent.pk, now=at(32)).waiting_call_id == first.pk
    assert WaitingCall.objects.get(pk=first.pk).offer_count == 2


def test_rona_by_the_sweep_when_the_failure_event_is_lost_also_stops_the_ringing(
    make_agent, make_queue, park, settings
):
    settings.ROUTING_RONA_GRACE_SECONDS = 3
    make_queue(ring_timeout_seconds=20)
    agent = make_agent(available_at=0)
    waiting_call = park(at_seconds=5)
    reservation = router.route_call(waiting_call.pk, now=at(6))

    assert services.offers_expire_due(now=at(28)) == 0
    assert services.offers_expire_due(now=at(29)) == 1

    assert state_of(agent) == ("not_ready", "missed_call")
    assert commands()[-1] == ("hangup", f"routing:offer:{reservation.token}:hangup-agent")
    assert CallCommand.objects.get(kind="hangup").params == {
        "uuid": str(reservation.agent_leg_uuid),
        "cause": "ORIGINATOR_CANCEL",
    }


def test_the_agent_rejecting_the_call_is_a_rona(make_agent, make_queue, park):
    make_queue()
    agent = make_agent(available_at=0)
    waiting_call = park(at_seconds=5)
    reservation = router.route_call(waiting_call.pk, now=at(6))

    services.call_leg_hungup(leg_uuid=str(reservation.agent_leg_uuid), now=at(8))

    waiting_call.refresh_from_db()
    assert state_of(agent) == ("not_ready", "missed_call")
    assert waiting_call.state == "waiting"


def test_a_late_failure_after_the_answer_changes_nothing(make_agent, make_queue, park):
    make_queue()
    agent = make_agent(available_at=0)
    waiting_call = park(at_seconds=5)
    reservation = router.route_call(waiting_call.pk, now=at(6))
    services.call_leg_answered(leg_uuid=str(reservation.agent_leg_uuid), now=at(9))

    services.offer_ring_failed(token=reservation.token, now=at(10))

    waiting_call.refresh_from_db()
    assert waiting_call.state == "connected"
    assert state_of(agent) == ("on_call", "")


def test_the_caller_hanging_up_during_the_conversation_completes_the_call_and_starts_wrap_up(
    make_agent, make_queue, park
):
    make_queue(wrap_up_seconds=30)
    agent = make_agent(available_at=0)
    waiting_call = park(at_seconds=5)
    reservation = router.route_call(waiting_call.pk, now=at(6))
    services.call_leg_answered(leg_uuid=str(reservation.agent_leg_uuid), now=at(9))

    services.call_leg_hungup(leg_uuid=waiting_call.call_uuid, now=at(120))
    services.call_leg_hungup(leg_uuid=str(reservation.agent_leg_uuid), now=at(120))

    waiting_call.refresh_from_db()
    presence = AgentPresence.objects.get(agent=agent)
    assert (waiting_call.state, waiting_call.outcome, waiting_call.ended_at) == (
        "completed",
        "answered",
        at(120),
    )
    assert (presence.state, presence.wrap_up_until, presence.calls_handled) == (
        "wrap_up",
        at(150),
        1,
    )


def test_the_agent_hanging_up_first_also_completes_the_call(make_agent, make_queue, park):
    make_queue(wrap_up_seconds=0)
    agent = make_agent(available_at=0)
    waiting_call = park(at_seconds=5)
    reservation = router.route_call(waiting_call.pk, now=at(6))
    services.call_leg_answered(leg_uuid=str(reservation.agent_leg_uuid), now=at(9))

    services.call_leg_hungup(leg_uuid=str(reservation.agent_leg_uuid), now=at(100))

    waiting_call.refresh_from_db()
    assert waiting_call.state == "completed"
    assert state_of(agent) == ("available", "")
