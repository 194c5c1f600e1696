"""Property-based tests of the selection rules: the pure rules, and the router's SQL decisions
checked against a plain-Python oracle on random agents and calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.accounts.models import Agent, User
from apps.routing import conf, router, services
from apps.routing.matching import agent_tokens, qualifies, required_tokens
from apps.routing.models import AgentPresence, Queue, QueueSkill, WaitingCall
from apps.routing.priority import (
    MAX_BASE_PRIORITY,
    effective_priority,
    rank_at,
    starvation_bound_seconds,
)
from tests.factories import TeamFactory
from tests.routing.conftest import at

levels = st.integers(min_value=0, max_value=10)
aging = st.sampled_from([1, 2, 3, 5])
base = st.integers(min_value=0, max_value=MAX_BASE_PRIORITY)
seconds = st.integers(min_value=0, max_value=3600)


# ------------------------------------------------------------------------------- pure rules


@given(
    first=st.tuples(base, seconds),
    second=st.tuples(base, seconds),
    extra=seconds,
    aging_seconds=aging,
)
def test_ordering_by_rank_time_is_ordering_by_effective_priority_at_every_instant(
    first, second, extra, aging_seconds
):
    (b1, t1), (b2, t2) = first, second
    now = max(t1, t2) + extra
    rank1 = rank_at(enqueued_at=at(t1), base=b1, aging_seconds=aging_seconds)
    rank2 = rank_at(enqueued_at=at(t2), base=b2, aging_seconds=aging_seconds)
    priority1 = effective_priority(base=b1, waited_seconds=now - t1, aging_seconds=aging_seconds)
    priority2 = effective_priority(base=b2, waited_seconds=now - t2, aging_seconds=aging_seconds)

    assert (rank1 < rank2) == (priority1 > priority2)
    assert (rank1 == rank2) == (priority1 == priority2)


@given(
    b=base,
    t=seconds,
    later_base=base,
    margin=st.integers(min_value=1, max_value=600),
    aging_seconds=aging,
)
def test_aging_prevents_starvation(b, t, later_base, margin, aging_seconds):
    bound = starvation_bound_seconds(base=b, aging_seconds=aging_seconds)
    waiting = rank_at(enqueued_at=at(t), base=b, aging_seconds=aging_seconds)
    newcomer = rank_at(
        enqueued_at=at(t + bound + margin), base=later_base, aging_seconds=aging_seconds
    )

    assert newcomer > waiting


@given(
    agent_levels=st.dictionaries(st.integers(1, 8), st.integers(1, 10), max_size=6),
    minimums=st.dictionaries(st.integers(1, 8), st.integers(1, 10), max_size=4),
    relax_by=st.integers(0, 10),
)
def test_tokens_qualify_exactly_the_agents_with_every_skill_at_its_relaxed_minimum(
    agent_levels, minimums, relax_by
):
    expected = all(
        agent_levels.get(skill, 0) >= minimum - relax_by for skill, minimum in minimums.items()
    )

    assert (
        qualifies(agent_tokens(agent_levels), required_tokens(minimums, relax_by=relax_by))
        is expected
    )


# ------------------------------------------------------------------ the router against an oracle

POOL_SIZE = 6
SKILLS = ("sales", "billing", "vip")

agent_spec = st.fixed_dictionaries(
    {
        "levels": st.tuples(levels, levels, levels),
        "team": st.sampled_from([0, 1, None]),
        "idle": st.integers(0, 120),
        "available": st.booleans(),
    }
)
call_needs = st.fixed_dictionaries(
    {
        "minimums": st.tuples(levels, levels, levels),
        "teams": st.sets(st.sampled_from([0, 1])),
    }
)


class _Rollback(Exception):
    pass


@pytest.fixture
def pool(db, node, skills):
    teams = [TeamFactory(name="Property A"), TeamFactory(name="Property B")]
    agents = []
    for number in range(POOL_SIZE):
        agent = Agent.objects.create(
            user=User.objects.create(username=f"prop{number}"),
            team=teams[0],
            extension=f"{7000 + number}",
        )
        services.agent_presence_ensure(agent=agent, now=at(-1000))
        agents.append(agent)
    return {"teams": teams, "agents": agents, "skills": [skills[slug] for slug in SKILLS]}


def _apply_agents(pool, specs) -> list[dict]:
    placed = []
    for agent, spec in zip(pool["agents"], specs, strict=False):
        team = pool["teams"][spec["team"]] if spec["team"] is not None else None
        Agent.objects.filter(pk=agent.pk).update(team=team)
        agent_levels = {
            skill.pk: level
            for skill, level in zip(pool["skills"], spec["levels"], strict=True)
            if level
        }
        AgentPresence.objects.filter(agent=agent).update(
            state="available" if spec["available"] else "not_ready",
            reason="" if spec["available"] else "break",
            idle_since=at(spec["idle"]),
            state_since=at(spec["idle"]),
            skill_tokens=agent_tokens(agent_levels),
        )
        placed.append({**spec, "id": agent.pk, "team": team.pk if team else None})
    return placed


def _queue(pool, needs, *, slug: str, strategy: str = "longest_idle", priority: int = 0):
    queue = Queue.objects.create(slug=slug, name=slug, strategy=strategy, priority=priority)
    queue.teams.set([pool["teams"][index] for index in sorted(needs["teams"])])
    for skill, minimum in zip(pool["skills"], needs["minimums"], strict=True):
        if minimum:
            QueueSkill.objects.create(queue=queue, skill=skill, min_level=minimum)
    return queue


def _agent_qualifies(agent: dict, needs: dict, pool) -> bool:
    team_ids = {pool["teams"][index].pk for index in needs["teams"]}
    return (
        agent["available"]
        and (not team_ids or agent["team"] in team_ids)
        and all(
            level >= minimum
            for level, minimum in zip(agent["levels"], needs["minimums"], strict=True)
        )
    )


def _run_and_roll_back(check) -> None:
    try:
        with transaction.atomic():
            check()
            raise _Rollback
    except _Rollback:
        pass


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    specs=st.lists(agent_spec, min_size=POOL_SIZE, max_size=POOL_SIZE),
    needs=call_needs,
    strategy=st.sampled_from(["longest_idle", "best_skill"]),
)
def test_the_call_goes_to_a_qualified_agent_and_the_best_one_by_strategy(
    pool, specs, needs, strategy
):
    def check() -> None:
        agents = _apply_agents(pool, specs)
        _queue(pool, needs, slug="prop", strategy=strategy)
        waiting_call = services.waiting_call_enqueue(
            call_uuid="prop-call", queue_slug="prop", enqueued_at=at(200), now=at(200)
        )

        reservation = router.route_call(waiting_call.pk, now=at(201))

        qualified = [agent for agent in agents if _agent_qualifies(agent, needs, pool)]
        if not qualified:
            assert reservation is None
            return
        if strategy == "best_skill":

            def key(agent):
                score = sum(
                    level
                    for level, minimum in zip(agent["levels"], needs["minimums"], strict=True)
                    if minimum
                )
                return (-score, agent["idle"], agent["id"])
        else:

            def key(agent):
                return (agent["idle"], agent["id"])

        assert reservation is not None
        assert reservation.agent_id == min(qualified, key=key)["id"]
        assert reservation.agent_id in {agent["id"] for agent in qualified}

    _run_and_roll_back(check)


waiting_spec = st.fixed_dictionaries(
    {
        "queue": st.integers(0, 1),
        "priority": st.integers(0, 100),
        "enqueued": st.integers(0, 600),
        "needs": call_needs,
    }
)


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    agent=agent_spec.filter(lambda spec: spec["available"]),
    calls=st.lists(waiting_spec, min_size=1, max_size=6),
    queue_priorities=st.tuples(st.integers(0, 100), st.integers(0, 100)),
)
def test_an_available_agent_takes_the_eligible_call_of_highest_effective_priority(
    pool, agent, calls, queue_priorities
):
    def check() -> None:
        placed = _apply_agents(pool, [agent])[0]
        others = pool["agents"][1:]
        AgentPresence.objects.filter(agent__in=others).update(state="offline")
        entries = []
        for number, spec in enumerate(calls):
            queue = _queue(
                pool, spec["needs"], slug=f"prop{number}", priority=queue_priorities[spec["queue"]]
            )
            waiting_call = services.waiting_call_enqueue(
                call_uuid=f"prop-call-{number}",
                queue_slug=queue.slug,
                priority=spec["priority"],
                enqueued_at=at(spec["enqueued"]),
                now=at(600),
            )
            entries.append((waiting_call, spec))
        now = at(601)

        reservation = router.route_agent(placed["id"], now=now)

        eligible = [
            waiting_call
            for waiting_call, spec in entries
            if _agent_qualifies(placed, spec["needs"], pool)
        ]
        if not eligible:
            assert reservation is None
            return
        assert reservation is not None
        chosen = WaitingCall.objects.get(pk=reservation.waiting_call_id)
        assert chosen.pk in {waiting_call.pk for waiting_call in eligible}

        def priority_now(waiting_call: WaitingCall) -> float:
            waited = (now - waiting_call.enqueued_at) / timedelta(seconds=1)
            return effective_priority(
                base=waiting_call.base_priority,
                waited_seconds=waited,
                aging_seconds=conf.aging_seconds_per_point(),
            )

        assert priority_now(chosen) == max(priority_now(call) for call in eligible)
        assert chosen.pk == min(eligible, key=lambda call: (call.rank_at, call.pk)).pk

    _run_and_roll_back(check)
