"""Fixtures of the simulator tests: a running simulator and logged-in raw clients."""

from __future__ import annotations

import pytest

from apps.telephony.simulator import running_simulator

from .helpers import RawClient


@pytest.fixture
def sim():
    """Run a simulator on a free port with quick phones and short prompts."""
    with running_simulator(
        port=0,
        heartbeat_interval=0,
        endpoint_answer_after=0.01,
        playback_seconds=0.01,
    ) as server:
        yield server


@pytest.fixture
def client(sim):
    """Return an authenticated raw ESL client."""
    connection = RawClient(sim.port)
    connection.login()
    yield connection
    connection.close()


@pytest.fixture
def events_client(sim):
    """Return an authenticated raw client subscribed to ``event plain ALL``."""
    connection = RawClient(sim.port)
    connection.login()
    assert connection.command("event plain ALL") == "+OK event listener enabled plain"
    yield connection
    connection.close()
