"""Agent selection: who gets a call when several qualified agents are available (per strategy)."""

from __future__ import annotations

import pytest

from apps.routing import router, services
from apps.routing.models import AgentPresence, Queue, WaitingCall
from tests.factories import TeamFactory
from tests.routing.conftest import at, state_of

pytestmark = pytest.mark.django_db


def _offered_to(waiting_call: WaitingCall, now: float):
    reservation = router.route_call(waiting_call.pk, now=at(now))
    return None if reservation is None else reservation.agent_id


def _serve_and_release(reservation, waiting_call: WaitingCall, *, answered: float, ended: float):
    services.call_leg_answered(leg_uuid=str(reservation.agent_leg_uuid), now=at(answered))
    services.call_leg_hungup(leg_uuid=waiting_call.call_uuid, now=at(ended))


def test_longest_idle_gives_the_call_to_the_agent_available_the_longest(
    make_agent, make_queue, park, skills
):
    make_queue(requires={skills["sales"]: 3}, strategy="longest_idle")
    make_agent({skills["sales"]: 9}, available_at=30)
    earliest = make_agent({skills["sales"]: 3}, available_at=10)
    make_agent({skills["sales"]: 5}, available_at=20)

    assert _offered_to(park(at_seconds=40), now=41) == earliest.pk
    assert state_of(earliest) == ("reserved", "")


def test_best_skill_prefers_the_highest_level_then_the_longest_idle(
    make_agent, make_queue, park, skills
):
    make_queue(requires={skills["sales"]: 3}, strategy="best_skill")
    make_agent({skills["sales"]: 5}, available_at=1)
    make_agent({skills["sales"]: 9}, available_at=20)
    best_and_longest = make_agent({skills["sales"]: 9}, available_at=10)

    assert _offered_to(park(at_seconds=40), now=41) == best_and_longest.pk


def test_best_skill_sums_the_levels_of_every_skill_the_call_needs(
    make_agent, make_queue, park, skills
):
    make_queue(requires={skills["sales"]: 1}, strategy="best_skill")
    make_agent({skills["sales"]: 9, skills["english"]: 2}, available_at=1)
    balanced = make_agent({skills["sales"]: 6, skills["english"]: 8}, available_at=5)

    waiting_call = park(at_seconds=10, language="en")

    assert _offered_to(waiting_call, now=11) == balanced.pk


def test_least_occupied_gives_the_call_to_the_agent_busy_the_smallest_share_of_their_session(
    make_agent, make_queue, park, skills
):
    make_queue(requires={skills["sales"]: 1}, strategy="least_occupied")
    busy = make_agent({skills["sales"]: 5}, available_at=0)
    quiet = make_agent({skills["sales"]: 5}, available_at=5)
    fresh = make_agent({skills["sales"]: 5}, available_at=8)
    # Sessions and occupied time as if they had been working for a while.
    AgentPresence.objects.filter(agent=busy).update(
        session_started_at=at(-1000), occupied_seconds=800
    )
    AgentPresence.objects.filter(agent=quiet).update(
        session_started_at=at(-1000), occupied_seconds=200
    )
    AgentPresence.objects.filter(agent=fresh).update(
        session_started_at=at(-100), occupied_seconds=50
    )

    assert _offered_to(park(at_seconds=10), now=10) == quiet.pk


def test_round_robin_takes_the_agents_in_turn_and_wraps_around(
    make_agent, make_queue, park, skills
):
    make_queue(requires={skills["sales"]: 1}, strategy="round_robin", wrap_up_seconds=0)
    first, second, third = (
        make_agent({skills["sales"]: level}, available_at=idle)
        for level, idle in ((5, 30), (9, 10), (1, 20))
    )

    chosen = []
    for turn in range(4):
        waiting_call = park(at_seconds=100 * turn + 40)
        reservation = router.route_call(waiting_call.pk, now=at(100 * turn + 41))
        chosen.append(reservation.agent_id)
        _serve_and_release(
            reservation, waiting_call, answered=100 * turn + 42, ended=100 * turn + 60
        )

    assert chosen == [first.pk, second.pk, third.pk, first.pk]
    assert Queue.objects.get().round_robin_cursor == first.pk


