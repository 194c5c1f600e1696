"""Position and estimated wait per waiting call, their announcement, and live queue statistics."""

from __future__ import annotations

import pytest

from apps.routing import router, services
from apps.routing.estimates import estimate_wait_seconds
from apps.routing.models import AgentPresence, CustomerTier, WaitingCall
from apps.routing.selectors import queue_average_handle_seconds, queue_stats
from apps.telephony.models import CallCommand
from tests.routing.conftest import at

pytestmark = pytest.mark.django_db


def test_the_estimate_is_position_times_handle_time_over_staffed_agents():
    assert estimate_wait_seconds(position=3, aht_seconds=180, staffed_agents=4) == 135
    assert estimate_wait_seconds(position=1, aht_seconds=100, staffed_agents=3) == 34
    assert estimate_wait_seconds(position=5, aht_seconds=100, staffed_agents=0) is None


def _busy_agents(make_agent, count: int) -> None:
    for _ in range(count):
        agent = make_agent(available_at=0)
        AgentPresence.objects.filter(agent=agent).update(state="on_call")


def test_positions_and_estimates_follow_the_line_order(make_agent, make_queue, park):
    make_queue(default_handle_seconds=120)
    CustomerTier.objects.create(slug="vip", name="VIP", priority_bonus=50)
    _busy_agents(make_agent, 2)
    first = park(at_seconds=0)
    second = park(at_seconds=10)
    vip = park(at_seconds=20, tier="vip")

    assert services.waiting_positions_refresh(now=at(30)) == 3

    rows = dict(WaitingCall.objects.values_list("pk", "position"))
    assert rows == {vip.pk: 1, first.pk: 2, second.pk: 3}
    assert dict(WaitingCall.objects.values_list("pk", "ewt_seconds")) == {
        vip.pk: 60,
        first.pk: 120,
        second.pk: 180,
    }
    assert WaitingCall.objects.get(pk=first.pk).ewt_updated_at == at(30)


def test_no_staffed_agent_means_no_estimate(make_queue, park):
    make_queue()
    waiting_call = park(at_seconds=0)

    services.waiting_positions_refresh(now=at(5))

    waiting_call.refresh_from_db()
    assert (waiting_call.position, waiting_call.ewt_seconds) == (1, None)


def test_the_handle_time_comes_from_recent_calls_plus_wrap_up(make_agent, make_queue, park):
    queue = make_queue(wrap_up_seconds=10, default_handle_seconds=300)
    assert queue_average_handle_seconds(queue) == 300.0
    make_agent(available_at=0)
    for start, talk in ((0, 100), (1000, 200)):
        waiting_call = park(at_seconds=start)
        reservation = router.route_call(waiting_call.pk, now=at(start + 1))
        services.call_leg_answered(leg_uuid=str(reservation.agent_leg_uuid), now=at(start + 2))
        services.call_leg_hungup(leg_uuid=waiting_call.call_uuid, now=at(start + 2 + talk))
        services.wrap_up_finish_due(now=at(start + 500))

    assert queue_average_handle_seconds(queue) == 160.0


def test_waiting_callers_hear_their_position_at_the_queue_interval(make_agent, make_queue, park):
    make_queue(
        announce_interval_seconds=60,
        default_handle_seconds=120,
        announcement="file_string://ivr/position.wav!digits/{position}.wav!minutes/{minutes}.wav",
    )
    _busy_agents(make_agent, 1)
    park(at_seconds=0)
    second = park(at_seconds=5)
    services.waiting_positions_refresh(now=at(30))

    assert services.announcements_send_due(now=at(64)) == 1
    assert services.announcements_send_due(now=at(65)) == 1
    assert services.announcements_send_due(now=at(100)) == 0
    assert services.announcements_send_due(now=at(125)) == 2

    broadcast = CallCommand.objects.filter(params__uuid=second.call_uuid).order_by("pk").first()
    assert broadcast.kind == "broadcast"
    assert broadcast.params == {
        "uuid": second.call_uuid,
        "path": "file_string://ivr/position.wav!digits/2.wav!minutes/4.wav",
        "leg": "aleg",
    }
    second.refresh_from_db()
    assert second.last_announced_at == at(125)


def test_queue_statistics_count_the_line_the_agents_and_todays_service_level(
    make_agent, make_queue, park
):
    queue = make_queue(service_level_seconds=20, short_abandon_seconds=5, wrap_up_seconds=0)
    agent = make_agent(available_at=0)
    make_agent()
    # Answered in 10 s, answered in 30 s, abandoned after 60 s, short abandon after 2 s.
    for start, answer in ((0, 10), (100, 130)):
        waiting_call = park(at_seconds=start)
        reservation = router.route_call(waiting_call.pk, now=at(answer - 1))
        services.call_leg_answered(leg_uuid=str(reservation.agent_leg_uuid), now=at(answer))
        services.call_leg_hungup(leg_uuid=waiting_call.call_uuid, now=at(answer + 50))
    services.call_leg_hungup(leg_uuid=park(at_seconds=200).call_uuid, now=at(260))
    services.call_leg_hungup(leg_uuid=park(at_seconds=300).call_uuid, now=at(302))
    park(at_seconds=400)
    park(at_seconds=410)
    services.agent_set_state(agent=agent, state="not_ready", reason="break", now=at(420))

    stats = queue_stats(queue=queue, now=at(430))

    assert stats == {
        "waiting": 2,
        "callbacks": 0,
        "ringing": 0,
        "longest_wait_seconds": 30,
        "agents_available": 0,
        "agents_staffed": 0,
        "agents_not_ready": 1,
        "entered_today": 6,
        "answered_today": 2,
        "abandoned_today": 1,
        "short_abandoned_today": 1,
        "overflowed_today": 0,
        "service_level_today": 33.3,
        "service_level_target": {"percent": 80, "seconds": 20},
        "average_handle_seconds": 50.0,
        "estimated_wait_seconds": None,
    }
