"""The suite's channel layer: channels_redis with pipelined group sends and a leaner receive.

``RedisChannelLayer.group_send`` makes four round trips per group (expire members, read members,
expire each member channel's old messages, then an ``EVAL`` that ships the whole Lua script) and
the event process sends thousands of group messages a second. ``group_send_many`` sends a batch
of (group, message) pairs with one pipeline per Redis connection to read the groups' members and
one to deliver (``EVALSHA`` of the same script, loaded once per connection). Storage keys,
message encoding and the delivery script are channels_redis's own, so consumers read the
messages as usual; requirements.txt pins channels-redis because this relies on its internals
(``_group_key``, ``_map_channel_keys_to_connection``), and tests/core/test_channel_layer.py
checks the two against each other.

Receive: a waiting message is taken in one round trip instead of three (same backup queue, so a
cancelled receive still loses nothing).

Order: a channel's messages are a sorted set scored by send time, so each send of a batch gets
its own increasing score and a console receives a batch's messages in the order submitted.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from hashlib import sha1
from typing import Any

from channels_redis.core import RedisChannelLayer
from redis.exceptions import NoScriptError

logger = logging.getLogger(__name__)

# channels_redis 4.3's group delivery script: add to each channel under its capacity.
DELIVER_LUA = """
local over_capacity = 0
local current_time = ARGV[#ARGV - 1]
local expiry = ARGV[#ARGV]
for i=1,#KEYS do
    if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
        redis.call('ZADD', KEYS[i], current_time, ARGV[i])
        redis.call('EXPIRE', KEYS[i], expiry)
    else
        over_capacity = over_capacity + 1
    end
end
return over_capacity
"""
DELIVER_SHA = sha1(DELIVER_LUA.encode()).hexdigest()  # noqa: S324  (Redis names scripts by SHA-1)
# channels_redis's receive, steps 1-3 in one script: put back what a cancelled receive left in
# the in-flight backup, pop the oldest message, keep it in the backup until it is handled.
RECEIVE_LUA = """
local backed_up = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = #backed_up, 1, -2 do
    redis.call('ZADD', KEYS[1], backed_up[i], backed_up[i - 1])
end
redis.call('DEL', KEYS[2])
local popped = redis.call('ZPOPMIN', KEYS[1])
if popped[1] then
    redis.call('ZADD', KEYS[2], popped[2], popped[1])
    return popped[1]
end
return false
"""
RECEIVE_SHA = sha1(RECEIVE_LUA.encode()).hexdigest()  # noqa: S324
# Scores of one batch's sends step by a microsecond: distinct, increasing, and far below the
# resolution at which batches follow each other.
_SCORE_STEP = 1e-6


class PipelinedRedisChannelLayer(RedisChannelLayer):
    """``RedisChannelLayer`` whose group sends are pipelined (see the module docstring)."""

    async def _brpop_with_clean(self, index: int, channel: str, timeout: float) -> Any:
        """Take a channel's next message: one round trip when one is waiting.

        channels_redis spends three (cleanup script, BZPOPMIN, backup ZADD) per message, and a
        console process receives every message of its 1,500 sockets through this path. Only
        when the channel is empty does it fall back to the blocking wait.
        """
        connection = self.connection(index)
        backup = self._backup_channel_name(channel)
        try:
            member = await connection.evalsha(RECEIVE_SHA, 2, channel, backup)
        except NoScriptError:
            member = await connection.eval(RECEIVE_LUA, 2, channel, backup)
        if member:
            return member
        return await super()._brpop_with_clean(index, channel, timeout)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Send a message to every channel of a group (two round trips)."""
        await self.group_send_many([(group, message)])

    async def group_send_many(self, sends: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Send each message to every channel of its group, in order, pipelined."""
        if not sends:
            return
        now = time.time()
        members = await self._group_members([group for group, _ in sends], now)
        for index, calls in deliveries(self, sends, members, now).items():
            await self._deliver(index, calls, now)

    async def _group_members(self, groups: list[str], now: float) -> list[list[str]]:
        positions: dict[int, list[int]] = defaultdict(list)
        for position, group in enumerate(groups):
            positions[self.consistent_hash(group)].append(position)
        members: list[list[str]] = [[] for _ in groups]
        for index, group_positions in positions.items():
            pipe = self.connection(index).pipeline(transaction=False)
            for position in group_positions:
                queue_group_reads(self, pipe, groups[position], now)
            results = await pipe.execute()
            for offset, position in enumerate(group_positions):
                members[position] = [name.decode("utf8") for name in results[2 * offset + 1]]
        return members

    async def _deliver(
        self, index: int, calls: list[tuple[list[str], list[Any]]], now: float
    ) -> None:
        connection = self.connection(index)
        for attempt in range(2):
            pipe = connection.pipeline(transaction=False)
            script_results = queue_deliveries(self, pipe, calls, now)
            try:
                results = await pipe.execute()
            except NoScriptError:
                # First use on this server (or it restarted): every EVALSHA of the pipeline
                # failed, so nothing was delivered; load the script and send again (expiring
                # old messages twice is harmless).
                if attempt:
                    raise
                await connection.script_load(DELIVER_LUA)
                continue
            _log_over_capacity(sum(results[position] for position in script_results))
            return


# ------------------------------------------------------------- shared with the sync sender
# apps/console/realtime.py sends from gevent processes with redis-py's synchronous client (no
# event loop may run there); it builds and queues the same commands through these helpers.

Delivery = tuple[list[str], list[Any]]


def deliveries(
    layer: RedisChannelLayer,
    sends: Sequence[tuple[str, dict[str, Any]]],
    members: Sequence[list[str]],
    now: float,
) -> dict[int, list[Delivery]]:
    """Return, per Redis connection index, the (channel keys, script args) of each send."""
    calls: dict[int, list[Delivery]] = defaultdict(list)
    for position, ((_group, message), channel_names) in enumerate(zip(sends, members, strict=True)):
        if not channel_names:
            continue
        by_connection, messages, capacities = layer._map_channel_keys_to_connection(
            channel_names, message
        )
        score = now + position * _SCORE_STEP
        for index, keys in by_connection.items():
            args = [messages[key] for key in keys] + [capacities[key] for key in keys]
            calls[index].append((keys, [*args, score, layer.expiry]))
    return calls


def queue_group_reads(layer: RedisChannelLayer, pipe: Any, group: str, now: float) -> None:
    """Queue the two commands whose second result is a group's member channels."""
    assert layer.require_valid_group_name(group), "Group name not valid"
    key = layer._group_key(group)
    pipe.zremrangebyscore(key, min=0, max=int(now) - layer.group_expiry)
    pipe.zrange(key, 0, -1)


def queue_deliveries(
    layer: RedisChannelLayer, pipe: Any, calls: list[Delivery], now: float
) -> list[int]:
    """Queue the deliveries on a pipeline; return the positions of the script results."""
    script_results: list[int] = []
    for keys, args in calls:
        for key in keys:
            pipe.zremrangebyscore(key, min=0, max=int(now) - int(layer.expiry))
        script_results.append(len(pipe))
        pipe.evalsha(DELIVER_SHA, len(keys), *keys, *args)
    return script_results


def group_send_sync(
    layer: RedisChannelLayer, group: str, message: dict[str, Any], client: Callable[[int], Any]
) -> None:
    """Send like ``group_send`` with synchronous redis-py clients (``client(index)``)."""
    now = time.time()
    pipe = client(layer.consistent_hash(group)).pipeline(transaction=False)
    queue_group_reads(layer, pipe, group, now)
    members = [name.decode("utf8") for name in pipe.execute()[1]]
    for index, calls in deliveries(layer, [(group, message)], [members], now).items():
        connection = client(index)
        for attempt in range(2):
            pipe = connection.pipeline(transaction=False)
            script_results = queue_deliveries(layer, pipe, calls, now)
            try:
                results = pipe.execute()
            except NoScriptError:  # see PipelinedRedisChannelLayer._deliver
                if attempt:
                    raise
                connection.script_load(DELIVER_LUA)
                continue
            _log_over_capacity(sum(results[position] for position in script_results))
            break


def _log_over_capacity(count: int) -> None:
    if count:
        logger.info("%s channel message(s) over capacity in a group send", count)
