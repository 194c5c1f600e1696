"""The sweep: a lost event delays a decision by one sweep at most; time-driven work is done."""

from __future__ import annotations

import pytest

from apps.routing import router, services, sweep
from apps.routing.models import OverflowRule, WaitingCall
from tests.routing.conftest import at, state_of

pytestmark = pytest.mark.django_db


def test_calls_and_agents_whose_events_were_lost_are_paired_by_the_sweep(
    make_agent, make_queue, park, skills
):
    # Nothing routed them: the tasks that should have were lost.
    make_queue(requires={skills["sales"]: 1})
    calls = [park(at_seconds=second) for second in range(3)]
    agents = [make_agent({skills["sales"]: 5}, available_at=10 + second) for second in range(2)]

    report = sweep.run_sweep(now=at(20))

    assert report.ran
    assert report.decisions == 2
    offered = dict(
        WaitingCall.objects.filter(state="offered").values_list("pk", "offered_agent_id")
    )
    assert offered == {calls[0].pk: agents[0].pk, calls[1].pk: agents[1].pk}


def test_with_more_agents_than_calls_each_call_gets_its_queue_strategy_choice(
    make_agent, make_queue, park, skills
):
    make_queue(requires={skills["sales"]: 1}, strategy="best_skill")
    make_agent({skills["sales"]: 3}, available_at=0)
    expert = make_agent({skills["sales"]: 9}, available_at=5)
    make_agent({skills["sales"]: 6}, available_at=1)
    waiting_call = park(at_seconds=10)

    reservations = router.route_pending(now=at(11))

    assert [(r.waiting_call_id, r.agent_id) for r in reservations] == [(waiting_call.pk, expert.pk)]


def test_the_sweep_applies_rona_and_due_rules_then_decides_in_one_pass(
    make_agent, make_queue, park, skills, settings
):
    settings.ROUTING_RONA_GRACE_SECONDS = 2
    queue = make_queue(requires={skills["sales"]: 8}, ring_timeout_seconds=10, wrap_up_seconds=5)
    OverflowRule.objects.create(
        queue=queue, position=1, after_seconds=30, action="relax", relax_by=5
    )
    ringing_agent = make_agent({skills["sales"]: 9}, available_at=0)
    junior = make_agent({skills["sales"]: 4})
    first = park(at_seconds=0)
    router.route_call(first.pk, now=at(1))
    second = park(at_seconds=2)
    services.agent_set_state(agent=junior, state="available", now=at(3))

    report = sweep.run_sweep(now=at(31))

    assert (report.expired_offers, report.overflowed, report.decisions) == (1, 1, 1)
    assert state_of(ringing_agent) == ("not_ready", "missed_call")
    first.refresh_from_db()
    second.refresh_from_db()
    # The returned call keeps the head of the line and goes to the now-qualified junior.
    assert (first.state, first.offered_agent_id) == ("offered", junior.pk)
    assert second.state == "waiting"


def test_only_one_sweep_runs_at_a_time(make_queue):
    from django.db import connections

    make_queue()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [sweep.SWEEP_LOCK_KEY])
        assert sweep.run_sweep(now=at(0)).ran is False
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [sweep.SWEEP_LOCK_KEY])
        assert sweep.run_sweep(now=at(0)).ran is True
    finally:
        other.close()


def test_queue_statistics_are_pushed_only_when_they_change(make_queue, park):
    queue = make_queue()

    assert sweep.push_changed_queue_stats(now=at(0)) == [queue.pk]
    assert sweep.push_changed_queue_stats(now=at(0)) == []
    park(at_seconds=0)
    assert sweep.push_changed_queue_stats(now=at(1)) == [queue.pk]
