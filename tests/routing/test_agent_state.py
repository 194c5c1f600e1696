"""Agent states: what agents and supervisors may choose, the transition log, session counters."""

from __future__ import annotations

import pytest

from apps.core.errors import Conflict, InvalidInput
from apps.routing import router, services
from apps.routing.models import AgentPresence, AgentStateChange, Offer, WaitingCall
from tests.routing.conftest import at, queued_router_events, state_of

pytestmark = pytest.mark.django_db


def _log(agent) -> list[tuple[str, str, str]]:
    return list(
        AgentStateChange.objects.filter(agent=agent)
        .order_by("at", "pk")
        .values_list("from_state", "to_state", "reason")
    )


def test_a_new_agent_starts_offline(make_agent):
    agent = make_agent()

    assert state_of(agent) == ("offline", "")


def test_every_transition_is_logged_with_time_spent_in_the_previous_state(make_agent, cast):
    agent = make_agent()

    services.agent_set_state(agent=agent, state="available", now=at(0))
    services.agent_set_state(
        agent=agent, state="not_ready", reason="break", now=at(90), actor=cast.supervisor_a
    )
    services.agent_set_state(agent=agent, state="offline", now=at(390))

    changes = AgentStateChange.objects.filter(agent=agent).order_by("at")
    assert [
        (c.from_state, c.to_state, c.reason, c.previous_state_seconds, c.at) for c in changes
    ] == [
        ("offline", "available", "", 3600.0, at(0)),
        ("available", "not_ready", "break", 90.0, at(90)),
        ("not_ready", "offline", "", 300.0, at(390)),
    ]
    assert changes[1].actor == cast.supervisor_a


def test_not_ready_needs_one_of_the_chosen_reasons(make_agent):
    agent = make_agent(available_at=0)

    with pytest.raises(InvalidInput):
        services.agent_set_state(agent=agent, state="not_ready", now=at(1))
    with pytest.raises(InvalidInput):
        services.agent_set_state(agent=agent, state="not_ready", reason="missed_call", now=at(1))

    assert state_of(agent) == ("available", "")


def test_router_states_cannot_be_chosen(make_agent):
    agent = make_agent(available_at=0)

    for state in ("reserved", "on_call", "wrap_up"):
        with pytest.raises(InvalidInput):
            services.agent_set_state(agent=agent, state=state, now=at(1))

    assert state_of(agent) == ("available", "")


def test_an_inactive_agent_cannot_become_available(make_agent):
    agent = make_agent()
    agent.is_active = False
    agent.save()

    with pytest.raises(Conflict):
        services.agent_set_state(agent=agent, state="available", now=at(0))

    assert state_of(agent) == ("offline", "")


def test_choosing_the_current_state_again_changes_nothing(make_agent):
    agent = make_agent(available_at=0)

    services.agent_set_state(agent=agent, state="available", now=at(50))

    assert _log(agent) == [("offline", "available", "")]
    assert AgentPresence.objects.get(agent=agent).idle_since == at(0)


def test_state_cannot_change_during_a_call(make_agent, make_queue, park):
    agent = make_agent(available_at=0)
    make_queue()
    waiting_call = park()
    reservation = router.route_call(waiting_call.pk, now=at(1))
    services.call_leg_answered(leg_uuid=str(reservation.agent_leg_uuid), now=at(3))

    with pytest.raises(Conflict):
        services.agent_set_state(agent=agent, state="offline", now=at(5))

    assert state_of(agent) == ("on_call", "")


def test_going_not_ready_while_ringing_declines_the_offer_and_the_call_keeps_its_place(
    make_agent, make_queue, park
):
    agent = make_agent(available_at=0)
    make_queue()
    waiting_call = park(at_seconds=1)
    router.route_call(waiting_call.pk, now=at(2))

    services.agent_set_state(agent=agent, state="not_ready", reason="lunch", now=at(4))

    waiting_call.refresh_from_db()
    assert state_of(agent) == ("not_ready", "lunch")
    assert (waiting_call.state, waiting_call.offered_agent_id) == ("waiting", None)
    assert waiting_call.enqueued_at == at(1)
    assert list(Offer.objects.values_list("status", flat=True)) == ["declined"]


