"""Liveness of FreeSWITCH nodes as seen by the event processes, shared through Redis.

The event process writes a node's status when its ESL connection comes up or its heartbeat watchdog
declares it down; /healthz and the admin read it. A status older than STATUS_TTL is "unknown".
"""

from __future__ import annotations

import time
from typing import Literal, TypedDict

from django.conf import settings
from django.core.cache import cache

NodeState = Literal["up", "down", "unknown"]
STATUS_TTL_SECONDS = 120


class NodeStatus(TypedDict):
    status: NodeState
    since: float | None
    detail: str


def _key(node_name: str) -> str:
    return f"fs-node-status:{node_name}"


def configured_node_names() -> list[str]:
    """Return the names of the FreeSWITCH nodes this deployment drives."""
    from apps.telephony.models import FreeswitchNode

    # Records are the source of truth once any exists; before the first sync, the settings are.
    if not FreeswitchNode.objects.exists():
        return [node["name"] for node in settings.FREESWITCH_NODES]
    return list(FreeswitchNode.objects.filter(enabled=True).values_list("name", flat=True))


def record_node_status(node_name: str, status: NodeState, detail: str = "") -> None:
    """Publish a node's status for health checks (refreshed by the event process)."""
    value: NodeStatus = {"status": status, "since": time.time(), "detail": detail}
    cache.set(_key(node_name), value, timeout=STATUS_TTL_SECONDS)


def node_status(node_name: str) -> NodeStatus:
    """Return the last published status of a node, or unknown."""
    value = cache.get(_key(node_name))
    if value is None:
        return {"status": "unknown", "since": None, "detail": "no event process has reported"}
    return value
