"""Synthetic contact-centre traffic: callers arriving at a rate, agents' phones answering.

Everything random comes from one seeded :class:`random.Random`, so a seed reproduces the same
callers, DIDs, IVR choices and talk times (the call *timing* still depends on the loop).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .directory import Endpoint
    from .server import Simulator

# Chinese mobile prefixes (China Mobile, Unicom, Telecom, virtual operators).
_CN_MOBILE = [
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "170",
    "171",
    "173",
    "175",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "184",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]
# Chinese area codes with the local number length that follows them.
_CN_AREAS = (("10", 8), ("20", 8), ("21", 8), ("22", 8), ("23", 8), ("755", 8), ("571", 7))
_NANP_AREAS = ("212", "213", "312", "415", "617", "646", "702", "808", "905")

NumberFormat = Literal["cn_mobile", "nanp", "cn_mobile_local", "cn_landline"]


@dataclass
class CallerPool:
    """Caller numbers in a mix of formats a Chinese/US contact centre sees.

    ``cn_mobile``: ``+8613812345678``; ``nanp``: ``+14155550123``; ``cn_mobile_local``:
    ``13812345678`` (no country code); ``cn_landline``: ``075512345678`` (trunk prefix 0).
    With ``size`` the pool holds that many distinct numbers and callers repeat.
    """

    weights: dict[str, float] = field(
        default_factory=lambda: {
            "cn_mobile": 0.5,
            "nanp": 0.2,
            "cn_mobile_local": 0.2,
            "cn_landline": 0.1,
        }
    )
    size: int | None = None
    seed: int | None = None
    _random: random.Random = field(init=False, repr=False)
    _pool: list[str] = field(init=False, repr=False, default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)  # noqa: S311 - simulated callers
        if self.size:
            self._pool = [self._fresh() for _ in range(self.size)]

    def _fresh(self) -> str:
        rng = self._random
        kinds = list(self.weights)
        kind = rng.choices(kinds, weights=[self.weights[k] for k in kinds])[0]
        return make_number(kind, rng)  # type: ignore[arg-type]

    def next(self) -> str:
        """Return the next caller number."""
        if self._pool:
            return self._random.choice(self._pool)
        return self._fresh()


def make_number(kind: NumberFormat, rng: random.Random) -> str:
    """Return a random number of format ``kind`` (see :class:`CallerPool`)."""
    if kind == "cn_mobile":
        return "+86" + rng.choice(_CN_MOBILE) + f"{rng.randrange(10**8):08d}"
    if kind == "cn_mobile_local":
        return rng.choice(_CN_MOBILE) + f"{rng.randrange(10**8):08d}"
    if kind == "cn_landline":
        area, length = rng.choice(_CN_AREAS)
        first = str(rng.randrange(2, 10))
        return "0" + area + first + f"{rng.randrange(10 ** (length - 1)):0{length - 1}d}"
    if kind == "nanp":
        exchange = f"{rng.randrange(2, 10)}{rng.randrange(100):02d}"
        return "+1" + rng.choice(_NANP_AREAS) + exchange + f"{rng.randrange(10**4):04d}"
    raise ValueError(f"unknown number format {kind!r}")


@dataclass
class TrafficProfile:
    """How calls arrive: ``rate`` per second (Poisson or evenly spaced) for a count/duration.

    ``talk_time``/``patience`` are (min, max) ranges drawn uniformly; ``ivr_choices`` are the
    digit strings a caller may plan to enter ("" = presses nothing).
    """

    rate: float = 1.0
    arrival: Literal["poisson", "fixed"] = "poisson"
    duration: float | None = None
    count: int | None = None
    dids: Sequence[str] = ("4001",)
    talk_time: tuple[float, float] = (30.0, 180.0)
    patience: tuple[float, float] | None = None
    ivr_choices: Sequence[str] = ("1", "2", "3", "")
    callers: CallerPool = field(default_factory=CallerPool)
    seed: int | None = None


@dataclass
class AgentProfile:
    """Agents' phones: ``count`` extensions from ``first_extension``.

    Each answers after a delay drawn from ``answer_after``; a ``no_answer_ratio`` share never
    answers (the caller's side times out with NO_ANSWER).
    """

    count: int = 0
    first_extension: int = 1001
    answer_after: tuple[float, float] = (1.0, 3.0)
    no_answer_ratio: float = 0.0
    seed: int | None = None


@dataclass(frozen=True)
class PlannedCall:
    """One generated call."""

    caller: str
    destination: str
    talk_time: float
    patience: float | None
    digits: str


@dataclass
class TrafficStats:
    """What a generator run did."""

    calls_placed: int = 0
    agents_registered: int = 0
    started_at: float = 0.0
    finished_at: float = 0.0

    @property
    def elapsed(self) -> float:
        """Return the run time in seconds."""
        return max(self.finished_at - self.started_at, 0.0)


class TrafficGenerator:
    """Drive a :class:`~.server.Simulator` with generated agents and calls (on its loop)."""

    def __init__(
        self,
        simulator: Simulator,
        profile: TrafficProfile,
        agents: AgentProfile | None = None,
    ):
        self.simulator = simulator
        self.profile = profile
        self.agents = agents or AgentProfile()
        self.stats = TrafficStats()
        self._random = random.Random(profile.seed)  # noqa: S311 - simulated traffic
        self._stopping = False

    def plan_call(self) -> PlannedCall:
        """Draw the next call's caller, DID, talk time, patience and IVR digits."""
        profile, rng = self.profile, self._random
        patience = rng.uniform(*profile.patience) if profile.patience else None
        return PlannedCall(
            caller=profile.callers.next(),
            destination=rng.choice(list(profile.dids)),
            talk_time=rng.uniform(*profile.talk_time),
            patience=patience,
            digits=rng.choice(list(profile.ivr_choices)) if profile.ivr_choices else "",
        )

    def register_agents(self) -> list[Endpoint]:
        """Register the agents' phones; return them."""
        agents = self.agents
        rng = random.Random(agents.seed)  # noqa: S311 - simulated agents
        silent = round(agents.count * agents.no_answer_ratio)
        silent_indexes = set(rng.sample(range(agents.count), silent)) if agents.count else set()
        endpoints = []
        for index in range(agents.count):
            endpoints.append(
                self.simulator.register_endpoint(
                    str(agents.first_extension + index),
                    answer_after=rng.uniform(*agents.answer_after),
                    answers=index not in silent_indexes,
                )
            )
        self.stats.agents_registered = len(endpoints)
        return endpoints

    def stop(self) -> None:
        """Stop placing calls after the current one."""
        self._stopping = True

    def place(self, call: PlannedCall) -> str:
        """Place one planned call; return its Unique-ID."""
        uuid = self.simulator.place_inbound_call(
            call.caller,
            call.destination,
            talk_time=call.talk_time,
            patience=call.patience,
            digits=call.digits,
        )
        self.stats.calls_placed += 1
        return uuid

    async def run(self) -> TrafficStats:
        """Place calls until the profile's count or duration is reached (or :meth:`stop`)."""
        profile = self.profile
        if profile.rate <= 0:
            raise ValueError("rate must be positive")
        loop = asyncio.get_running_loop()
        self.stats.started_at = time.time()
        start = loop.time()
        offset = 0.0
        while not self._stopping:
            if profile.count is not None and self.stats.calls_placed >= profile.count:
                break
            # A tiny tolerance keeps float sums (10 x 0.01) from admitting one call too many.
            if profile.duration is not None and offset >= profile.duration - 1e-9:
                break
            delay = start + offset - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.place(self.plan_call())
            if profile.arrival == "poisson":
                offset += self._random.expovariate(profile.rate)
            else:
                offset = self.stats.calls_placed / profile.rate
        self.stats.finished_at = time.time()
        return self.stats
