"""Fixtures for the ESL layer tests: loopback fake servers and connections that clean up."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from apps.telephony.esl import ConnectionConfig, ESLConnection
from tests.telephony.esl.fakes import FakeFreeSwitch, Transcript, TranscriptServer


def fast_config(port: int, **overrides: object) -> ConnectionConfig:
    """Return a config with short timeouts and backoff suited to loopback tests."""
    settings: dict[str, object] = {
        "password": "ClueCon",
        "host": "127.0.0.1",
        "port": port,
        "connect_timeout": 2.0,
        "handshake_timeout": 2.0,
        "command_timeout": 2.0,
        "bgapi_timeout": 2.0,
        "heartbeat_timeout": None,
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
    }
    settings.update(overrides)
    return ConnectionConfig(**settings)  # type: ignore[arg-type]


@pytest.fixture
def fake_fs() -> Iterator[FakeFreeSwitch]:
    """Yield a scripted FreeSWITCH event socket on 127.0.0.1."""
    server = FakeFreeSwitch()
    yield server
    server.stop()


@pytest.fixture
def connections() -> Iterator[Callable[..., ESLConnection]]:
    """Yield a factory of ``ESLConnection`` objects that are all closed at teardown."""
    created: list[ESLConnection] = []

    def make(config: ConnectionConfig, **kwargs: object) -> ESLConnection:
        connection = ESLConnection(config, **kwargs)  # type: ignore[arg-type]
        created.append(connection)
        return connection

    yield make
    for connection in created:
        connection.close()


@pytest.fixture
def replay() -> Iterator[Callable[..., TranscriptServer]]:
    """Yield a factory of transcript-replaying servers, stopped at teardown."""
    servers: list[TranscriptServer] = []

    def make(transcript: Transcript, **kwargs: object) -> TranscriptServer:
        server = TranscriptServer(transcript, **kwargs)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
