"""Routing's pushes reach the browsers' groups after commit, in order."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from apps.routing import notifications, router, services
from tests.routing.conftest import at

pytestmark = pytest.mark.django_db


def _listen(group: str) -> str:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    return channel


def _received(channel: str, count: int) -> list[dict]:
    return async_to_sync(_take)(channel, count)


async def _take(channel: str, count: int) -> list[dict]:
    # One event loop for all receives: the layer buffers per loop.
    layer = get_channel_layer()
    return [(await layer.receive(channel))["message"] for _ in range(count)]


def test_an_offer_is_pushed_to_the_agent_once_committed(
    make_agent, make_queue, park, django_capture_on_commit_callbacks
):
    make_queue()
    agent = make_agent(available_at=0)
    waiting_call = park(at_seconds=1, caller_number="5550142")
    channel = _listen(f"agent.{agent.pk}")

    with django_capture_on_commit_callbacks(execute=True):
        reservation = router.route_call(waiting_call.pk, now=at(2))
    notifications.flush()

    [message] = _received(channel, 1)
    assert message["type"] == "call.offered"
    assert (message["waiting_call_id"], message["offer_id"], message["caller_number"]) == (
        waiting_call.pk,
        reservation.offer_id,
        "5550142",
    )
    assert message["agent_state"]["state"] == "reserved"


def test_state_changes_reach_the_agent_and_the_team_wallboard_in_order(
    make_agent, team, django_capture_on_commit_callbacks
):
    agent = make_agent()
    mine = _listen(f"agent.{agent.pk}")
    wallboard = _listen(f"team.{team.pk}")

    with django_capture_on_commit_callbacks(execute=True):
        services.agent_set_state(agent=agent, state="available", now=at(0))
    with django_capture_on_commit_callbacks(execute=True):
        services.agent_set_state(agent=agent, state="not_ready", reason="lunch", now=at(5))
    notifications.flush()

    for channel in (mine, wallboard):
        states = [(m["state"], m["reason"]) for m in _received(channel, 2)]
        assert states == [("available", ""), ("not_ready", "lunch")]


def test_nothing_is_pushed_when_the_transaction_rolls_back(make_agent):
    agent = make_agent()
    channel = _listen(f"agent.{agent.pk}")

    services.agent_set_state(agent=agent, state="available", now=at(0))
    notifications.flush()

    layer = get_channel_layer()
    with pytest.raises(TimeoutError):
        async_to_sync(_receive_within)(layer, channel, 0.3)


async def _receive_within(layer, channel: str, seconds: float) -> dict:
    import asyncio

    return await asyncio.wait_for(layer.receive(channel), timeout=seconds)
