"""Router turns: many events decided in one transaction, from the Redis event queue.

Decisions commit for real here (transactional_db), as they do in a router process; concurrent
routers are threads with their own connections.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import redis
from django.db import connection, transaction

from apps.routing import events, router, telephony_gateway
from apps.routing.models import AgentPresence, Offer, Queue, WaitingCall
from apps.routing.router_process import router_turn
from apps.telephony.models import CallCommand
from tests.routing.conftest import at
from tests.routing.test_concurrency import assert_consistent

pytestmark = pytest.mark.django_db(transaction=True)


def _in_threads(workers: list[Callable[[], object]]) -> tuple[list[object], list[BaseException]]:
    barrier = threading.Barrier(len(workers))
    results: list[object] = []
    errors: list[BaseException] = []

    def run(work: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results.append(work())
        except BaseException as error:  # noqa: BLE001  (reported by the test)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


@pytest.fixture
def floor(make_queue, make_agent, park, skills):
    make_queue(requires={skills["sales"]: 1})
    agents = [make_agent({skills["sales"]: 5}, available_at=n) for n in range(10)]
    calls = [park(at_seconds=100 + n) for n in range(14)]
    return agents, calls


def test_two_routers_racing_on_the_same_turn_book_each_agent_and_call_once(floor):
    # Given the same turn of mixed events handed to four routers at once
    agents, calls = floor
    turn = [("agent", agent.pk) for agent in agents] + [("call", call.pk) for call in calls]

    # When they all decide on it concurrently
    results, errors = _in_threads([lambda: router.route_events(turn, now=at(200))] * 4)

    # Then every agent got exactly one call, and nothing was booked twice
    assert errors == []
    offers = [reservation for result in results for reservation in result if reservation]
    assert len(offers) == Offer.objects.count() == 10
    assert len({offer.agent_id for offer in offers}) == 10
    assert len({offer.waiting_call_id for offer in offers}) == 10
    assert WaitingCall.objects.filter(state="waiting").count() == 4
    assert_consistent()


def test_an_agent_event_and_a_call_event_for_the_same_pair_make_one_offer(
    make_queue, make_agent, park
):
    make_queue()
    agent = make_agent(available_at=0)
    waiting_call = park(at_seconds=1)

    reservations = router.route_events(
        [("call", waiting_call.pk), ("agent", agent.pk), ("call", waiting_call.pk)], now=at(2)
    )

    assert [reservation is not None for reservation in reservations] == [True, False, False]
    assert reservations[0].agent_id == agent.pk
    assert Offer.objects.count() == 1
    assert CallCommand.objects.filter(kind="originate").count() == 1
    assert_consistent()


def test_decisions_later_in_a_turn_see_the_earlier_ones(make_queue, make_agent, park, skills):
    # Given two agents and three calls; the first two calls both prefer the longest idle agent
    make_queue(requires={skills["sales"]: 1})
    first = make_agent({skills["sales"]: 5}, available_at=0)
    second = make_agent({skills["sales"]: 5}, available_at=1)
    calls = [park(at_seconds=10 + n) for n in range(3)]

    reservations = router.route_events(
        [("call", calls[0].pk), ("call", calls[1].pk), ("call", calls[2].pk)], now=at(20)
    )

    assert [(r.waiting_call_id, r.agent_id) for r in reservations if r] == [
        (calls[0].pk, first.pk),
        (calls[1].pk, second.pk),
    ]
    assert reservations[2] is None
    assert_consistent()


def test_a_turn_that_fails_decides_nothing(make_queue, make_agent, park, monkeypatch, enqueued):
    make_queue()
    agents = [make_agent(available_at=n) for n in range(2)]
    for n in range(2):
        park(at_seconds=10 + n)
    enqueued.tasks.clear()

    def ring_then_fail(reservations):
        original(reservations)  # the originates are stored, then something goes wrong
        raise RuntimeError("telephony refused")

    original = telephony_gateway.request_agent_rings
    monkeypatch.setattr(telephony_gateway, "request_agent_rings", ring_then_fail)

    with pytest.raises(RuntimeError):
        router.route_events([("agent", agent.pk) for agent in agents], now=at(20))

    # The whole turn rolled back: no offer, nobody reserved, no command, nothing published
    assert Offer.objects.count() == 0
    assert set(AgentPresence.objects.values_list("state", flat=True)) == {"available"}
    assert WaitingCall.objects.filter(state="waiting").count() == 2
    assert CallCommand.objects.count() == 0
    assert enqueued.tasks == []


def test_round_robin_moves_the_cursor_to_the_turns_last_offer(make_queue, make_agent, park):
    queue = make_queue(strategy="round_robin")
    agents = [make_agent(available_at=n) for n in range(3)]
    calls = [park(at_seconds=10 + n) for n in range(2)]

    reservations = router.route_events([("call", call.pk) for call in calls], now=at(20))

    assert [reservation.agent_id for reservation in reservations] == [agents[0].pk, agents[1].pk]
    assert Queue.objects.get(pk=queue.pk).round_robin_cursor == agents[1].pk


# ------------------------------------------------------------------- the router process's turn


def test_services_queue_events_that_one_router_turn_decides(make_queue, make_agent, park):
    # Given callers waiting, then agents becoming available (each queues an event on commit)
    make_queue()
    calls = [park(at_seconds=n) for n in range(3)]
    agents = [make_agent(available_at=10 + n) for n in range(2)]

    # When a router process takes its turn
    turn = router_turn(limit=50, timeout=0.5)

    # Then it took both events at once and offered the two best calls
    assert [event.key for event, _reservation in turn.decisions] == [
        ("agent", agents[0].pk),
        ("agent", agents[1].pk),
    ]
    assert turn.offers == 2
    assert set(Offer.objects.values_list("waiting_call_id", flat=True)) == {
        calls[0].pk,
        calls[1].pk,
    }
    assert events.client().llen(events.queue_key()) == 0
    assert_consistent()


def test_a_turn_takes_at_most_its_limit_and_leaves_the_rest_queued(make_queue, make_agent):
    make_queue()
    for n in range(3):
        make_agent(available_at=n)

    turn = router_turn(limit=2, timeout=0.5)

    assert len(turn.decisions) == 2
    assert events.client().llen(events.queue_key()) == 1


def test_an_empty_queue_gives_an_empty_turn_after_the_wait():
    turn = router_turn(limit=10, timeout=0.1)

    assert turn.decisions == []


def test_malformed_events_are_skipped(make_queue, make_agent, park):
    make_queue()
    waiting_call = park(at_seconds=1)
    agent = make_agent()  # not available: no event
    events.client().rpush(events.queue_key(), b"garbage", b"x12:1.0")
    AgentPresence.objects.filter(agent=agent).update(state="available", idle_since=at(0))
    events.publish(events.AGENT, agent.pk)

    turn = router_turn(limit=10, timeout=0.5)

    assert [event.key for event, _reservation in turn.decisions] == [("agent", agent.pk)]
    assert Offer.objects.get().waiting_call_id == waiting_call.pk


def test_redis_down_gives_an_empty_turn_and_publishing_never_raises(monkeypatch):
    class DownRedis:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise redis.ConnectionError("down")

            return fail

    monkeypatch.setattr(events, "client", DownRedis)

    events.publish(events.CALL, 1)
    turn = router_turn(limit=10, timeout=0.01)

    assert turn.decisions == []


def test_a_turn_never_waits_for_a_queue_row_someone_else_holds(make_queue, make_agent, park):
    # Given a round-robin queue whose row another transaction holds (an admin saving it)
    queue = make_queue(strategy="round_robin")
    agent = make_agent(available_at=0)
    waiting_call = park(at_seconds=1)
    holding, release = threading.Event(), threading.Event()

    def hold_the_queue() -> None:
        try:
            with transaction.atomic():
                Queue.objects.select_for_update().get(pk=queue.pk)
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_queue)
    holder.start()
    assert holding.wait(timeout=10)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = '3s'")  # waiting would fail the test
        # When a router turn offers a call of that queue
        [reservation] = router.route_events([("call", waiting_call.pk)], now=at(2))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")
        release.set()
        holder.join(timeout=30)

    # Then the offer is made without waiting; only the cursor stays where it was
    assert reservation is not None
    assert reservation.agent_id == agent.pk
    assert Queue.objects.get(pk=queue.pk).round_robin_cursor is None
    assert_consistent()
