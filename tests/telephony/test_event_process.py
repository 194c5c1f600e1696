"""The event process over real TCP against the simulator: calls become records, nothing is lost.

These tests commit (the writer's after-commit announcements must run), so they are few and each
drives a whole story.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import gevent
import pytest

from apps.telephony import services
from apps.telephony.esl import ConnectionConfig
from apps.telephony.event_process import NodeIngest
from apps.telephony.models import Call, CallLeg, Cdr, EndpointRegistration, FreeswitchNode
from apps.telephony.node_status import node_status
from tests.factories import AgentFactory
from tests.telephony.proxy import InjectingProxy

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(predicate: Callable[[], object], timeout: float = 30.0) -> None:
    """Let the event process's greenlets run until ``predicate()`` holds (or fail)."""
    deadline = gevent.get_hub().loop.now() + timeout
    while not predicate():
        if gevent.get_hub().loop.now() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        gevent.sleep(0.02)


def _config(port: int, **overrides: object) -> ConnectionConfig:
    options: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "password": "ClueCon",
        "connect_timeout": 2.0,
        "handshake_timeout": 2.0,
        "command_timeout": 5.0,
        "heartbeat_timeout": None,
        "backoff_initial": 0.2,
        "backoff_max": 0.4,
        "backoff_jitter": 0.0,
    }
    options.update(overrides)
    return ConnectionConfig(**options)  # type: ignore[arg-type]


@pytest.fixture
def ingests() -> Iterator[Callable[..., NodeIngest]]:
    started: list[NodeIngest] = []

    def start(node: FreeswitchNode, **options: object) -> NodeIngest:
        options.setdefault("connection_config", _config(node.port))
        ingest = NodeIngest(node, batch_wait=0.01, **options)  # type: ignore[arg-type]
        ingest.start()
        started.append(ingest)
        return ingest

    yield start
    for ingest in started:
        ingest.stop(timeout=5)


# Prompts and hold music last long here, so the music is still playing when the test looks.
@pytest.mark.parametrize("fs_sim", [{"playback_seconds": 30.0}], indirect=True)
def test_a_call_routed_to_an_agent_is_recorded_end_to_end(fs_sim, sim_node, ingests, published):
    # Given agent 1001 whose phone is registered, and the event process listening
    agent = AgentFactory(extension="1001", team=None)
    fs_sim.register_endpoint("1001", answer_after=0.01)
    ingest = ingests(sim_node)
    wait_for(lambda: EndpointRegistration.objects.filter(username="1001").exists())
    assert EndpointRegistration.objects.get(username="1001").agent == agent
    assert node_status("sim")["status"] == "up"

    # When a caller arrives and waits parked in the default dialplan
    caller_uuid = fs_sim.place_inbound_call(caller="+8613800138000", destination="4001")
    wait_for(lambda: published.of("call.parked"))
    call = Call.objects.get(uuid=caller_uuid)
    assert call.state == "parked"
    # ... hears hold music (broadcast before call.parked was announced)
    wait_for(
        lambda: (
            fs_sim.channel(caller_uuid).variables.get("current_application_data")
            == "local_stream://moh"
        )
    )
    assert fs_sim.channel(caller_uuid).variables["current_application"] == "playback"

    # And the router's commands reach the agent and bridge them
    from django.db import transaction

    with transaction.atomic():
        originate = services.call_command_request(
            kind="originate",
            params={"destination": "user/1001", "timeout": 5, "role": "agent"},
            idempotency_key=f"route:{caller_uuid}:1001",
            call=call,
        )
    from apps.telephony import command_runner

    command_runner.run_call_command(originate.pk)
    originate.refresh_from_db()
    agent_uuid = originate.result["uuid"]
    with transaction.atomic():
        bridge = services.call_command_request(
            kind="bridge",
            params={"uuid": agent_uuid, "other_uuid": caller_uuid},
            idempotency_key=f"bridge:{caller_uuid}",
            call=call,
        )
    command_runner.run_call_command(bridge.pk)
    wait_for(lambda: Call.objects.get(uuid=caller_uuid).state == "bridged")

    # And the caller hangs up
    fs_sim.hangup(caller_uuid)
    wait_for(lambda: Cdr.objects.filter(call=call).count() == 2)
    assert ingest.wait_idle(30)

    # Then one call holds both legs, the agent's tied to the agent, with both CDRs
    call.refresh_from_db()
    assert (call.state, call.hangup_cause) == ("ended", "NORMAL_CLEARING")
    legs = {leg.role: leg for leg in CallLeg.objects.filter(call=call)}
    assert set(legs) == {"caller", "agent"}
    assert legs["agent"].uuid == agent_uuid
    assert legs["agent"].agent == agent
    assert legs["agent"].bridged_at is not None
    assert {cdr.uuid for cdr in Cdr.objects.filter(call=call)} == {caller_uuid, agent_uuid}
    assert ingest.stats.dropped == 0
    assert [kind for kind in published.kinds() if kind.startswith("command.")] == [
        "command.succeeded",
        "command.succeeded",
    ]


