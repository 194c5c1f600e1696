"""Send the console's pushes from any process, including the gevent ones.

apps.core.realtime.push_now runs ``async_to_sync`` per push. In the gevent processes that publish
telephony events (the event process and the telephony worker) greenlets share one OS thread, so
an event loop running in one greenlet (telephony's PushSender, another task's push) makes
``async_to_sync`` in another fail ("cannot use AsyncToSync in the same thread as an async event
loop") and can break the other loop. Under gevent this module therefore sends group messages
with the synchronous Redis client over gevent's cooperative sockets
(``apps.core.channel_layer.group_send_sync``: what the channel layer writes, in two round trips),
so no event loop is involved. Elsewhere it is push_now.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from apps.core.channel_layer import group_send_sync
from apps.core.realtime import broadcast_message, gevent_patched, push_now

logger = logging.getLogger(__name__)

# Sync Redis clients by (gevent hub, host index): a socket belongs to the hub it was made in.
_clients: dict[tuple[int, int], Any] = {}
_clients_lock = threading.Lock()


def _client(layer: Any, index: int) -> Any:
    import gevent
    import redis

    key = (id(gevent.get_hub()), index)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            host = dict(layer.hosts[index])
            address = host.pop("address", None)
            client = redis.Redis.from_url(address, **host) if address else redis.Redis(**host)
            _clients[key] = client
        return client


def push(group: str, message_type: str, payload: dict[str, Any]) -> None:
    """Send a message to a group now (callers are past their commit); never raises."""
    if not gevent_patched():
        push_now(group, message_type, payload)
        return
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    message = broadcast_message(message_type, payload)
    try:
        if hasattr(layer, "_map_channel_keys_to_connection"):
            group_send_sync(layer, group, message, lambda index: _client(layer, index))
        else:  # a layer without Redis (the in-memory demo layer) has no loop to collide with
            push_now(group, message_type, payload)
    except Exception:  # a browser update must never break the caller
        logger.exception("realtime push to %s failed", group)


def push_on_commit(group: str, message_type: str, payload: dict[str, Any]) -> None:
    """Send a message to a group once the current transaction commits."""
    from django.db import transaction

    transaction.on_commit(lambda: push(group, message_type, payload))
