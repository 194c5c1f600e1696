"""Channels group names and the one way services push live updates to browsers.

Pushes start in services and are sent after commit, so a browser never sees state that was
rolled back. Payloads are typed dicts with a "type" naming the message (e.g. "call.offered").
"""

from __future__ import annotations

import logging
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


def push_now(group: str, message_type: str, payload: dict[str, Any]) -> None:
    """Send a message to a group immediately (callers already outside a transaction)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            group, {"type": "broadcast", "message": {"type": message_type, **payload}}
        )
    except Exception:  # a browser update must never break the business transaction
        logger.exception("realtime push to %s failed", group)


def push_on_commit(group: str, message_type: str, payload: dict[str, Any]) -> None:
    """Send a message to a group once the current transaction commits."""
    transaction.on_commit(lambda: push_now(group, message_type, payload))