def test_a_disconnect_mid_call_is_resynchronised_with_nothing_lost(
    fs_sim, sim_node, ingests, published
):
    # Given two callers waiting while the event process listens
    ingest = ingests(sim_node)
    ends_while_away = fs_sim.place_inbound_call(caller="5550001", destination="4001")
    stays = fs_sim.place_inbound_call(caller="5550002", destination="4001")
    wait_for(lambda: Call.objects.filter(state="parked").count() == 2)

    # When the connection drops, one caller hangs up and a new one calls while nobody listens
    fs_sim.drop_clients()
    fs_sim.hangup(ends_while_away)
    arrives_while_away = fs_sim.place_inbound_call(caller="5550003", destination="4001")

    # Then, once reconnected, the lost call is closed and the new one adopted
    wait_for(lambda: ingest.connection.stats.connects == 2 and ingest.stats.resyncs >= 2)
    wait_for(lambda: Call.objects.filter(uuid=arrives_while_away).exists())
    wait_for(lambda: Call.objects.get(uuid=ends_while_away).state == "ended")
    assert ingest.wait_idle(30)
    lost = Call.objects.get(uuid=ends_while_away)
    assert lost.hangup_cause == services.LOST_WHILE_DISCONNECTED
    assert Cdr.objects.get(uuid=ends_while_away).source == "resync"
    assert Call.objects.get(uuid=stays).state == "parked"
    adopted = Call.objects.get(uuid=arrives_while_away)
    assert (adopted.caller_number, adopted.state) == ("5550003", "parked")
    # And the router heard of all three waiting callers and of the lost one's end
    assert {event.call_uuid for event in published.of("call.parked")} == {
        ends_while_away,
        stays,
        arrives_while_away,
    }
    [lost_event] = published.of("call.hungup")
    assert lost_event.call_uuid == ends_while_away
    assert lost_event.data["hangup_cause"] == services.LOST_WHILE_DISCONNECTED

    # And events keep flowing on the new connection
    fs_sim.hangup(stays)
    wait_for(lambda: Call.objects.get(uuid=stays).state == "ended")
    assert Call.objects.get(uuid=stays).hangup_cause == "NORMAL_CLEARING"


def test_garbage_on_the_socket_costs_a_reconnect_not_the_process(fs_sim, sim_node, ingests):
    # Given the event process reading through a proxy that can corrupt the stream
    proxy = InjectingProxy(fs_sim.host, fs_sim.port)
    try:
        ingest = ingests(sim_node, connection_config=_config(proxy.port))
        wait_for(lambda: ingest.connection.is_up)
        first = fs_sim.place_inbound_call(caller="5550001", destination="4001")
        wait_for(lambda: Call.objects.filter(uuid=first, state="parked").exists())

        # When binary garbage and an absurd Content-Length arrive instead of frames
        proxy.inject(b"\xff\xfe\x00garbage\x80\n\n")
        wait_for(lambda: ingest.connection.stats.connects == 2)
        wait_for(lambda: ingest.connection.is_up)
        proxy.inject(b"Content-Length: 99999999999999999\n\n")
        wait_for(lambda: ingest.connection.stats.connects == 3)

        # Then the process reconnects, resynchronises and goes on recording calls
        second = fs_sim.place_inbound_call(caller="5550002", destination="4001")
        fs_sim.hangup(first)
        wait_for(lambda: Call.objects.filter(uuid=second, state="parked").exists())
        wait_for(lambda: Call.objects.get(uuid=first).state == "ended")
        assert ingest.connection.stats.protocol_errors == 2
        assert Call.objects.get(uuid=first).hangup_cause == "NORMAL_CLEARING"
        assert ingest.stats.skipped == 0
    finally:
        proxy.stop()


def test_stopping_writes_every_buffered_event_first(fs_sim, sim_node, ingests):
    # Given a writer that would wait long before taking a small batch
    ingest = ingests(sim_node, batch_size=10_000)
    ingest.batch_wait = 60.0
    wait_for(lambda: ingest.connection.is_up and ingest.stats.resyncs == 1)
    uuid = fs_sim.place_inbound_call(caller="5550001", destination="4001")
    wait_for(lambda: ingest.pending >= 3)
    assert not Call.objects.filter(uuid=uuid).exists()

    # When the process is told to stop (SIGTERM)
    ingest.stop(timeout=10)

    # Then the buffered events were written before it returned
    assert Call.objects.get(uuid=uuid).state == "parked"
    assert ingest.pending == 0
    assert node_status("sim")["status"] == "down"


def test_a_node_refusing_the_password_is_reported_down(fs_sim, sim_node, ingests):
    ingest = ingests(
        sim_node, connection_config=_config(fs_sim.port, password="wrong"), status_interval=0.1
    )

    wait_for(lambda: node_status("sim")["status"] == "down")

    assert not ingest.connection.is_up
    assert "authentication" in node_status("sim")["detail"].lower()
