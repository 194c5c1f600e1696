"""Fixtures of the telephony tests: a node record, captured FreeSWITCH events, a domain-event spy.

Captured transcripts live in ../shared/fixtures/esl (byte-exact FreeSWITCH 1.10.12 sessions); the
helpers decode them with the ESL layer's own parser, so tests feed bytes, not hand-built dicts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.telephony import domain_events
from apps.telephony.domain_events import CallEvent
from apps.telephony.esl import Event, FrameParser, decode_frame
from apps.telephony.models import FreeswitchNode

FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures"
ESL_FIXTURES = FIXTURES / "esl"


def captured_messages(name: str) -> list[object]:
    """Return every message of a captured ESL transcript (``<name>.raw``), in wire order."""
    parser = FrameParser()
    return [
        decode_frame(frame) for frame in parser.feed((ESL_FIXTURES / f"{name}.raw").read_bytes())
    ]


def captured_events(name: str) -> list[Event]:
    """Return the events of a captured ESL transcript, in the order FreeSWITCH sent them."""
    return [message for message in captured_messages(name) if isinstance(message, Event)]


@pytest.fixture
def node(db) -> FreeswitchNode:
    return FreeswitchNode.objects.create(
        name="fs1", host="127.0.0.1", port=8021, password="ClueCon"
    )


class EventSpy:
    """Collect the domain events published while a test runs."""

    def __init__(self) -> None:
        self.events: list[CallEvent] = []

    def __call__(self, event: CallEvent) -> None:
        self.events.append(event)

    def kinds(self) -> list[str]:
        return [event.kind for event in self.events]

    def of(self, kind: str) -> list[CallEvent]:
        return [event for event in self.events if event.kind == kind]


@pytest.fixture
def published() -> Iterator[EventSpy]:
    spy = EventSpy()
    domain_events.subscribe("*", spy)
    yield spy
    domain_events.unsubscribe("*", spy)


@pytest.fixture
def replay(django_capture_on_commit_callbacks):
    """Return a function handling every event of a capture, one by one, as the process would.

    Each event is its own transaction (a savepoint in the test's); what services announce after
    commit runs when the replay ends.
    """
    from apps.telephony import listener

    def _replay(name: str, node: FreeswitchNode, *, events: list[Event] | None = None) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            for event in events if events is not None else captured_events(name):
                listener.handle_event(event, node=node)

    return _replay


@pytest.fixture
def fs_sim(request):
    """Run a FreeSWITCH simulator on a free loopback port, with quick phones.

    Parametrize indirectly with a dict to change its configuration (e.g. playback_seconds).
    """
    from apps.telephony.simulator import running_simulator

    options = {"heartbeat_interval": 0.2, "endpoint_answer_after": 0.01, "playback_seconds": 0.01}
    options.update(getattr(request, "param", {}))
    with running_simulator(port=0, **options) as server:
        yield server


@pytest.fixture
def sim_node(db, fs_sim) -> Iterator[FreeswitchNode]:
    """A node record pointing at the simulator; the worker's ESL connections close after."""
    from apps.telephony import clients

    node = FreeswitchNode.objects.create(
        name="sim", host=fs_sim.host, port=fs_sim.port, password=fs_sim.password
    )
    yield node
    clients.close_all()


@pytest.fixture(autouse=True)
def _only_test_subscribers(monkeypatch):
    """Keep other apps' domain-event handlers (routing, console...) out of telephony's tests.

    Their subscriptions are made in their AppConfig.ready; these tests check what telephony
    publishes, so only the subscribers a test adds itself are called.
    """
    from collections import defaultdict

    monkeypatch.setattr(domain_events, "_subscribers", defaultdict(list))