def _previous_call(park, queue, agent, *, customer: str, at_seconds: float) -> None:
    """Record that ``agent`` served this customer before (a completed call)."""
    waiting_call = park(queue, at_seconds=at_seconds, customer_ref=customer)
    WaitingCall.objects.filter(pk=waiting_call.pk).update(
        state="completed",
        offered_agent=agent,
        connected_at=at(at_seconds + 5),
        ended_at=at(at_seconds + 60),
    )


def test_sticky_gives_the_customer_their_last_agent_rather_than_the_longest_idle(
    make_agent, make_queue, park, skills
):
    queue = make_queue(requires={skills["sales"]: 1}, strategy="sticky", sticky_window_seconds=30)
    make_agent({skills["sales"]: 5}, available_at=0)
    last_agent = make_agent({skills["sales"]: 5}, available_at=50)
    _previous_call(park, queue, last_agent, customer="42", at_seconds=-500)

    waiting_call = park(queue, at_seconds=100, customer_ref="42")

    assert waiting_call.last_agent_id == last_agent.pk
    assert waiting_call.sticky_until == at(130)
    assert _offered_to(waiting_call, now=100) == last_agent.pk


def test_sticky_waits_for_a_busy_last_agent_only_within_the_window(
    make_agent, make_queue, park, skills
):
    queue = make_queue(requires={skills["sales"]: 1}, strategy="sticky", sticky_window_seconds=30)
    other = make_agent({skills["sales"]: 5}, available_at=0)
    last_agent = make_agent({skills["sales"]: 5}, available_at=0)
    _previous_call(park, queue, last_agent, customer="42", at_seconds=-500)
    services.agent_set_state(agent=last_agent, state="not_ready", reason="break", now=at(90))

    waiting_call = park(queue, at_seconds=100, customer_ref="42")

    assert router.route_agent(other.pk, now=at(110)) is None
    assert _offered_to(waiting_call, now=129) is None
    assert _offered_to(waiting_call, now=130) == other.pk


def test_sticky_does_not_wait_for_a_last_agent_who_is_offline(make_agent, make_queue, park, skills):
    queue = make_queue(requires={skills["sales"]: 1}, strategy="sticky", sticky_window_seconds=30)
    other = make_agent({skills["sales"]: 5}, available_at=0)
    last_agent = make_agent({skills["sales"]: 5})
    _previous_call(park, queue, last_agent, customer="42", at_seconds=-500)

    waiting_call = park(queue, at_seconds=100, customer_ref="42")

    assert waiting_call.sticky_until is None
    assert _offered_to(waiting_call, now=100) == other.pk


def test_a_call_needing_two_skills_goes_only_to_an_agent_having_both(
    make_agent, make_queue, park, skills
):
    make_queue("after_sales", requires={skills["after-sales"]: 3})
    make_agent({skills["after-sales"]: 9}, available_at=0)
    make_agent({skills["vip"]: 9}, available_at=1)
    both = make_agent({skills["after-sales"]: 3, skills["vip"]: 1}, available_at=2)

    waiting_call = park("after_sales", at_seconds=10, skills="vip")

    assert _offered_to(waiting_call, now=10) == both.pk


def test_no_agent_below_the_minimum_level_or_outside_the_serving_teams_gets_the_call(
    make_agent, make_queue, park, skills
):
    make_queue(requires={skills["sales"]: 5})
    make_agent({skills["sales"]: 4}, available_at=0)
    make_agent({skills["sales"]: 9}, available_at=0, team=TeamFactory(name="Elsewhere"))
    make_agent({skills["sales"]: 9}, available_at=0, team=None)

    waiting_call = park(at_seconds=10)

    assert _offered_to(waiting_call, now=10) is None
    waiting_call.refresh_from_db()
    assert waiting_call.state == "waiting"


def test_a_queue_without_teams_is_served_by_any_team_with_the_skills(
    make_agent, make_queue, park, skills
):
    make_queue(teams=[], requires={skills["sales"]: 5})
    outsider = make_agent({skills["sales"]: 9}, available_at=0, team=None)

    assert _offered_to(park(at_seconds=10), now=10) == outsider.pk


def test_only_available_agents_are_offered_calls(make_agent, make_queue, park, skills):
    make_queue(requires={skills["sales"]: 1})
    resting = make_agent({skills["sales"]: 9}, available_at=0)
    services.agent_set_state(agent=resting, state="not_ready", reason="break", now=at(1))
    make_agent({skills["sales"]: 9})

    assert _offered_to(park(at_seconds=10), now=10) is None
