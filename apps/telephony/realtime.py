"""Browser pushes from the telephony event process, off the path that commits events.

Each commit of the event process may owe agents' consoles a few messages (their leg rang, was
answered, hung up...). Sending them inline would make the next batch wait for Redis.
``PushSender`` takes messages from a bounded queue (a browser update is best effort: beyond
``max_pending`` the oldest are dropped and the console catches up with its ``resync``) and sends
them from a greenlet of its own, in batches: with the suite's Redis layer synchronously over
gevent's sockets (``group_send_many_sync``: two pipelined round trips a batch), on the hub like
everything else in the process. It used to send from an asyncio loop in a native thread; that
thread's CPU made the hub wait for the GIL after each of its own socket round trips. Other
layers (the in-memory demo layer) are sent to from one long-lived asyncio loop in one native
thread (a loop running in a greenlet would make Django believe every other greenlet of the hub
is in an async context and refuse their database calls).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import gevent
import gevent.event
from channels.layers import get_channel_layer
from gevent.threadpool import ThreadPool

from apps.core.realtime import (
    broadcast_message,
    group_send_many_sync_on_hub,
    sends_synchronously,
)

logger = logging.getLogger(__name__)

Push = tuple[str, str, dict[str, Any]]
# Group sends per pipelined round trip (channel layers with ``group_send_many``).
PIPELINE_CHUNK = 200


@dataclass
class PushStats:
    """Counters of a ``PushSender`` (cumulative)."""

    submitted: int = 0
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    lags: list[float] = field(default_factory=list)
    max_lag_samples: int = 200_000


class PushSender:
    """Send group messages through the channel layer from one long-lived event loop."""

    def __init__(self, *, max_pending: int = 20_000, concurrency: int = 10) -> None:
        self.max_pending = max_pending
        self.concurrency = concurrency
        self.stats = PushStats()
        self._queue: deque[tuple[float, Push]] = deque()
        self._wake = gevent.event.Event()
        self._idle = gevent.event.Event()
        self._idle.set()
        self._stopping = False
        self._greenlet: gevent.Greenlet | None = None
        self._pool: ThreadPool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Start the sending greenlet (and its native thread)."""
        self._pool = ThreadPool(1)
        self._greenlet = gevent.spawn(self._run)

    def submit(self, pushes: list[Push]) -> None:
        """Queue messages; never blocks (drops the oldest beyond ``max_pending``)."""
        now = time.monotonic()
        for push in pushes:
            if len(self._queue) >= self.max_pending:
                self._queue.popleft()
                self.stats.dropped += 1
            self._queue.append((now, push))
        self.stats.submitted += len(pushes)
        if pushes:
            self._idle.clear()
            self._wake.set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every queued message was sent (or failed)."""
        return self._idle.wait(timeout)

    def stop(self, *, timeout: float = 5.0) -> None:
        """Send what is queued (up to ``timeout``), then stop."""
        self._stopping = True
        self._wake.set()
        if self._greenlet is not None:
            self._greenlet.join(timeout=timeout)
            self._greenlet.kill()
        if self._pool is not None:
            if self._loop is not None:
                self._pool.apply(self._loop.close)
                self._loop = None
            self._pool.kill()
            self._pool = None

    def _run(self) -> None:
        layer = get_channel_layer()
        while True:
            if not self._queue:
                self._idle.set()
                if self._stopping:
                    return
                self._wake.clear()
                self._wake.wait(1.0)
                continue
            batch = [self._queue.popleft() for _ in range(min(len(self._queue), 500))]
            if layer is None or self._pool is None:
                continue
            try:
                if sends_synchronously(layer):
                    self._send_on_hub(layer, batch)
                else:
                    # Cooperative wait: the hub runs other greenlets while the thread sends.
                    self._pool.apply(self._send_in_thread, (layer, batch))
            except Exception:  # a push failure must never stop the sender
                logger.exception("telephony pushes failed")
                self.stats.failed += len(batch)

    def _send_on_hub(self, layer: Any, batch: list[tuple[float, Push]]) -> None:
        for start in range(0, len(batch), PIPELINE_CHUNK):
            chunk = batch[start : start + PIPELINE_CHUNK]
            try:
                group_send_many_sync_on_hub(
                    layer,
                    [
                        (group, broadcast_message(kind, payload))
                        for _, (group, kind, payload) in chunk
                    ],
                )
            except Exception as error:  # noqa: BLE001  (best effort, reported)
                logger.warning("realtime pushes (%d) failed: %s", len(chunk), error)
                self.stats.failed += len(chunk)
            else:
                self._sent([queued_at for queued_at, _ in chunk])

    def _send_in_thread(self, layer: Any, batch: list[tuple[float, Push]]) -> None:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._send(layer, batch))

    async def _send(self, layer: Any, batch: list[tuple[float, Push]]) -> None:
        results = await send_group_messages(
            layer, [push for _, push in batch], concurrency=self.concurrency
        )
        self.stats.failed += results.count(False)
        self._sent([queued_at for (queued_at, _), sent in zip(batch, results, strict=True) if sent])

    def _sent(self, queued_at: list[float]) -> None:
        stats = self.stats
        stats.sent += len(queued_at)
        now = time.monotonic()
        room = stats.max_lag_samples - len(stats.lags)
        if room > 0:
            stats.lags.extend(now - moment for moment in queued_at[:room])


async def send_group_messages(
    layer: Any, pushes: list[Push], *, concurrency: int = 10
) -> list[bool]:
    """Send pushes through the channel layer; return, in order, whether each one was sent.

    Pipelined, a chunk per ``group_send_many``, on layers that have it (the suite's); one
    ``group_send`` each, ``concurrency`` at a time, on others (the in-memory demo layer).
    Failures are logged and reported, never raised: a browser update is best effort.
    """
    if hasattr(layer, "group_send_many"):
        results: list[bool] = []
        for start in range(0, len(pushes), PIPELINE_CHUNK):
            chunk = pushes[start : start + PIPELINE_CHUNK]
            try:
                await layer.group_send_many(
                    [(group, broadcast_message(kind, payload)) for group, kind, payload in chunk]
                )
            except Exception as error:  # noqa: BLE001  (best effort, reported)
                logger.warning("realtime pushes (%d) failed: %s", len(chunk), error)
                results.extend([False] * len(chunk))
            else:
                results.extend([True] * len(chunk))
        return results
    semaphore = asyncio.Semaphore(concurrency)

    async def send(group: str, message_type: str, payload: dict[str, Any]) -> bool:
        async with semaphore:
            try:
                await layer.group_send(group, broadcast_message(message_type, payload))
            except Exception as error:  # noqa: BLE001  (best effort, reported)
                logger.warning("realtime push to %s failed: %s", group, error)
                return False
        return True

    return list(await asyncio.gather(*(send(*push) for push in pushes)))
