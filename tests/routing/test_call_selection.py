"""Call selection: which waiting call an agent who becomes available takes (priority and aging)."""

from __future__ import annotations

import pytest

from apps.routing import router
from apps.routing.models import CustomerTier, WaitingCall
from apps.routing.priority import MAX_BASE_PRIORITY
from tests.routing.conftest import at

pytestmark = pytest.mark.django_db


def _taken_by(agent, now: float) -> WaitingCall | None:
    reservation = router.route_agent(agent.pk, now=at(now))
    return None if reservation is None else WaitingCall.objects.get(pk=reservation.waiting_call_id)


@pytest.fixture
def vip_tier(skills):
    return CustomerTier.objects.create(slug="vip", name="VIP", priority_bonus=50)


def test_the_agent_takes_the_call_that_waited_longest_at_equal_priority(
    make_agent, make_queue, park, skills
):
    make_queue(requires={skills["sales"]: 1})
    park(at_seconds=20)
    first = park(at_seconds=10)
    park(at_seconds=30)
    agent = make_agent({skills["sales"]: 5}, available_at=40)

    assert _taken_by(agent, now=40) == first


def test_the_higher_priority_queue_is_served_first_by_an_agent_of_both(
    make_agent, make_queue, park, skills
):
    make_queue("low", priority=0)
    make_queue("high", priority=20)
    park("low", at_seconds=0)
    urgent = park("high", at_seconds=30)
    agent = make_agent(available_at=31)

    assert _taken_by(agent, now=31) == urgent


def test_a_vip_call_overtakes_earlier_ordinary_calls(make_agent, make_queue, park, vip_tier):
    make_queue()
    park(at_seconds=0)
    vip = park(at_seconds=60, tier="vip")
    agent = make_agent(available_at=61)

    assert vip.base_priority == 50
    assert _taken_by(agent, now=61) == vip


def test_aging_lets_a_long_waiting_call_pass_a_newer_higher_priority_one(
    make_agent, make_queue, park, vip_tier, settings
):
    settings.ROUTING_AGING_SECONDS_PER_POINT = 2.0
    make_queue()
    patient = park(at_seconds=0)
    # 50 points of VIP bonus are worth 100 s of waiting: a VIP arriving 101 s later ranks behind.
    park(at_seconds=101, tier="vip")
    agent = make_agent(available_at=102)

    assert _taken_by(agent, now=102) == patient


def test_aging_bound_no_call_starves(make_agent, make_queue, park, skills, settings):
    settings.ROUTING_AGING_SECONDS_PER_POINT = 1.0
    make_queue(priority=0)
    make_queue("top", priority=100)
    CustomerTier.objects.create(slug="vip", name="VIP", priority_bonus=100)
    oldest = park("sales", at_seconds=0)
    # The highest possible priority, arriving just after the bound, still ranks behind.
    park("top", at_seconds=MAX_BASE_PRIORITY + 1, tier="vip", priority=100)
    agent = make_agent(available_at=MAX_BASE_PRIORITY + 2)

    assert _taken_by(agent, now=MAX_BASE_PRIORITY + 2) == oldest


def test_the_call_priority_variable_raises_the_call(make_agent, make_queue, park):
    make_queue()
    park(at_seconds=0)
    pushed = park(at_seconds=10, priority=30)
    agent = make_agent(available_at=11)

    assert _taken_by(agent, now=11) == pushed


def test_an_agent_skips_calls_they_do_not_qualify_for(make_agent, make_queue, park, skills):
    make_queue(requires={skills["sales"]: 1})
    park(at_seconds=0, language="zh")
    english = park(at_seconds=5, language="en")
    agent = make_agent({skills["sales"]: 5, skills["english"]: 3}, available_at=10)

    assert _taken_by(agent, now=10) == english


def test_an_agent_with_nothing_to_take_stays_available(make_agent, make_queue, park, skills):
    make_queue(requires={skills["billing"]: 1})
    park(at_seconds=0)
    agent = make_agent({skills["sales"]: 5}, available_at=10)

    assert _taken_by(agent, now=10) is None
