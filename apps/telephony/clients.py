"""One long-lived ESL connection per FreeSWITCH node per worker process, shared by every task.

The telephony Celery worker runs a gevent pool: all its tasks are greenlets of one hub, which is
what an ``ESLConnection`` requires. The connection is opened lazily on the first command for a
node, reconnects on its own (capped backoff, heartbeat watchdog) and is replaced only when the
node's address or password changes. Web processes never call this module.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from apps.telephony.esl import ConnectionConfig, ESLConnection, FreeSwitchClient, NotConnected
from apps.telephony.models import FreeswitchNode

logger = logging.getLogger(__name__)

# How long a task waits for a node's session to come up before giving up (and retrying later).
CONNECT_WAIT_SECONDS = 5.0


@dataclass
class _Entry:
    fingerprint: tuple[str, int, str]
    connection: ESLConnection
    client: FreeSwitchClient


_entries: dict[str, _Entry] = {}


def client_for_node(
    node: FreeswitchNode, *, wait: float = CONNECT_WAIT_SECONDS
) -> FreeSwitchClient:
    """Return the process's client for a node, connecting on first use.

    Raises ``NotConnected`` when no session is up within ``wait`` seconds (nothing was sent).
    """
    fingerprint = (node.host, node.port, node.password)
    entry = _entries.get(node.name)
    if entry is not None and entry.fingerprint != fingerprint:
        entry.connection.close()
        entry = None
    if entry is None:
        connection = ESLConnection(
            ConnectionConfig(host=node.host, port=node.port, password=node.password)
        )
        connection.start()
        entry = _Entry(fingerprint, connection, FreeSwitchClient(connection))
        _entries[node.name] = entry
        logger.info("telephony worker: ESL connection to node %s opened", node.name)
    if not entry.connection.wait_until_up(wait):
        raise NotConnected(f"FreeSWITCH node {node.name} is not reachable")
    return entry.client


def close_all() -> None:
    """Close every connection of this process (worker shutdown, tests)."""
    for entry in _entries.values():
        entry.connection.close()
    _entries.clear()
