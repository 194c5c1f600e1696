"""Traffic generation: caller number formats, arrivals, agents' phones."""

from __future__ import annotations

import asyncio
import random
import re

import pytest

from apps.telephony.simulator import (
    AgentProfile,
    CallerPool,
    Simulator,
    SimulatorConfig,
    TrafficGenerator,
    TrafficProfile,
)
from apps.telephony.simulator.traffic import make_number

FORMATS = {
    "cn_mobile": r"\+861[3-9]\d{9}",
    "cn_mobile_local": r"1[3-9]\d{9}",
    "cn_landline": r"0(10|2\d|755|571)[2-9]\d{6,7}",
    "nanp": r"\+1[2-9]\d{2}[2-9]\d{6}",
}


@pytest.mark.parametrize(("kind", "pattern"), FORMATS.items())
def test_each_number_format_has_its_shape(kind, pattern):
    rng = random.Random(7)
    for _ in range(200):
        assert re.fullmatch(pattern, make_number(kind, rng))


def test_caller_pool_mixes_formats_and_is_reproducible():
    first = [CallerPool(seed=42).next() for _ in range(1)]
    pool_a, pool_b = CallerPool(seed=42), CallerPool(seed=42)
    numbers = [pool_a.next() for _ in range(400)]
    assert numbers == [pool_b.next() for _ in range(400)]
    assert first[0] == numbers[0]
    kinds = {
        kind
        for number in numbers
        for kind, pattern in FORMATS.items()
        if re.fullmatch(pattern, number)
    }
    assert kinds == set(FORMATS)


def test_caller_pool_with_a_size_repeats_callers():
    pool = CallerPool(size=5, seed=1)
    assert len({pool.next() for _ in range(100)}) <= 5


def test_planned_calls_draw_from_the_profile():
    profile = TrafficProfile(
        dids=("4001", "4002"),
        talk_time=(10.0, 20.0),
        patience=(5.0, 6.0),
        ivr_choices=("1", "2#"),
        callers=CallerPool(seed=3),
        seed=3,
    )
    generator = TrafficGenerator(Simulator(SimulatorConfig()), profile)
    calls = [generator.plan_call() for _ in range(50)]
    assert {c.destination for c in calls} == {"4001", "4002"}
    assert all(10.0 <= c.talk_time <= 20.0 for c in calls)
    assert all(5.0 <= (c.patience or 0) <= 6.0 for c in calls)
    assert {c.digits for c in calls} == {"1", "2#"}


def test_generator_places_the_configured_number_of_calls_and_registers_agents():
    async def scenario():
        simulator = Simulator(SimulatorConfig(port=0, heartbeat_interval=0, playback_seconds=0.01))
        await simulator.start()
        generator = TrafficGenerator(
            simulator,
            TrafficProfile(rate=500.0, arrival="fixed", count=20, talk_time=(60, 60), seed=5),
            AgentProfile(
                count=4,
                first_extension=2001,
                answer_after=(0.01, 0.02),
                no_answer_ratio=0.5,
                seed=5,
            ),
        )
        endpoints = generator.register_agents()
        stats = await generator.run()
        live = len(simulator.switch.channels)
        await simulator.stop()
        return endpoints, stats, live

    endpoints, stats, live = asyncio.run(scenario())
    assert [e.user for e in endpoints] == ["2001", "2002", "2003", "2004"]
    assert sum(1 for e in endpoints if not e.answers) == 2
    assert stats.calls_placed == 20
    assert stats.agents_registered == 4
    assert live == 20
    # 20 calls at a fixed 500/s take about 40 ms of schedule
    assert stats.elapsed < 1.0


def test_generator_honours_a_duration():
    async def scenario():
        simulator = Simulator(SimulatorConfig(port=0, heartbeat_interval=0))
        await simulator.start()
        generator = TrafficGenerator(
            simulator, TrafficProfile(rate=100.0, arrival="fixed", duration=0.1, seed=1)
        )
        stats = await generator.run()
        await simulator.stop()
        return stats

    stats = asyncio.run(scenario())
    assert stats.calls_placed == 10
