"""Estimated wait time: pure function, mirrored by the SQL that caches it on waiting calls."""

from __future__ import annotations

import math


def estimate_wait_seconds(*, position: int, aht_seconds: float, staffed_agents: int) -> int | None:
    """Return the expected wait of the caller at ``position`` (1 = next), or None if unknowable.

    With ``N`` staffed agents each freeing up every ``AHT`` seconds on average, one agent frees up
    every ``AHT / N`` seconds, and the caller waits for ``position`` of them. No staffed agent:
    no estimate.
    """
    if staffed_agents <= 0:
        return None
    return math.ceil(position * aht_seconds / staffed_agents)
