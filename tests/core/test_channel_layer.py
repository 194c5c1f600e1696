"""The pipelined channel layer delivers group messages exactly as channels_redis does: to every
member, once, in order, readable by a stock channels_redis consumer; and its process-local
receives, served by one batched reader, hand every message over once, in order, across event
loops, timeouts and busy consumers."""

from __future__ import annotations

import asyncio

import pytest
import redis
from asgiref.sync import async_to_sync
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from apps.core.channel_layer import PipelinedRedisChannelLayer


def _url() -> str:
    host = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
    return host["address"] if isinstance(host, dict) else host


@pytest.fixture
def layers():
    """A pipelined sender and a stock channels_redis layer on a clean database."""
    redis.Redis.from_url(_url()).flushdb()
    sender = PipelinedRedisChannelLayer(hosts=[_url()], capacity=50)
    stock = RedisChannelLayer(hosts=[_url()], capacity=50)
    yield sender, stock
    async_to_sync(sender.close_pools)()
    async_to_sync(stock.close_pools)()


def _run(coroutine_function, *args):
    return async_to_sync(coroutine_function)(*args)


async def _join(layer, group: str) -> str:
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    return channel


async def _take(layer, channel: str, count: int) -> list[dict]:
    return [await layer.receive(channel) for _ in range(count)]


def test_every_member_of_every_group_gets_its_message_once(layers):
    sender, stock = layers

    async def scenario():
        agents = [await _join(stock, "agent.1"), await _join(stock, "agent.1")]
        queue = await _join(stock, "queue.7")
        await sender.group_send_many(
            [
                ("agent.1", {"type": "broadcast", "n": 1}),
                ("queue.7", {"type": "broadcast", "n": 2}),
                ("nobody.here", {"type": "broadcast", "n": 3}),
            ]
        )
        received = [await _take(stock, channel, 1) for channel in (*agents, queue)]
        # Nothing more is waiting for anyone.
        left = [
            await stock.connection(0).zcard(key) for key in await stock.connection(0).keys("asgi*!")
        ]
        return received, left

    received, left = _run(scenario)

    assert received == [
        [{"type": "broadcast", "n": 1}],
        [{"type": "broadcast", "n": 1}],
        [{"type": "broadcast", "n": 2}],
    ]
    assert not any(left)


def test_a_batch_arrives_in_the_order_it_was_sent(layers):
    sender, stock = layers

    async def scenario():
        channel = await _join(stock, "agent.2")
        other = await _join(stock, "agent.3")
        sends = []
        for n in range(5):
            sends.append(("agent.2", {"type": "broadcast", "n": n}))
            sends.append(("agent.3", {"type": "broadcast", "n": n}))
        await sender.group_send_many(sends)
        await sender.group_send("agent.2", {"type": "broadcast", "n": "later"})
        mine = [message["n"] for message in await _take(stock, channel, 5)]
        theirs = [message["n"] for message in await _take(stock, other, 5)]
        return mine, theirs

    mine, theirs = _run(scenario)

    assert mine == [0, 1, 2, 3, 4]
    assert theirs == [0, 1, 2, 3, 4]


def test_delivery_survives_redis_forgetting_the_script(layers):
    sender, stock = layers

    async def scenario():
        channel = await _join(stock, "agent.4")
        await sender.group_send("agent.4", {"type": "broadcast", "n": 1})
        await sender.connection(0).script_flush()
        await sender.group_send("agent.4", {"type": "broadcast", "n": 2})
        received = await _take(stock, channel, 2)
        waiting = await stock.connection(0).zcard(stock.prefix + channel.split("!")[0] + "!")
        return received, waiting

    received, waiting = _run(scenario)

    assert [message["n"] for message in received] == [1, 2]
    assert waiting == 0


def test_a_full_channel_drops_new_messages_like_channels_redis(layers):
    sender, stock = layers

    async def scenario():
        channel = await _join(stock, "agent.5")
        await sender.group_send_many(
            [("agent.5", {"type": "broadcast", "n": n}) for n in range(60)]
        )
        return [message["n"] for message in await _take(stock, channel, 50)]

    # capacity=50 per process: the first fifty are kept, the rest refused (as channels_redis does).
    assert _run(scenario) == list(range(50))


def test_the_synchronous_sender_writes_what_the_layer_reads(layers):
    # The gevent processes' sender (no event loop there) shares the layer's commands.
    from apps.core.channel_layer import group_send_many_sync

    sender, stock = layers
    client = redis.Redis.from_url(_url())
    channel = _run(_join, stock, "agent.6")
    client.script_flush()  # first use on this server: the script is loaded on the way

    for n in (1, 2):
        group_send_many_sync(
            sender, [("agent.6", {"type": "broadcast", "n": n})], lambda index: client
        )

    received = _run(_take, stock, channel, 2)
    assert [message["n"] for message in received] == [1, 2]


