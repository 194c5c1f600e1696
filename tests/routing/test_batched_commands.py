"""A router taking several decisions in a turn: each commits on its own, their originates leave
in one Celery message, and every committed offer's originate is in it exactly once.

Decisions commit for real here (transactional_db), as they do in a router process.
"""

from __future__ import annotations

import pytest

from apps.routing import router
from apps.routing.models import Offer
from apps.telephony.models import CallCommand
from tests.routing.conftest import at

pytestmark = pytest.mark.django_db(transaction=True)

BATCH_TASK = "apps.telephony.tasks.execute_call_commands"
ONE_TASK = "apps.telephony.tasks.execute_call_command"


def _execution_messages(enqueued) -> list[tuple[str, list]]:
    return [task for task in enqueued.tasks if task[0] in (BATCH_TASK, ONE_TASK)]


def test_a_turn_of_events_sends_its_originates_in_one_message(
    make_queue, make_agent, park, skills, enqueued
):
    # Given three free agents, two callers waiting, and a third caller nobody could take
    make_queue(requires={skills["sales"]: 1})
    agents = [make_agent({skills["sales"]: 5}, available_at=n) for n in range(3)]
    calls = [park(at_seconds=10 + n) for n in range(2)]
    enqueued.tasks.clear()

    # When a router takes the events of one turn (one finds no call left)
    reservations = router.route_events(
        [("agent", agents[0].pk), ("call", calls[1].pk), ("agent", agents[2].pk)], now=at(20)
    )

    # Then two offers were made, each committed, and one message carries both originates
    assert [reservation is not None for reservation in reservations] == [True, True, False]
    originates = list(
        CallCommand.objects.filter(kind="originate").order_by("pk").values_list("pk", flat=True)
    )
    assert len(originates) == Offer.objects.count() == 2
    assert _execution_messages(enqueued) == [(BATCH_TASK, [originates])]


def test_the_sweep_sends_the_originates_of_all_its_decisions_in_one_message(
    make_queue, make_agent, park, skills, enqueued
):
    make_queue(requires={skills["sales"]: 1})
    for n in range(3):
        make_agent({skills["sales"]: 5}, available_at=n)
    for n in range(4):
        park(at_seconds=10 + n)
    enqueued.tasks.clear()

    reservations = router.route_pending(now=at(20))

    originates = list(
        CallCommand.objects.filter(kind="originate").order_by("pk").values_list("pk", flat=True)
    )
    assert len(reservations) == len(originates) == 3
    assert _execution_messages(enqueued) == [(BATCH_TASK, [originates])]


def test_a_turn_with_one_decision_sends_the_usual_single_message(
    make_queue, make_agent, park, skills, enqueued
):
    make_queue(requires={skills["sales"]: 1})
    agent = make_agent({skills["sales"]: 5}, available_at=0)
    park(at_seconds=10)
    enqueued.tasks.clear()

    router.route_events([("agent", agent.pk)], now=at(20))

    assert _execution_messages(enqueued) == [(ONE_TASK, [CallCommand.objects.get().pk])]
