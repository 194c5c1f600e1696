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

Receive on process-local channels (every consumer's ``specific.<prefix>!<id>``): channels_redis
makes each waiting consumer race for one lock with two fresh tasks per message, so with 1,500
sockets in a process every message woke, cancelled and re-created thousands of tasks and cost two
serial round trips (pop, then a backup clean-up); that was half the console web process's time.
Here a reader task pops the process's messages in batches (``ZPOPMIN`` of up to ``LOCAL_BATCH``;
a blocking ``BZPOPMIN`` only when none wait) and hands each to the waiting receive of every
channel it names (or to that channel's buffer while its consumer is busy); it runs only while
some receive waits, so what nobody waits for stays in Redis. No in-flight backup is kept: a
consumer's cancelled receive cannot lose a popped message (it only waits for a hand-over), and
the reader is only stopped when nothing in the process waits any more.
Other channels (no ``!``) are received as channels_redis does, in one round trip instead of three
when a message waits.

Order: a channel's messages are a sorted set scored by send time, so each send of a batch gets
its own increasing score and a console receives a batch's messages in the order submitted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from hashlib import sha1
from typing import Any

from channels_redis.core import RedisChannelLayer
from redis.asyncio import BlockingConnectionPool
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


# Redis connections per process and host, and how long a command waits for one of them.
POOL_MAX_CONNECTIONS = 64
POOL_WAIT_SECONDS = 20
# Messages popped per round trip by a process's local reader.
LOCAL_BATCH = 256
# A short block when nothing waits: well inside any socket timeout the connection was given.
LOCAL_BLOCK_SECONDS = 1


class _LocalInbox:
    """The process-local channels of one Redis key ("specific.<client prefix>!"): what was
    popped for them, who waits, and the reader (one per event loop with waiting receives).

    Buffers do not belong to an event loop (a test's receives may each run in a new loop, and
    a batch popped in one must still reach the next). The reader runs only while some receive
    waits: what nobody waits for stays in Redis, as with channels_redis.
    """

    def __init__(self, layer: PipelinedRedisChannelLayer, non_local_name: str) -> None:
        self.layer = layer
        self.key = layer.prefix + non_local_name
        self.index = layer.consistent_hash(non_local_name)
        self.buffers: dict[str, deque[dict[str, Any]]] = {}
        self.touched: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        # Per event loop, how many of its waiters no message was handed to yet (counted, not
        # scanned: 1,500 consoles end their receives one after another on every broadcast).
        self.pending: dict[asyncio.AbstractEventLoop, int] = {}
        self.readers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}
        self.swept_at = time.monotonic()

    async def receive(self, channel: str) -> dict[str, Any]:
        buffer = self.buffers.get(channel)
        if buffer:
            return self._take(channel, buffer)
        if channel in self.waiters:
            raise RuntimeError(f"Two receives on one channel at once: {channel}")
        loop = asyncio.get_running_loop()
        waiter = self.waiters[channel] = loop.create_future()
        self.pending[loop] = self.pending.get(loop, 0) + 1
        reader = self.readers.get(loop)
        if reader is None or reader.done():
            self.readers[loop] = loop.create_task(self._read(loop))
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # Cancelled just after its message was handed over: keep it for the next receive.
                self.buffers.setdefault(channel, deque()).appendleft(waiter.result())
                self.touched[channel] = time.monotonic()
            raise
        finally:
            del self.waiters[channel]
            if waiter.cancelled():
                self.pending[loop] -= 1  # no message was handed to it
            if not self._waiting_in(loop):
                # Nobody of this loop waits (the consumer ended, a receive timed out): stop
                # reading; what arrives meanwhile waits in Redis.
                reader = self.readers.pop(loop, None)
                if reader is not None and reader is not asyncio.current_task():
                    reader.cancel()

    def _take(self, channel: str, buffer: deque[dict[str, Any]]) -> dict[str, Any]:
        message = buffer.popleft()
        if not buffer:
            del self.buffers[channel]
            self.touched.pop(channel, None)
        return message

    def stop(self) -> None:
        for reader in self.readers.values():
            reader.cancel()
        self.readers.clear()

    def _waiting_in(self, loop: asyncio.AbstractEventLoop) -> bool:
        return self.pending.get(loop, 0) > 0

    async def _read(self, loop: asyncio.AbstractEventLoop) -> None:
        task = asyncio.current_task()
        failures = 0
        while self._waiting_in(loop):
            try:
                members = await self._pop()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis restarting: keep the consumers, retry with a backoff
                if task is not None and task.cancelling():
                    return  # stopped; redis-py turned the cancellation into its own error
                failures += 1
                logger.exception("channel layer: reading this process's messages failed")
                await asyncio.sleep(min(0.1 * 2**failures, 5.0))
                continue
            for member in members:
                self._hand_over(member, loop)
            self._sweep()
            if task is not None and task.cancelling():
                return  # redis-py may swallow a cancellation that arrives as it starts a block

    async def _pop(self) -> list[bytes]:
        connection = self.layer.connection(self.index)
        popped = await connection.zpopmin(self.key, LOCAL_BATCH)
        if popped:
            return [member for member, _score in popped]
        result = await connection.bzpopmin(self.key, timeout=LOCAL_BLOCK_SECONDS)
        return [result[1]] if result else []

    def _hand_over(self, member: bytes, loop: asyncio.AbstractEventLoop) -> None:
        try:
            message = self.layer.deserialize(member)
        except Exception:  # one undecodable message must not stop the process's consumers
            logger.exception("channel layer: dropped an undecodable message")
            return
        channels = message.pop("__asgi_channel__", None)
        # One message names every channel of this process it was sent to (channels_redis
        # groups them per Redis key): the same object goes to each, as channels_redis does.
        for channel in channels if isinstance(channels, list) else [channels]:
            waiter = self.waiters.get(channel)
            if waiter is not None and not waiter.done() and waiter.get_loop() is loop:
                waiter.set_result(message)
                self.pending[loop] -= 1
            else:  # busy with its previous message (or receiving in another loop)
                self.buffers.setdefault(channel, deque()).append(message)
                self.touched[channel] = time.monotonic()

    def _sweep(self) -> None:
        """Drop the messages of channels nobody received for the layer's expiry (ended
        consumers: channels_redis drops expired messages too)."""
        now = time.monotonic()
        if now - self.swept_at < 10:
            return
        self.swept_at = now
        for channel, touched in list(self.touched.items()):
            if now - touched > self.layer.expiry and channel not in self.waiters:
                self.buffers.pop(channel, None)
                del self.touched[channel]