def test_the_lean_receive_hands_over_every_message_in_order_and_cleans_up(layers):
    sender, stock = layers

    async def scenario():
        channel = await _join(sender, "agent.7")
        for n in range(20):
            await stock.group_send("agent.7", {"type": "broadcast", "n": n})
        received = [message["n"] for message in await _take(sender, channel, 20)]
        await asyncio.gather(*sender.receive_cleaners)
        backups = await sender.connection(0).keys("*$inflight")
        left = [await sender.connection(0).zcard(key) for key in backups]
        return received, left

    received, left = _run(scenario)

    assert received == list(range(20))
    assert not any(left)


def test_a_process_local_message_for_many_sockets_reaches_each_once_in_order(layers):
    sender, stock = layers

    async def scenario():
        channels = [await _join(sender, "queue.9") for _ in range(200)]
        for n in range(3):
            await stock.group_send("queue.9", {"type": "broadcast", "n": n})
        received = await asyncio.gather(*(_take(sender, channel, 3) for channel in channels))
        left = await sender.connection(0).zcard(sender.prefix + sender.non_local_name(channels[0]))
        return [[message["n"] for message in messages] for messages in received], left

    received, left = _run(scenario)

    assert received == [[0, 1, 2]] * 200
    assert left == 0


def test_messages_popped_in_one_event_loop_reach_receives_in_the_next(layers):
    sender, stock = layers
    channel = _run(_join, sender, "agent.8")
    for n in range(5):
        _run(stock.group_send, "agent.8", {"type": "broadcast", "n": n})

    # Each receive in an event loop of its own (as async_to_sync does): the first pops the
    # whole batch, the others are served from what it left.
    received = [_run(sender.receive, channel)["n"] for _ in range(5)]

    assert received == [0, 1, 2, 3, 4]


def test_a_receive_that_times_out_loses_nothing_and_stops_reading(layers):
    sender, stock = layers

    async def scenario():
        channel = await _join(sender, "agent.10")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(sender.receive(channel), 0.05)
        inbox = next(iter(sender._inboxes.values()))
        await asyncio.sleep(0)  # let the cancelled reader finish
        readers_left = [task for task in inbox.readers.values() if not task.done()]
        await stock.group_send("agent.10", {"type": "broadcast", "n": "later"})
        return readers_left, await sender.receive(channel)

    readers_left, message = _run(scenario)

    assert readers_left == []
    assert message == {"type": "broadcast", "n": "later"}


def test_a_consumer_busy_with_one_message_gets_the_ones_that_came_meanwhile(layers):
    sender, stock = layers

    async def scenario():
        busy = await _join(sender, "team.1")
        waiting = await _join(sender, "team.1")
        first = asyncio.ensure_future(sender.receive(waiting))
        await stock.group_send("team.1", {"type": "broadcast", "n": 1})
        await stock.group_send("team.1", {"type": "broadcast", "n": 2})
        got_first = await first
        # The other consumer was not receiving when the reader popped both messages for it.
        return (
            got_first,
            [m["n"] for m in await _take(sender, busy, 2)],
            await _take(sender, waiting, 1),
        )

    got_first, busy_got, waiting_rest = _run(scenario)

    assert got_first["n"] == 1
    assert busy_got == [1, 2]
    assert waiting_rest == [{"type": "broadcast", "n": 2}]


def test_more_concurrent_commands_than_connections_wait_for_one_instead_of_failing():
    redis.Redis.from_url(_url()).flushdb()
    layer = PipelinedRedisChannelLayer(hosts=[{"address": _url(), "max_connections": 2}])

    async def scenario():
        channels = [f"specific.x!{n}" for n in range(50)]
        await asyncio.gather(*(layer.group_add("queue.1", channel) for channel in channels))
        # 50 consoles closing at once, through a pool of two connections
        await asyncio.gather(*(layer.group_discard("queue.1", channel) for channel in channels))
        members = await layer.connection(0).zcard(layer._group_key("queue.1"))
        await layer.close_pools()
        return members

    assert _run(scenario) == 0


def test_a_receive_cancelled_just_after_its_message_arrived_leaves_it_for_the_next(layers):
    sender, _stock = layers

    async def scenario():
        channel = await sender.new_channel()
        receiving = asyncio.ensure_future(sender.receive(channel))
        await asyncio.sleep(0.01)  # the receive waits, its reader is running
        inbox = next(iter(sender._inboxes.values()))
        # The reader hands a message over, and the consumer ends before it resumes.
        message = {"type": "broadcast", "n": "kept", "__asgi_channel__": channel}
        inbox._hand_over(sender.serialize(message), asyncio.get_running_loop())
        receiving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await receiving
        return await asyncio.wait_for(sender.receive(channel), 1)

    assert _run(scenario) == {"type": "broadcast", "n": "kept"}
