"""Erlang C staffing: agents needed for a service-level target. Pure functions, no Django.

Traffic ``A = arrivals per second * average handle time`` (in Erlangs). With ``N > A`` agents:

- probability that a call waits ``Pw = C(N, A)`` (Erlang C, computed from the Erlang B recursion
  ``B(0) = 1, B(n) = A*B(n-1) / (n + A*B(n-1))`` and ``C = N*B / (N - A*(1 - B))``, which stays
  numerically stable where factorials overflow);
- service level ``SL(t) = 1 - Pw * exp(-(N - A) * t / AHT)``;
- average speed of answer ``ASA = Pw * AHT / (N - A)``; occupancy ``A / N``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_AGENTS = 100_000


@dataclass(frozen=True)
class Staffing:
    """The staffing that meets a target, with the figures it achieves."""

    agents: int
    traffic_erlangs: float
    probability_of_waiting: float
    service_level: float
    average_speed_of_answer_seconds: float
    occupancy: float


def traffic_erlangs(*, calls_per_hour: float, aht_seconds: float) -> float:
    """Return the offered traffic in Erlangs."""
    return calls_per_hour * aht_seconds / 3600.0


def _erlang_c_from_b(b: float, agents: int, traffic: float) -> float:
    return agents * b / (agents - traffic * (1.0 - b))


def erlang_b(*, traffic: float, agents: int) -> float:
    """Return the Erlang B blocking probability of ``agents`` servers offered ``traffic``."""
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(*, traffic: float, agents: int) -> float:
    """Return the probability that a call waits (1.0 when the agents cannot keep up)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    return _erlang_c_from_b(erlang_b(traffic=traffic, agents=agents), agents, traffic)


def service_level(
    *, traffic: float, agents: int, aht_seconds: float, target_seconds: float
) -> float:
    """Return the share of calls answered within ``target_seconds`` (0..1)."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    waits = erlang_c(traffic=traffic, agents=agents)
    return 1.0 - waits * math.exp(-(agents - traffic) * target_seconds / aht_seconds)


def average_speed_of_answer(*, traffic: float, agents: int, aht_seconds: float) -> float:
    """Return the mean wait of all calls in seconds (infinite when the agents cannot keep up)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(traffic=traffic, agents=agents) * aht_seconds / (agents - traffic)


def agents_required(
    *,
    calls_per_hour: float,
    aht_seconds: float,
    target_percent: float,
    target_seconds: float,
) -> Staffing:
    """Return the fewest agents whose service level reaches ``target_percent`` within the time."""
    if calls_per_hour < 0 or aht_seconds <= 0:
        raise ValueError("The arrival rate must be >= 0 and the handle time > 0.")
    if not 0 < target_percent < 100:
        raise ValueError("The service-level target must be between 0 and 100 percent (exclusive).")
    if target_seconds < 0:
        raise ValueError("The answer time target must be >= 0 seconds.")
    traffic = traffic_erlangs(calls_per_hour=calls_per_hour, aht_seconds=aht_seconds)
    if traffic == 0:
        return Staffing(0, 0.0, 0.0, 1.0, 0.0, 0.0)
    target = target_percent / 100.0
    # Walk N upwards keeping B(N) incrementally: O(N) instead of O(N^2).
    b = 1.0
    for agents in range(1, MAX_AGENTS + 1):
        b = traffic * b / (agents + traffic * b)
        if agents <= traffic:
            continue
        waits = _erlang_c_from_b(b, agents, traffic)
        level = 1.0 - waits * math.exp(-(agents - traffic) * target_seconds / aht_seconds)
        if level >= target:
            return Staffing(
                agents=agents,
                traffic_erlangs=traffic,
                probability_of_waiting=waits,
                service_level=level,
                average_speed_of_answer_seconds=waits * aht_seconds / (agents - traffic),
                occupancy=traffic / agents,
            )
    raise ValueError("The traffic needs more agents than this calculator considers.")
