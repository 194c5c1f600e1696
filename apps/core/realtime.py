"""Channels group names and the one way services push live updates to browsers.

Pushes start in services and are sent after commit, so a browser never sees state that was
rolled back. Payloads are typed dicts with a "type" naming the message (e.g. "call.offered").
"""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


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


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # a browser update must never break the business transaction
        logger.exception("realtime push to %s failed", group)


def push_now(group: str, message_type: str, payload: dict[str, Any]) -> None:
    """Send a message to a group immediately (callers already outside a transaction)."""
    message = {"type": "broadcast", "message": {"type": message_type, **payload}}
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        _send(group, message)
        return
    # Called from code running inside an event loop (an async consumer's sync helper, a test
    # server): async_to_sync cannot run here, so hand the send to a worker thread.
    _sender_pool().submit(_send, group, message)


@functools.cache
def _sender_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="realtime-push")


def push_on_commit(group: str, message_type: str, payload: dict[str, Any]) -> None:
    """Send a message to a group once the current transaction commits."""
    transaction.on_commit(lambda: push_now(group, message_type, payload))
