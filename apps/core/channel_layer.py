"""The suite's channel layer: channels_redis with group sends in two pipelined round trips.

``RedisChannelLayer.group_send`` makes four round trips per group (expire members, read members,
expire each member channel's old messages, then an ``EVAL`` that ships the whole Lua script) and
the event process sends thousands of group messages a second. ``group_send_many`` sends a batch
of (group, message) pairs with one pipeline per Redis connection to read the groups' members and
one to deliver (``EVALSHA`` of the same script, loaded once per connection). Storage keys,
message encoding and the delivery script are channels_redis's own, so consumers read the
messages as usual; requirements.txt pins channels-redis because this relies on its internals
(``_group_key``, ``_map_channel_keys_to_connection``), and tests/core/test_channel_layer.py
checks the two against each other.

Order: a channel's messages are a sorted set scored by send time, so each send of a batch gets
its own increasing score and a console receives a batch's messages in the order submitted.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from hashlib import sha1
from typing import Any

from channels_redis.core import RedisChannelLayer
from redis.exceptions import NoScriptError

logger = logging.getLogger(__name__)

# channels_redis 4.3's group delivery script: add to each channel under its capacity.
_DELIVER_LUA = """
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
_DELIVER_SHA = sha1(_DELIVER_LUA.encode()).hexdigest()  # noqa: S324  (Redis names scripts by SHA-1)
# Scores of one batch's sends step by a microsecond: distinct, increasing, and far below the
# resolution at which batches follow each other.
_SCORE_STEP = 1e-6


class PipelinedRedisChannelLayer(RedisChannelLayer):
    """``RedisChannelLayer`` whose group sends are pipelined (see the module docstring)."""

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Send a message to every channel of a group (two round trips)."""
        await self.group_send_many([(group, message)])

    async def group_send_many(self, sends: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Send each message to every channel of its group, in order, pipelined."""
        if not sends:
            return
        now = time.time()
        members = await self._group_members([group for group, _ in sends], now)
        deliveries: dict[int, list[tuple[list[str], list[Any]]]] = defaultdict(list)
        for position, ((_group, message), channel_names) in enumerate(
            zip(sends, members, strict=True)
        ):
            if not channel_names:
                continue
            by_connection, messages, capacities = self._map_channel_keys_to_connection(
                channel_names, message
            )
            score = now + position * _SCORE_STEP
            for index, keys in by_connection.items():
                args = [messages[key] for key in keys] + [capacities[key] for key in keys]
                deliveries[index].append((keys, [*args, score, self.expiry]))
        for index, calls in deliveries.items():
            await self._deliver(index, calls, now)

    async def _group_members(self, groups: list[str], now: float) -> list[list[str]]:
        positions: dict[int, list[int]] = defaultdict(list)
        for position, group in enumerate(groups):
            assert self.require_valid_group_name(group), "Group name not valid"
            positions[self.consistent_hash(group)].append(position)
        members: list[list[str]] = [[] for _ in groups]
        for index, group_positions in positions.items():
            pipe = self.connection(index).pipeline(transaction=False)
            for position in group_positions:
                key = self._group_key(groups[position])
                pipe.zremrangebyscore(key, min=0, max=int(now) - self.group_expiry)
                pipe.zrange(key, 0, -1)
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
            script_results: list[int] = []
            for keys, args in calls:
                for key in keys:
                    pipe.zremrangebyscore(key, min=0, max=int(now) - int(self.expiry))
                script_results.append(len(pipe))
                pipe.evalsha(_DELIVER_SHA, len(keys), *keys, *args)
            try:
                results = await pipe.execute()
            except NoScriptError:
                # First use on this server (or it restarted): every EVALSHA of the pipeline
                # failed, so nothing was delivered; load the script and send again (expiring
                # old messages twice is harmless).
                if attempt:
                    raise
                await connection.script_load(_DELIVER_LUA)
                continue
            over_capacity = sum(results[position] for position in script_results)
            if over_capacity:
                logger.info("%s channel message(s) over capacity in a group send", over_capacity)
            return
