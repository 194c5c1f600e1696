"""Erlang C staffing, checked against textbook values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.routing import erlang


@pytest.mark.parametrize(
    ("agents", "waits", "level"),
    [
        # Traffic 10 Erlangs (100 calls in 30 minutes at 180 s), answer target 20 s.
        (11, 0.6821, 0.3896),
        (12, 0.4494, 0.6402),
        (13, 0.2853, 0.7956),
        (14, 0.1741, 0.8884),
        (15, 0.1020, 0.9415),
    ],
)
def test_probability_of_waiting_and_service_level_match_the_textbook_table(agents, waits, level):
    assert round(erlang.erlang_c(traffic=10.0, agents=agents), 4) == waits
    assert (
        round(
            erlang.service_level(traffic=10.0, agents=agents, aht_seconds=180, target_seconds=20), 4
        )
        == level
    )


def test_eighty_percent_in_twenty_seconds_at_ten_erlangs_needs_fourteen_agents():
    staffing = erlang.agents_required(
        calls_per_hour=200, aht_seconds=180, target_percent=80, target_seconds=20
    )

    assert staffing.agents == 14
    assert staffing.traffic_erlangs == 10.0
    assert round(staffing.service_level, 4) == 0.8884
    assert round(staffing.average_speed_of_answer_seconds, 2) == 7.84
    assert round(staffing.occupancy, 4) == 0.7143


def test_erlang_b_matches_the_textbook_value():
    # 5 Erlangs offered to 10 trunks block 1.84% of calls.
    assert round(erlang.erlang_b(traffic=5.0, agents=10), 4) == 0.0184


def test_too_few_agents_always_wait_and_never_meet_the_target():
    assert erlang.erlang_c(traffic=10.0, agents=10) == 1.0
    assert erlang.service_level(traffic=10.0, agents=9, aht_seconds=180, target_seconds=20) == 0
    assert math.isinf(erlang.average_speed_of_answer(traffic=10.0, agents=10, aht_seconds=180))


def test_no_calls_need_no_agents():
    staffing = erlang.agents_required(
        calls_per_hour=0, aht_seconds=180, target_percent=80, target_seconds=20
    )

    assert (staffing.agents, staffing.service_level) == (0, 1.0)


@pytest.mark.parametrize(
    "arguments",
    [
        {"calls_per_hour": -1, "aht_seconds": 180, "target_percent": 80, "target_seconds": 20},
        {"calls_per_hour": 10, "aht_seconds": 0, "target_percent": 80, "target_seconds": 20},
        {"calls_per_hour": 10, "aht_seconds": 180, "target_percent": 100, "target_seconds": 20},
        {"calls_per_hour": 10, "aht_seconds": 180, "target_percent": 80, "target_seconds": -1},
    ],
)
def test_impossible_inputs_are_refused(arguments):
    with pytest.raises(ValueError, match="must be"):
        erlang.agents_required(**arguments)


@given(
    calls=st.floats(min_value=1, max_value=5000),
    aht=st.floats(min_value=10, max_value=1200),
    target=st.floats(min_value=50, max_value=95),
    seconds=st.floats(min_value=0, max_value=120),
)
def test_the_answer_is_the_fewest_agents_meeting_the_target(calls, aht, target, seconds):
    staffing = erlang.agents_required(
        calls_per_hour=calls, aht_seconds=aht, target_percent=target, target_seconds=seconds
    )
    traffic = staffing.traffic_erlangs

    assert staffing.agents > traffic
    assert staffing.service_level >= target / 100
    fewer = erlang.service_level(
        traffic=traffic, agents=staffing.agents - 1, aht_seconds=aht, target_seconds=seconds
    )
    assert fewer < target / 100
