"""Concurrency: several routers and event handlers at once on real PostgreSQL connections.

No agent is ever offered two calls, no call is offered twice, no possible pairing is lost, and the
agents' states always agree with the calls offered to them. Each thread (or forked process) has its
own database connection and commits for real (transactional_db).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import random
import threading
from collections.abc import Callable

import pytest
from django.db import close_old_connections, connection, connections

from apps.routing import router, services
from apps.routing.models import AgentPresence, Offer, WaitingCall
from apps.telephony.models import CallCommand
from tests.routing.conftest import at

pytestmark = pytest.mark.django_db(transaction=True)


def _in_threads(workers: list[Callable[[], None]]) -> list[BaseException]:
    """Run the callables at the same moment, each in a thread with its own connection."""
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def run(work: Callable[[], None]) -> None:
        try:
            barrier.wait()
            work()
        except BaseException as error:  # noqa: BLE001  (reported by the test)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def assert_consistent() -> None:
    """Check the invariants between agents, calls and offers."""
    ringing = list(
        Offer.objects.filter(status="ringing").values_list("agent_id", "waiting_call_id")
    )
    assert len({agent for agent, _call in ringing}) == len(ringing), "an agent rings twice"
    assert len({call for _agent, call in ringing}) == len(ringing), "a call rings twice"
    offered = dict(
        WaitingCall.objects.filter(state="offered").values_list("pk", "offered_agent_id")
    )
    assert len(set(offered.values())) == len(offered), "an agent holds two calls"
    assert {call: agent for agent, call in ringing} == offered
    reserved = set(
        AgentPresence.objects.filter(state="reserved").values_list("agent_id", flat=True)
    )
    assert reserved == set(offered.values())
    originates = CallCommand.objects.filter(kind="originate").count()
    assert originates == Offer.objects.count(), "an offer without exactly one originate"


@pytest.fixture
def crowd(make_queue, make_agent, park, skills):
    make_queue(requires={skills["sales"]: 1})
    agents = [make_agent({skills["sales"]: 5}, available_at=n) for n in range(12)]
    calls = [park(at_seconds=100 + n) for n in range(18)]
    return agents, calls


def test_routers_racing_on_every_side_never_double_book(crowd):
    agents, calls = crowd
    agent_ids = [agent.pk for agent in agents]
    call_ids = [call.pk for call in calls]

    def router_worker(seed: int) -> Callable[[], None]:
        def work() -> None:
            rng = random.Random(seed)
            for _ in range(40):
                if rng.random() < 0.5:
                    router.route_agent(rng.choice(agent_ids), now=at(200))
                else:
                    router.route_call(rng.choice(call_ids), now=at(200))

        return work

    def sweeper() -> None:
        for _ in range(3):
            router.route_pending(now=at(200))

    errors = _in_threads([router_worker(seed) for seed in range(6)] + [sweeper, sweeper])

    assert errors == []
    router.route_pending(now=at(200))
    assert Offer.objects.count() == 12
    assert set(Offer.objects.values_list("agent_id", flat=True)) == set(agent_ids)
    assert WaitingCall.objects.filter(state="waiting").count() == 6
    assert_consistent()


def test_many_routers_after_one_agent_and_one_call_make_exactly_one_offer(
    make_queue, make_agent, park
):
    make_queue()
    agent = make_agent(available_at=0)
    waiting_call = park(at_seconds=1)

    results: list[object] = []

    def by_agent() -> None:
        results.append(router.route_agent(agent.pk, now=at(2)))

    def by_call() -> None:
        results.append(router.route_call(waiting_call.pk, now=at(2)))

    errors = _in_threads([by_agent, by_call] * 4)

    assert errors == []
    assert len([result for result in results if result is not None]) == 1
    assert Offer.objects.count() == 1
    assert_consistent()


def test_agents_changing_state_while_routers_decide_stay_consistent(crowd):
    agents, _calls = crowd

    def toggler(agent_slice) -> Callable[[], None]:
        def work() -> None:
            for turn in range(6):
                for agent in agent_slice:
                    state = "not_ready" if turn % 2 == 0 else "available"
                    reason = "break" if state == "not_ready" else ""
                    # Conflict: a call is ringing for the agent meanwhile.
                    with contextlib.suppress(services.Conflict):
                        services.agent_set_state(
                            agent=agent, state=state, reason=reason, now=at(300 + turn)
                        )

        return work

    def routing() -> None:
        for _ in range(8):
            router.route_pending(now=at(310))

    errors = _in_threads([toggler(agents[:6]), toggler(agents[6:]), routing, routing])

    assert errors == []
    assert_consistent()


def test_callers_hanging_up_while_routers_offer_leave_nothing_reserved(crowd):
    _agents, calls = crowd

    def hang_up(call_slice) -> Callable[[], None]:
        def work() -> None:
            for waiting_call in call_slice:
                services.call_leg_hungup(leg_uuid=waiting_call.call_uuid, now=at(400))

        return work

    def routing() -> None:
        for _ in range(6):
            router.route_pending(now=at(400))

    errors = _in_threads([hang_up(calls[:9]), hang_up(calls[9:]), routing, routing])

    assert errors == []
    assert WaitingCall.objects.filter(state="abandoned").count() == 18
    assert not AgentPresence.objects.filter(state="reserved").exists()
    assert not Offer.objects.filter(status="ringing").exists()
    assert_consistent()


def _process_router(agent_ids: list[int], call_ids: list[int], seed: int, queue) -> None:
    """Route in a forked process with its own connection; report errors through the queue."""
    try:
        close_old_connections()
        rng = random.Random(seed)
        for _ in range(30):
            if rng.random() < 0.5:
                router.route_agent(rng.choice(agent_ids), now=at(200))
            else:
                router.route_call(rng.choice(call_ids), now=at(200))
        router.route_pending(now=at(200))
        queue.put(None)
    except BaseException as error:  # noqa: BLE001  (sent to the parent)
        queue.put(repr(error))
    finally:
        connections.close_all()


def test_routers_in_separate_processes_never_double_book(crowd):
    agents, calls = crowd
    connections.close_all()  # each forked child must open its own connection
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [
        context.Process(
            target=_process_router,
            args=([agent.pk for agent in agents], [call.pk for call in calls], seed, results),
        )
        for seed in range(4)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)

    assert outcomes == [None, None, None, None]
    assert Offer.objects.count() == 12
    assert len(set(Offer.objects.values_list("waiting_call_id", flat=True))) == 12
    assert_consistent()
