"""Demo data of the telephony app: the node records of FREESWITCH_NODES (the simulator's)."""

from __future__ import annotations

from django.conf import settings

from apps.telephony.services import freeswitch_nodes_sync


def seed() -> list[str]:
    """Create the configured FreeSWITCH nodes if missing; return lines to print."""
    result = freeswitch_nodes_sync(nodes=settings.FREESWITCH_NODES)
    return [
        f"  FreeSWITCH node {node['name']} at {node['host']}:{node.get('port', 8021)}"
        for node in settings.FREESWITCH_NODES
        if node["name"] in (*result.created, *result.unchanged)
    ]
