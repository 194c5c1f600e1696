"""Call priority with aging: pure functions, shared by the router's SQL ordering and its tests.

A waiting call's effective priority is its base priority (queue priority + the call's own priority +
its customer tier's bonus) plus one point per ``aging_seconds`` of waiting. Because every call ages
at the same rate, the order of two calls never changes while they wait, so the line can be kept
sorted by one stored key: the *rank time* ``enqueued_at - base * aging_seconds`` (a head start in
time). The smallest rank time has the highest effective priority at every instant, and a call is
never starved: a call arriving more than ``(max_base - base) * aging_seconds`` after it always ranks
behind it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

MAX_QUEUE_PRIORITY = 100
MAX_CALL_PRIORITY = 100
MAX_TIER_BONUS = 100
MAX_BASE_PRIORITY = MAX_QUEUE_PRIORITY + MAX_CALL_PRIORITY + MAX_TIER_BONUS


def clamp(value: int, low: int, high: int) -> int:
    """Return the value limited to [low, high]."""
    return max(low, min(high, value))


def base_priority(*, queue_priority: int, call_priority: int, tier_bonus: int) -> int:
    """Return a call's base priority from its parts, each limited to its allowed range."""
    return (
        clamp(queue_priority, 0, MAX_QUEUE_PRIORITY)
        + clamp(call_priority, 0, MAX_CALL_PRIORITY)
        + clamp(tier_bonus, 0, MAX_TIER_BONUS)
    )


def effective_priority(*, base: int, waited_seconds: float, aging_seconds: float) -> float:
    """Return the priority of a call that has waited this long (higher is served first)."""
    return base + max(waited_seconds, 0.0) / aging_seconds


def rank_at(*, enqueued_at: datetime, base: int, aging_seconds: float) -> datetime:
    """Return the call's rank time: ordering by it ascending is ordering by effective priority."""
    return enqueued_at - timedelta(seconds=base * aging_seconds)


def starvation_bound_seconds(*, base: int, aging_seconds: float) -> float:
    """Return how long after a call any newly arrived call is certain to rank behind it."""
    return (MAX_BASE_PRIORITY - base) * aging_seconds
