"""Abandoned calls: removed from the line and counted, short abandons apart."""

from __future__ import annotations

import pytest

from apps.routing import router, services
from apps.routing.models import Offer, WaitingCall
from apps.routing.selectors import queue_stats
from tests.routing.conftest import at, commands, state_of

pytestmark = pytest.mark.django_db


def test_a_caller_hanging_up_while_waiting_leaves_the_line_as_abandoned(make_queue, park):
    queue = make_queue(short_abandon_seconds=5)
    waiting_call = park(at_seconds=0)

    services.call_leg_hungup(leg_uuid=waiting_call.call_uuid, now=at(40))

    waiting_call.refresh_from_db()
    assert (waiting_call.state, waiting_call.outcome, waiting_call.is_short_abandon) == (
        "abandoned",
        "abandoned",
        False,
    )
    assert waiting_call.ended_at == at(40)
    stats = queue_stats(queue=queue, now=at(41))
    assert (stats["waiting"], stats["abandoned_today"], stats["short_abandoned_today"]) == (
        0,
        1,
        0,
    )


def test_hanging_up_before_the_threshold_is_a_short_abandon(make_queue, park):
    queue = make_queue(short_abandon_seconds=5)
    waiting_call = park(at_seconds=0)

    services.call_leg_hungup(leg_uuid=waiting_call.call_uuid, now=at(4.9))

    waiting_call.refresh_from_db()
    assert (waiting_call.outcome, waiting_call.is_short_abandon) == ("short_abandon", True)
    stats = queue_stats(queue=queue, now=at(10))
    assert (stats["abandoned_today"], stats["short_abandoned_today"]) == (0, 1)


def test_an_abandoned_call_is_never_offered(make_agent, make_queue, park):
    make_queue()
    waiting_call = park(at_seconds=0)
    services.call_leg_hungup(leg_uuid=waiting_call.call_uuid, now=at(3))
    agent = make_agent(available_at=10)

    assert router.route_call(waiting_call.pk, now=at(10)) is None
    assert router.route_agent(agent.pk, now=at(10)) is None
    assert state_of(agent) == ("available", "")


def test_abandoning_while_the_agent_rings_frees_the_agent_and_stops_their_phone(
    make_agent, make_queue, park
):
    make_queue()
    agent = make_agent(available_at=0)
    waiting_call = park(at_seconds=5)
    reservation = router.route_call(waiting_call.pk, now=at(6))

    services.call_leg_hungup(leg_uuid=waiting_call.call_uuid, now=at(10))

    waiting_call.refresh_from_db()
    assert waiting_call.state == "abandoned"
    assert Offer.objects.get().status == "cancelled"
    assert state_of(agent) == ("available", "")
    assert commands() == [
        ("originate", f"routing:offer:{reservation.token}:agent"),
        ("hangup", f"routing:offer:{reservation.token}:hangup-agent"),
    ]


def test_the_hangup_event_twice_counts_one_abandon(make_queue, park):
    make_queue()
    waiting_call = park(at_seconds=0)

    services.call_leg_hungup(leg_uuid=waiting_call.call_uuid, now=at(30))
    services.call_leg_hungup(leg_uuid=waiting_call.call_uuid, now=at(31))

    assert WaitingCall.objects.get().ended_at == at(30)
    assert WaitingCall.objects.filter(state="abandoned").count() == 1
