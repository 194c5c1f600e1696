"""Channels group names and the one way services push live updates to browsers.

Pushes start in services and are sent after commit, so a browser never sees state that was
rolled back. Payloads are typed dicts with a "type" naming the message (e.g. "call.offered").

Sending: ``async_to_sync(layer.group_send)`` builds a new event loop, hence a new Redis
connection, for every message (about 2 ms of CPU and 5 ms of wall time each). Instead each
process keeps ONE event loop in a background thread (started on first use, again after a fork)
whose channel layer keeps its Redis connections; messages are queued to it and sent in order.
``push_now`` waits until its message was sent; ``push_soon`` (hot paths such as the router)
only hands it over. A connection Redis dropped is replaced on the next send, and a send that
fails on a dropped connection is retried once.

Processes patched by gevent (the telephony worker and event process) send synchronously with
redis-py over gevent's cooperative sockets (``group_send_many_sync_on_hub``: what the layer
writes, in two round trips), one client per gevent hub: no event loop may run there. An
``async_to_sync`` loop running on a hub's OS thread makes Django refuse every other greenlet's
database calls (SynchronousOnlyOperation) and a second concurrent ``async_to_sync`` fail, and the
event process calls its subscribers on its hub. The in-memory layer (no Redis) keeps the
per-message ``async_to_sync``.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction
from redis.exceptions import ConnectionError as RedisConnectionError

from apps.core.channel_layer import group_send_many_sync

logger = logging.getLogger(__name__)

# How long push_now waits for its message to be sent before giving up on waiting.
SEND_TIMEOUT_SECONDS = 5.0


def agent_group(agent_id: int) -> str:
    """Every tab of one agent's console."""
    return f"agent.{agent_id}"


def team_group(team_id: int) -> str:
    """Supervisors' wallboards for one team."""
    return f"team.{team_id}"


def queue_group(queue_id: int) -> str:
    """Live statistics of one queue (agents serving it, supervisors of its teams)."""
    return f"queue.{queue_id}"


def user_group(user_id: int) -> str:
    """Every socket of one user (used to close them on logout or deactivation)."""
    return f"user.{user_id}"


