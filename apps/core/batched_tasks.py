"""Many small calls of one Celery task, sent as one message per task and turn.

The telephony event process's subscribers publish a task message per call (a finished call for
the timeline, a queued caller whose screen-pop to prepare): about a millisecond of CPU and a Redis
round trip each, on the one hub that also reads and writes every event. ``send_soon(task, *args)``
queues the call instead; a greenlet sends, at most ``BATCH_WAIT`` seconds later, ONE message per
task with every queued call's arguments (``task.apply_async(args=[[args, ...]])``), so the task
takes a list of argument lists (see ``for_each``). Where gevent does not run the process (web,
workers, tests) the call is sent at once, as a list of one: the same task, the same message shape.

Delivery is Celery's as usual (a message lost in a crash loses its calls, as a lost single message
would); callers publish after their commit, as they did.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from apps.core.realtime import gevent_patched

logger = logging.getLogger(__name__)

# How long a call may wait for the others of its turn.
BATCH_WAIT = 0.005
# Calls per message at most.
BATCH_MAX = 500

_pending: dict[Any, list[list[Any]]] = {}
_flusher: Any = None


def send_soon(task: Any, *args: Any) -> None:
    """Send ``task`` a call with ``args``, batched with the other calls of this turn."""
    if not gevent_patched():
        _publish(task, [list(args)])
        return
    _pending.setdefault(task, []).append(list(args))
    _ensure_flusher()


def flush() -> None:
    """Send every queued call now (shutdown, tests)."""
    while _pending:
        task, calls = _pending.popitem()
        for start in range(0, len(calls), BATCH_MAX):
            _publish(task, calls[start : start + BATCH_MAX])


def for_each(calls: Iterable[list[Any]], function: Callable[..., Any]) -> list[Any]:
    """Run ``function(*args)`` for each call of a batch (in a task); one failing call is logged
    and does not stop the others. Return the results (None for a failed call)."""
    results = []
    for args in calls:
        try:
            results.append(function(*args))
        except Exception:
            logger.exception("batched call %s%r failed", getattr(function, "__name__", ""), args)
            results.append(None)
    return results


def _publish(task: Any, calls: list[list[Any]]) -> None:
    try:
        task.apply_async(args=[calls])
    except Exception:  # like enqueue_on_commit's callers: logged, never raised into the caller
        logger.exception("could not send %s call(s) of %s", len(calls), task.name)


def _ensure_flusher() -> None:
    global _flusher  # noqa: PLW0603  (one flusher greenlet per process)
    if _flusher is None or _flusher.dead:
        import gevent

        def run() -> None:
            gevent.sleep(BATCH_WAIT)
            global _flusher  # noqa: PLW0603
            _flusher = None
            flush()

        _flusher = gevent.spawn(run)
