"""Authentication handshake, byte for byte as in the a1/a2/a3 captures."""

from __future__ import annotations

from apps.telephony.simulator import running_simulator

from .helpers import FIXTURES, RawClient


def test_successful_auth_then_exit_matches_the_a1_capture(sim):
    # given a client connected to the simulator
    client = RawClient(sim.port)
    # when it authenticates and exits like the a1 client did
    client.send("auth ClueCon")
    client.send("exit")
    # then the bytes are exactly FreeSWITCH's and the server closes the socket
    assert client.read_to_eof() == (FIXTURES / "a1_auth_ok.raw").read_bytes()


def test_wrong_password_is_refused_and_closed_like_the_a2_capture(sim):
    client = RawClient(sim.port)
    client.send("auth NotTheRightPassword")
    assert client.read_to_eof() == (FIXTURES / "a2_auth_fail.raw").read_bytes()


def test_command_before_auth_is_refused_and_the_socket_stays_open(sim):
    # given an unauthenticated client
    client = RawClient(sim.port)
    # when it sends an api command first
    client.send("api status")
    greeting, refusal = client.next_frame(), client.next_frame()
    # then it gets the a3 bytes and can still authenticate on the same socket
    assert greeting.raw + refusal.raw == (FIXTURES / "a3_command_before_auth.raw").read_bytes()
    assert client.command("auth ClueCon") == "+OK accepted"
    assert client.api("hostname") == "fs-sim"


def test_the_configured_password_is_the_one_accepted():
    # given a simulator with its own password
    with running_simulator(port=0, password="s3cret", heartbeat_interval=0) as server:
        client = RawClient(server.port)
        client.next_frame()
        # when a client authenticates with it
        reply = client.command("auth s3cret")
        # then it is accepted
        assert reply == "+OK accepted"
        client.close()


def test_exit_before_auth_says_goodbye():
    with running_simulator(port=0, heartbeat_interval=0) as server:
        client = RawClient(server.port)
        client.send("exit")
        data = client.read_to_eof()
    assert data.endswith(
        b"Content-Type: command/reply\nReply-Text: +OK bye\n\n"
        b"Content-Type: text/disconnect-notice\nContent-Length: 67\n\n"
        b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
    )