def broadcast_message(message_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Return the channel-layer message a console consumer forwards to its socket as is."""
    return {"type": "broadcast", "message": {"type": message_type, **payload}}


def _send(group: str, message: dict[str, Any]) -> None:
    """Send now: synchronously over gevent's sockets in gevent processes with a Redis layer,
    else with a throwaway event loop (the in-memory layer)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        if gevent_patched() and sends_synchronously(layer):
            group_send_many_sync_on_hub(layer, [(group, message)])
        else:
            async_to_sync(layer.group_send)(group, message)
    except Exception:  # a browser update must never break the business transaction
        logger.exception("realtime push to %s failed", group)


def sends_synchronously(layer: Any) -> bool:
    """Tell whether a layer is the suite's Redis layer, which gevent processes send to
    synchronously (``group_send_many_sync_on_hub``); others need an event loop."""
    return hasattr(layer, "_map_channel_keys_to_connection")


def group_send_many_sync_on_hub(layer: Any, sends: list[tuple[str, dict[str, Any]]]) -> None:
    """Send group messages (pipelined) with this gevent hub's synchronous Redis clients."""
    group_send_many_sync(layer, sends, lambda index: _gevent_redis_client(layer, index))


# Synchronous Redis clients by (gevent hub, host index): a socket belongs to the hub it was made in.
_sync_clients: dict[tuple[int, int], Any] = {}
_sync_clients_lock = threading.Lock()


def _gevent_redis_client(layer: Any, index: int) -> Any:
    import gevent
    import redis

    key = (id(gevent.get_hub()), index)
    with _sync_clients_lock:
        client = _sync_clients.get(key)
        if client is None:
            host = dict(layer.hosts[index])
            address = host.pop("address", None)
            client = redis.Redis.from_url(address, **host) if address else redis.Redis(**host)
            _sync_clients[key] = client
        return client


_Item = tuple[str, dict[str, Any], "Future[None] | None"]


class PersistentSender:
    """One background event loop per process that sends channel-layer messages in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Item] | None = None
        self._drainer: asyncio.Task[None] | None = None

    def _running(self) -> bool:
        return (
            self._pid == os.getpid()
            and self._thread is not None
            and self._thread.is_alive()
            and self._loop is not None
        )

    def _start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            self._queue = asyncio.Queue()
            self._drainer = loop.create_task(self._drain(self._queue))
            ready.set()
            loop.run_forever()

        self._loop = self._queue = None
        self._thread = threading.Thread(target=run, name="realtime-push", daemon=True)
        self._thread.start()
        ready.wait(timeout=5)
        self._pid = os.getpid()

    @staticmethod
    async def _send_retrying(group: str, message: dict[str, Any]) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            await layer.group_send(group, message)
        except (RedisConnectionError, ConnectionError, OSError) as error:
            # Redis dropped the connection (restart, idle timeout, failover); the client opens a
            # new one for the next command, so one more attempt normally succeeds.
            logger.warning("realtime push to %s: %r; retrying once", group, error)
            await layer.group_send(group, message)

    @classmethod
    async def _drain(cls, queue: asyncio.Queue[_Item]) -> None:
        while True:
            group, message, done = await queue.get()
            try:
                await cls._send_retrying(group, message)
            except Exception:  # a browser update must never break the business transaction
                logger.exception("realtime push to %s failed", group)
            finally:
                queue.task_done()
                if done is not None and not done.done():
                    done.set_result(None)

    def submit(self, group: str, message: dict[str, Any], *, wait: bool) -> None:
        """Queue a message; with ``wait``, return once it was sent (or sending failed)."""
        with self._lock:
            if not self._running():  # first use, a forked child, or the thread died
                self._start()
        loop, queue = self._loop, self._queue
        if loop is None or queue is None:  # the thread failed to start
            _send(group, message)
            return
        done: Future[None] | None = Future() if wait else None
        loop.call_soon_threadsafe(queue.put_nowait, (group, message, done))
        if done is not None:
            try:
                done.result(timeout=SEND_TIMEOUT_SECONDS)
            except TimeoutError:
                logger.warning(
                    "realtime push to %s still unsent after %s s", group, SEND_TIMEOUT_SECONDS
                )

    def flush(self, timeout: float = SEND_TIMEOUT_SECONDS) -> None:
        """Wait until every message handed over so far by this process was sent."""
        if not self._running() or self._queue is None or self._loop is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._queue.join(), self._loop)
        future.result(timeout=timeout)


_sender = PersistentSender()


@atexit.register
def _flush_at_exit() -> None:
    try:
        _sender.flush(timeout=2.0)
    except (TimeoutError, RuntimeError):  # best effort: the process is going away
        logger.warning("realtime pushes still unsent at exit")


def gevent_patched() -> bool:
    """Tell whether this process runs under gevent's monkey-patching (event process, worker)."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return bool(monkey.is_module_patched("threading"))


def _persistent_sender_usable() -> bool:
    # Under gevent a background thread is a greenlet; the in-memory layer is bound to the loop
    # of its receivers. Both keep the per-message send.
    return not gevent_patched() and not isinstance(get_channel_layer(), InMemoryChannelLayer)


def push_now(group: str, message_type: str, payload: dict[str, Any]) -> None:
    """Send a message to a group and wait until it was sent (callers outside a transaction)."""
    message = broadcast_message(message_type, payload)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        running_loop = False
    else:
        running_loop = True
    if _persistent_sender_usable():
        # Inside an event loop (an async consumer's sync helper, a test server) blocking on the
        # send would stall that loop: hand it over without waiting.
        _sender.submit(group, message, wait=not running_loop)
    elif running_loop and not gevent_patched():
        # async_to_sync cannot run inside a running loop: send from a worker thread.
        _sender_pool().submit(_send, group, message)
    else:
        _send(group, message)


def push_soon(group: str, message_type: str, payload: dict[str, Any]) -> None:
    """Hand a message over for sending without waiting (hot paths; sent in order)."""
    if _persistent_sender_usable():
        _sender.submit(group, broadcast_message(message_type, payload), wait=False)
    else:
        push_now(group, message_type, payload)


def flush(timeout: float = SEND_TIMEOUT_SECONDS) -> None:
    """Wait until the pushes handed over by this process were sent (tests, shutdown)."""
    _sender.flush(timeout)


@functools.cache
def _sender_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="realtime-push")


def push_on_commit(group: str, message_type: str, payload: dict[str, Any]) -> None:
    """Send a message to a group once the current transaction commits."""
    transaction.on_commit(lambda: push_now(group, message_type, payload))
