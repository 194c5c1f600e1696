"""Connection lifecycle: HEARTBEAT, dropped clients, shutdown notices (h1/z1 captures)."""

from __future__ import annotations

import socket
import time

from apps.telephony.simulator import running_simulator

from .helpers import FIXTURES, RawClient, capture_events, capture_frames


def test_heartbeat_arrives_at_the_configured_interval_with_the_captured_headers():
    # given a simulator beating every 50 ms and an idle HEARTBEAT subscriber
    with running_simulator(port=0, heartbeat_interval=0.05) as server:
        client = RawClient(server.port)
        client.login()
        client.command("event plain HEARTBEAT")
        started = time.monotonic()
        # when two heartbeats are awaited
        first = client.wait_event(lambda e: e.name == "HEARTBEAT")
        second = client.wait_event(lambda e: e.name == "HEARTBEAT")
        elapsed = time.monotonic() - started
        client.close()
    # then they came on the interval (not faster) with h1's headers
    assert elapsed >= 0.05
    assert second.sequence > first.sequence
    captured = capture_events("h1_heartbeat_plain.raw")[0]
    assert first.names == captured.names
    assert first.get("Event-Info") == "System Ready"
    assert first.get("FreeSWITCH-Version") == captured.get("FreeSWITCH-Version")


def test_drop_clients_closes_every_socket_without_a_notice(sim):
    # given two connected clients
    first, second = RawClient(sim.port), RawClient(sim.port)
    first.login()
    second.login()
    assert sim.connection_count() == 2
    # when the simulator drops them
    assert sim.drop_clients() == 2
    # then each sees the connection end with no disconnect notice, and can reconnect
    for client in (first, second):
        data = client.read_to_eof()
        assert b"disconnect-notice" not in data
    assert sim.wait_until(lambda s: s.connection_count() == 0)
    again = RawClient(sim.port)
    again.login()
    again.close()


def test_shutdown_sends_the_captured_notice_to_every_client(sim):
    # given an idle ALL subscriber and a control connection
    watcher = RawClient(sim.port)
    watcher.login()
    watcher.command("event plain ALL")
    # when the simulator shuts down
    sim.shutdown()
    data = watcher.read_to_eof()
    # then the SHUTDOWN event came first and the stream ends with z1's notice
    notice = capture_frames("z1_shutdown_seen_by_client.raw")[-1].raw
    assert data.endswith(notice)
    assert notice == (
        b"Content-Type: text/disconnect-notice\nContent-Length: 31\n\n"
        b"The system is being shut down.\n"
    )
    assert watcher.log[-1].name == "SHUTDOWN"
    assert watcher.log[-1].get("Event-Info") == "System Shutting Down"
    # and nobody can connect any more
    try:
        socket.create_connection(("127.0.0.1", sim.port), timeout=1).close()
        refused = False
    except OSError:
        refused = True
    assert refused


def test_fsctl_shutdown_replies_then_disconnects_like_z1():
    with running_simulator(port=0, heartbeat_interval=0) as server:
        control = RawClient(server.port)
        control.send("auth ClueCon")
        control.send("api fsctl shutdown")
        data = control.read_to_eof()
    assert data == (FIXTURES / "z1_shutdown_control.raw").read_bytes()


def test_shutdown_hangs_up_live_calls(sim):
    watcher = RawClient(sim.port)
    watcher.login()
    watcher.command("event plain CHANNEL_HANGUP")
    uuid = sim.place_inbound_call(caller="5551000", destination="4001")
    sim.shutdown()
    watcher.read_to_eof()
    hangup = next(e for e in watcher.log if e.name == "CHANNEL_HANGUP")
    assert hangup.get("Unique-ID") == uuid
    assert hangup.get("Hangup-Cause") == "SYSTEM_SHUTDOWN"


def test_stopping_the_server_notifies_connected_clients():
    server = running_simulator(port=0, heartbeat_interval=0)
    sim = server.__enter__()
    client = RawClient(sim.port)
    client.login()
    server.__exit__(None, None, None)
    assert client.read_to_eof().endswith(b"The system is being shut down.\n")


def test_a_client_that_stops_reading_is_dropped_like_freeswitch_does():
    # given a tiny event queue and a subscriber whose socket is never read
    with running_simulator(
        port=0, heartbeat_interval=0, client_queue_limit=20, client_max_missed=50
    ) as server:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(b"auth ClueCon\n\nevent plain ALL\n\n")
        assert server.wait_until(lambda s: s.switch.listeners)
        # when far more events are fired than the socket buffers and the queue can hold
        for number in range(400):
            server.place_inbound_call(caller=f"555{number:04d}", destination="4001")
        # then the simulator disconnects it
        assert server.wait_until(lambda s: s.connection_count() == 0, timeout=10)
        sock.close()