def test_available_while_ringing_is_refused(make_agent, make_queue, park):
    agent = make_agent(available_at=0)
    make_queue()
    router.route_call(park().pk, now=at(1))

    with pytest.raises(Conflict):
        services.agent_set_state(agent=agent, state="available", now=at(2))

    assert state_of(agent) == ("reserved", "")


def test_wrap_up_ends_by_itself_after_the_queue_wrap_up_time(make_agent, make_queue, park):
    agent = make_agent(available_at=0)
    make_queue(wrap_up_seconds=30)
    waiting_call = park()
    reservation = router.route_call(waiting_call.pk, now=at(1))
    services.call_leg_answered(leg_uuid=str(reservation.agent_leg_uuid), now=at(3))
    services.call_leg_hungup(leg_uuid=waiting_call.call_uuid, now=at(63))

    assert services.wrap_up_finish_due(now=at(92)) == []
    assert state_of(agent) == ("wrap_up", "")
    assert services.wrap_up_finish_due(now=at(93)) == [agent.pk]
    assert state_of(agent) == ("available", "")
    presence = AgentPresence.objects.get(agent=agent)
    assert presence.idle_since == at(93)
    assert presence.calls_handled == 1


def test_an_agent_may_end_their_wrap_up_early(make_agent, make_queue, park):
    agent = make_agent(available_at=0)
    make_queue(wrap_up_seconds=30)
    waiting_call = park()
    reservation = router.route_call(waiting_call.pk, now=at(1))
    services.call_leg_answered(leg_uuid=str(reservation.agent_leg_uuid), now=at(3))
    services.call_leg_hungup(leg_uuid=waiting_call.call_uuid, now=at(10))

    services.agent_set_state(agent=agent, state="available", now=at(12))

    assert state_of(agent) == ("available", "")


def test_occupied_time_counts_ringing_talking_and_wrap_up_and_resets_at_login(
    make_agent, make_queue, park
):
    agent = make_agent(available_at=0)
    make_queue(wrap_up_seconds=20)
    waiting_call = park()
    reservation = router.route_call(waiting_call.pk, now=at(10))
    services.call_leg_answered(leg_uuid=str(reservation.agent_leg_uuid), now=at(15))
    services.call_leg_hungup(leg_uuid=waiting_call.call_uuid, now=at(75))
    services.wrap_up_finish_due(now=at(95))

    presence = AgentPresence.objects.get(agent=agent)
    assert presence.occupied_seconds == 85.0
    assert presence.session_started_at == at(0)

    services.agent_set_state(agent=agent, state="offline", now=at(100))
    services.agent_set_state(agent=agent, state="available", now=at(200))
    presence.refresh_from_db()
    assert (presence.occupied_seconds, presence.calls_handled) == (0.0, 0)
    assert presence.session_started_at == at(200)


def test_an_unregistered_endpoint_logs_the_agent_out_and_returns_their_ringing_call(
    make_agent, make_queue, park
):
    agent = make_agent(available_at=0)
    make_queue()
    waiting_call = park()
    router.route_call(waiting_call.pk, now=at(1))

    services.agent_endpoint_lost(agent_id=agent.pk, now=at(3))

    waiting_call.refresh_from_db()
    assert state_of(agent) == ("offline", "")
    assert waiting_call.state == "waiting"
    assert list(Offer.objects.values_list("status", flat=True)) == ["cancelled"]
    assert WaitingCall.objects.filter(offered_agent=agent).count() == 0


def test_becoming_available_asks_the_router_for_a_call_after_commit(
    make_agent, enqueued, django_capture_on_commit_callbacks
):
    agent = make_agent()

    with django_capture_on_commit_callbacks(execute=True):
        services.agent_set_state(agent=agent, state="available", now=at(0))
    with django_capture_on_commit_callbacks(execute=True):
        services.agent_set_state(agent=agent, state="not_ready", reason="break", now=at(5))

    assert queued_router_events() == [("agent", agent.pk)]
    assert enqueued.tasks == []