class PipelinedRedisChannelLayer(RedisChannelLayer):
    """``RedisChannelLayer`` whose group sends are pipelined and whose process-local receives
    share one batched reader (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inboxes: dict[str, _LocalInbox] = {}  # by local key ("specific.<prefix>!")

    def create_pool(self, index: int) -> Any:
        """A pool whose callers wait for a free connection past ``max_connections`` (default
        ``POOL_MAX_CONNECTIONS``) instead of failing: 1,500 consoles closing at once (a proxy
        restart) each discard their groups, and redis-py's plain pool answered most of them
        "Too many connections"."""
        host = dict(self.hosts[index])
        if "address" not in host:
            return super().create_pool(index)
        host.setdefault("max_connections", POOL_MAX_CONNECTIONS)
        host.setdefault("timeout", POOL_WAIT_SECONDS)
        return BlockingConnectionPool.from_url(host.pop("address"), **host)

    async def receive(self, channel: str) -> dict[str, Any]:
        """Return the channel's next message (process-local ones through the shared reader)."""
        if "!" not in channel:
            return await super().receive(channel)
        assert self.require_valid_channel_name(channel)
        name = self.non_local_name(channel)
        assert name.endswith(self.client_prefix + "!"), "Wrong client prefix"
        inbox = self._inboxes.get(name)
        if inbox is None:
            inbox = self._inboxes[name] = _LocalInbox(self, name)
        return await inbox.receive(channel)

    async def flush(self) -> None:
        for inbox in self._inboxes.values():
            inbox.stop()
        self._inboxes.clear()
        await super().flush()

    async def close_pools(self) -> None:
        for inbox in self._inboxes.values():
            inbox.stop()
        await super().close_pools()

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
        members: list[list[str]] = [[] for _ in groups]
        for index, positions in groups_by_connection(self, groups).items():
            pipe = self.connection(index).pipeline(transaction=False)
            for position in positions:
                queue_group_reads(self, pipe, groups[position], now)
            store_group_members(members, positions, await pipe.execute())
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
# apps/core/realtime.py sends from gevent processes with redis-py's synchronous client (no
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


def groups_by_connection(layer: RedisChannelLayer, groups: Sequence[str]) -> dict[int, list[int]]:
    """Return, per Redis connection index, the positions of the groups stored there."""
    positions: dict[int, list[int]] = defaultdict(list)
    for position, group in enumerate(groups):
        positions[layer.consistent_hash(group)].append(position)
    return positions


def queue_group_reads(layer: RedisChannelLayer, pipe: Any, group: str, now: float) -> None:
    """Queue the two commands whose second result is a group's member channels."""
    assert layer.require_valid_group_name(group), "Group name not valid"
    key = layer._group_key(group)
    pipe.zremrangebyscore(key, min=0, max=int(now) - layer.group_expiry)
    pipe.zrange(key, 0, -1)


def store_group_members(
    members: list[list[str]], positions: Sequence[int], results: Sequence[Any]
) -> None:
    """Put each group's member channels (from ``queue_group_reads`` results) at its position."""
    for offset, position in enumerate(positions):
        members[position] = [name.decode("utf8") for name in results[2 * offset + 1]]


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


def group_send_many_sync(
    layer: RedisChannelLayer,
    sends: Sequence[tuple[str, dict[str, Any]]],
    client: Callable[[int], Any],
) -> None:
    """Send like ``group_send_many`` with synchronous redis-py clients (``client(index)``): one
    pipelined round trip per Redis connection to read the groups' members, one to deliver."""
    if not sends:
        return
    now = time.time()
    groups = [group for group, _message in sends]
    members: list[list[str]] = [[] for _ in sends]
    for index, positions in groups_by_connection(layer, groups).items():
        pipe = client(index).pipeline(transaction=False)
        for position in positions:
            queue_group_reads(layer, pipe, groups[position], now)
        store_group_members(members, positions, pipe.execute())
    for index, calls in deliveries(layer, sends, members, now).items():
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
