"""Pushes reach the groups' sockets in order, over one long-lived connection that survives Redis
dropping it."""

from __future__ import annotations

import asyncio

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from apps.core import realtime


def _listen(group: str) -> str:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    return channel


async def _take(channel: str, count: int) -> list[dict]:
    layer = get_channel_layer()
    return [(await layer.receive(channel))["message"] for _ in range(count)]


def _received(channel: str, count: int) -> list[dict]:
    # One receiving event loop per channel and test: the layer buffers per loop.
    return async_to_sync(_take)(channel, count)


def _layer_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0])


def _sender_connection_ids(layer_redis: redis.Redis) -> set[int]:
    """Return the ids of the connections the channel layer's database has right now."""
    database = layer_redis.connection_pool.connection_kwargs.get("db", 0)
    own = layer_redis.client_id()
    return {
        int(client["id"])
        for client in layer_redis.client_list()
        if int(client["db"]) == database and int(client["id"]) != own
    }


def test_push_now_delivers_the_typed_message_to_every_member_of_the_group():
    first, second = _listen("agent.901"), _listen("agent.901")

    realtime.push_now("agent.901", "agent.state", {"agent_id": 901, "state": "available"})

    expected = {"type": "agent.state", "agent_id": 901, "state": "available"}
    assert _received(first, 1) == [expected]
    assert _received(second, 1) == [expected]


def test_handed_over_pushes_arrive_in_order_once_flushed():
    channel = _listen("queue.902")

    for number in range(30):
        realtime.push_soon("queue.902", "queue.stats", {"number": number})
    realtime.flush()

    assert [message["number"] for message in _received(channel, 30)] == list(range(30))


def test_pushes_share_one_connection_instead_of_opening_one_each():
    layer_redis = _layer_redis()
    channel = _listen("agent.903")
    realtime.push_now("agent.903", "ping", {"number": 0})
    before = _sender_connection_ids(layer_redis)

    for number in range(1, 21):
        realtime.push_now("agent.903", "ping", {"number": number})

    # The sender's connection of the first push is still open and none was added for the others.
    after = _sender_connection_ids(layer_redis)
    assert before
    assert after == before
    assert [message["number"] for message in _received(channel, 21)] == list(range(21))


def test_the_sender_reconnects_after_redis_drops_its_connection():
    layer_redis = _layer_redis()
    channel = _listen("agent.904")
    realtime.push_now("agent.904", "ping", {"number": 1})

    # Redis drops every connection of the layer's database (the sender's among them).
    dropped = _sender_connection_ids(layer_redis)
    for client_id in dropped:
        layer_redis.client_kill_filter(_id=client_id)
    assert dropped
    assert not (_sender_connection_ids(layer_redis) & dropped)

    realtime.push_now("agent.904", "ping", {"number": 2})
    realtime.push_soon("agent.904", "ping", {"number": 3})
    realtime.flush()

    assert [message["number"] for message in _received(channel, 3)] == [1, 2, 3]


def test_push_now_inside_a_running_event_loop_hands_over_without_blocking_it():
    channel = _listen("agent.905")

    async def from_async_code() -> None:
        realtime.push_now("agent.905", "ping", {"number": 1})

    asyncio.run(from_async_code())
    realtime.flush()

    assert _received(channel, 1) == [{"type": "ping", "number": 1}]


def test_a_failing_push_is_logged_and_later_pushes_still_go_out(caplog, monkeypatch):
    channel = _listen("agent.906")
    layer = get_channel_layer()
    real_group_send = layer.group_send

    async def refusing(group: str, message: dict) -> None:
        if message["message"].get("number") == 1:
            raise ValueError("payload refused")
        await real_group_send(group, message)

    monkeypatch.setattr(layer, "group_send", refusing)
    realtime.push_now("agent.906", "ping", {"number": 1})
    realtime.push_now("agent.906", "ping", {"number": 2})

    assert _received(channel, 1) == [{"type": "ping", "number": 2}]
    assert "realtime push to agent.906 failed" in caplog.text


@pytest.fixture(autouse=True)
def _sent_before_and_after():
    realtime.flush()
    yield
    realtime.flush()
