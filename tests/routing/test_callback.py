"""Virtual hold: a caller who accepts a callback keeps their place; when their turn comes an agent
is reserved first, then the customer is dialled."""

from __future__ import annotations

import pytest

from apps.core.errors import Conflict
from apps.routing import router, services, telephony_gateway
from apps.routing.models import OverflowRule, WaitingCall
from apps.telephony.models import CallCommand
from tests.routing.conftest import at, commands, state_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def callback_queue(make_queue):
    queue = make_queue(wrap_up_seconds=0, callback_max_attempts=2)
    OverflowRule.objects.create(
        queue=queue, position=1, after_seconds=60, action="callback", target="ivr/press-1.wav"
    )
    return queue


def _accept(park, *, at_seconds: float = 0) -> WaitingCall:
    waiting_call = park(at_seconds=at_seconds, caller_number="5550199")
    services.overflow_apply_due(now=at(at_seconds + 60))
    services.waiting_call_dtmf(call_uuid=waiting_call.call_uuid, digit="1", now=at(at_seconds + 65))
    waiting_call.refresh_from_db()
    return waiting_call


def test_the_callback_rule_plays_the_offer_to_the_caller(callback_queue, park):
    waiting_call = park(at_seconds=0)

    services.overflow_apply_due(now=at(60))

    waiting_call.refresh_from_db()
    assert waiting_call.callback_offered_at == at(60)
    assert commands() == [("broadcast", f"routing:call:{waiting_call.pk}:callback-offer")]
    assert CallCommand.objects.get().params == {
        "uuid": waiting_call.call_uuid,
        "path": "ivr/press-1.wav",
        "leg": "aleg",
    }


def test_pressing_1_turns_the_caller_into_a_callback_that_keeps_its_place(
    callback_queue, park, make_agent
):
    earlier = park(at_seconds=-10)
    waiting_call = _accept(park)
    later = park(at_seconds=30)

    assert (waiting_call.state, waiting_call.is_callback) == ("callback", True)
    assert (waiting_call.callback_number, waiting_call.rank_at) == ("5550199", at(0))
    assert commands()[-1] == ("transfer", f"routing:call:{waiting_call.pk}:exit")
    # The caller then hangs up: not an abandon.
    services.call_leg_hungup(leg_uuid=waiting_call.call_uuid, now=at(70))
    waiting_call.refresh_from_db()
    assert waiting_call.state == "callback"
    taken = [
        router.route_agent(make_agent(available_at=80 + turn).pk, now=at(80 + turn)).waiting_call_id
        for turn in range(3)
    ]
    assert taken == [earlier.pk, waiting_call.pk, later.pk]


def test_other_keys_do_nothing(callback_queue, park):
    waiting_call = park(at_seconds=0)
    services.overflow_apply_due(now=at(60))

    services.waiting_call_dtmf(call_uuid=waiting_call.call_uuid, digit="2", now=at(62))

    waiting_call.refresh_from_db()
    assert waiting_call.state == "waiting"


def test_pressing_1_without_an_offer_does_nothing(callback_queue, park):
    waiting_call = park(at_seconds=0)

    services.waiting_call_dtmf(call_uuid=waiting_call.call_uuid, digit="1", now=at(5))

    waiting_call.refresh_from_db()
    assert waiting_call.state == "waiting"


def test_a_callback_on_its_turn_reserves_the_agent_first_then_dials_the_customer(
    callback_queue, park, make_agent
):
    waiting_call = _accept(park)
    agent = make_agent(available_at=100)

    reservation = router.route_agent(agent.pk, now=at(100))
    assert reservation.is_callback
    assert state_of(agent) == ("reserved", "")
    assert commands()[-1] == ("originate", f"routing:offer:{reservation.token}:agent")

    services.call_leg_answered(leg_uuid=str(reservation.agent_leg_uuid), now=at(104))

    customer_leg = telephony_gateway.customer_leg_uuid(reservation.token)
    dial = CallCommand.objects.get(idempotency_key=f"routing:offer:{reservation.token}:customer")
    assert dial.params == {
        "destination": "loopback/5550199/default",
        "application": "park",
        "timeout": 30,
        "role": "callee",
        "variables": {"cc_offer": str(reservation.token)},
    }
    assert state_of(agent) == ("on_call", "")
    waiting_call.refresh_from_db()
    assert (waiting_call.state, waiting_call.callback_attempts) == ("offered", 1)

    services.call_leg_answered(leg_uuid=str(customer_leg), now=at(110))

    waiting_call.refresh_from_db()
    assert waiting_call.state == "connected"
    assert CallCommand.objects.get(kind="bridge").params == {
        "uuid": str(customer_leg),
        "other_uuid": str(reservation.agent_leg_uuid),
    }


def test_an_unanswered_callback_frees_the_agent_and_is_retried_later_then_given_up(
    callback_queue, park, make_agent, settings
):
    settings.ROUTING_CALLBACK_RETRY_SECONDS = 120
    waiting_call = _accept(park)
    agent = make_agent(available_at=100)

    reservation = router.route_agent(agent.pk, now=at(100))
    services.call_leg_answered(leg_uuid=str(reservation.agent_leg_uuid), now=at(104))
    services.callback_dial_failed(token=reservation.token, now=at(134))

    waiting_call.refresh_from_db()
    assert (waiting_call.state, waiting_call.route_after) == ("callback", at(254))
    assert state_of(agent) == ("available", "")
    assert commands()[-1] == ("hangup", f"routing:offer:{reservation.token}:hangup-agent")
    assert router.route_agent(agent.pk, now=at(253)) is None

    second = router.route_agent(agent.pk, now=at(254))
    services.call_leg_answered(leg_uuid=str(second.agent_leg_uuid), now=at(256))
    services.call_leg_hungup(
        leg_uuid=str(telephony_gateway.customer_leg_uuid(second.token)), now=at(286)
    )

    waiting_call.refresh_from_db()
    assert (waiting_call.state, waiting_call.outcome, waiting_call.callback_attempts) == (
        "failed",
        "callback_failed",
        2,
    )
    assert state_of(agent) == ("available", "")


def test_only_a_waiting_caller_may_ask_for_a_callback(callback_queue, park, make_agent):
    waiting_call = park(at_seconds=0)
    agent = make_agent(available_at=1)
    router.route_agent(agent.pk, now=at(1))

    with pytest.raises(Conflict):
        services.waiting_call_accept_callback(waiting_call=waiting_call, now=at(2))

    waiting_call.refresh_from_db()
    assert waiting_call.state == "offered"
