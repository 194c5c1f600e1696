"""ESLConnection over real loopback TCP against captured transcripts and a scripted peer."""

from __future__ import annotations

import logging
import random
import re
import threading
from collections.abc import Callable

import gevent
import gevent.event
import gevent.queue
import gevent.socket
import pytest

from apps.telephony.esl import (
    AuthenticationError,
    ChannelNotImplemented,
    CommandNotFound,
    CommandTimeout,
    ConnectionLost,
    ESLConnection,
    Event,
    NoSuchChannel,
    NotConnected,
    SubscriberAbsent,
    TemporaryFailure,
    UsageError,
    UserNotRegistered,
)
from tests.telephony.esl.conftest import fast_config
from tests.telephony.esl.fakes import (
    FakeFreeSwitch,
    FakeSession,
    TranscriptServer,
    background_job,
    captured_frames,
    event_names_in,
    load_transcript,
)

Factory = Callable[..., ESLConnection]


class Recorder:
    """Collect on_up / on_down / on_connected calls and let tests wait for them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.changed = gevent.event.Event()

    def on_up(self) -> None:
        self._record("up", "")

    def on_down(self, reason: str) -> None:
        self._record("down", reason)

    def on_connected(self, connection: ESLConnection) -> None:
        self._record("connected", "")

    def _record(self, kind: str, detail: str) -> None:
        self.calls.append((kind, detail))
        self.changed.set()

    def wait_for(self, kind: str, count: int, timeout: float = 3.0) -> None:
        with gevent.Timeout(timeout):
            while sum(1 for call in self.calls if call[0] == kind) < count:
                self.changed.clear()
                self.changed.wait()

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.calls]

    def callbacks(self) -> dict[str, object]:
        return {"on_up": self.on_up, "on_down": self.on_down, "on_connected": self.on_connected}


# ------------------------------------------------------------------ transcript replays


def test_auth_and_api_round_trips_replay_b1(replay, connections: Factory):
    # Given FreeSWITCH as captured in b1 (api commands, no subscription)
    server: TranscriptServer = replay(load_transcript("b1_api_commands"))
    connection = connections(fast_config(server.port))

    # When the client connects and runs the same api commands
    connection.connect()
    version = connection.api("version")
    status = connection.api("status")
    channels = connection.api("show channels as json")
    calls = connection.api("show calls as json")
    text = connection.api("show channels")
    sofia = connection.api("sofia status")
    profile = connection.api("sofia status profile internal")
    with pytest.raises(CommandNotFound) as not_found:
        connection.api("no_such_command foo")
    registrations = connection.api("show registrations as json")
    domain = connection.api("global_getvar domain")
    hostname = connection.api("hostname")
    connection.close()
    server.finished.wait(2)

    # Then every body is returned exactly as sent
    assert version.startswith("FreeSWITCH Version 1.10.12-release")
    assert status.startswith("UP 0 years")
    assert channels == calls == registrations == '{"row_count": 0}\n'
    assert text == "\n0 total.\n"
    assert "external::example.com" in sofia
    assert profile.startswith("=====")
    assert not_found.value.reply == "-ERR no_such_command Command not found!"
    assert (domain, hostname) == ("127.0.0.1", "vm")
    # and the server saw the captured commands (plus our BACKGROUND_JOB subscription)
    assert server.mismatches == []
    assert server.received[1] == b"event plain BACKGROUND_JOB\n\n"
    assert server.received[-1] == b"exit\n\n"
    assert server.finished.is_set()


def test_refused_password_raises_authentication_error_replay_a2(replay, connections: Factory):
    # Given FreeSWITCH answering "-ERR invalid" then a disconnect notice (a2)
    server: TranscriptServer = replay(load_transcript("a2_auth_fail"))
    connection = connections(fast_config(server.port, password="NotTheRightPassword"))

    # When / Then connecting fails with a typed error naming the reply
    with pytest.raises(AuthenticationError, match="-ERR invalid"):
        connection.connect()
    assert server.mismatches == []
    assert not connection.is_up


def _job_ids(name: str) -> list[str]:
    raw = load_transcript(name).raw
    return [match.decode() for match in re.findall(rb"Reply-Text: \+OK Job-UUID: (\S+)", raw)]


@pytest.mark.parametrize("wire_format", ["plain", "json"])
def test_bgapi_results_are_matched_by_job_uuid_out_of_order(
    replay, connections: Factory, wire_format: str
):
    # Given the b2 capture: bgapi fired without waiting for results; the 5999 originate's
    # result arrives after those of the two bgapi sent after it
    name = f"b2_bgapi_originate_{wire_format}"
    server: TranscriptServer = replay(load_transcript(name))
    job_ids = iter(job for job in _job_ids(name) if not job.startswith("fx-job"))
    connection = connections(
        fast_config(server.port, event_format=wire_format),
        events=["BACKGROUND_JOB"],
        job_id_factory=lambda: next(job_ids),
    )
    connection.connect()
    uuid1, uuid2 = f"fx-b2-{wire_format}-0001", f"fx-b2-{wire_format}-0002"

    def submit(command: str, **kwargs: object) -> gevent.Greenlet:
        # Fire a bgapi without waiting for its result, like the capturing client did;
        # waiting until the server has read it keeps the commands in capture order.
        count = len(server.received)
        greenlet = gevent.spawn(connection.bgapi, command, **kwargs)
        server.wait_received(count + 1)
        return greenlet

    # When the commands are issued as in the capture
    first = submit(
        f"originate {{origination_uuid={uuid1},origination_caller_id_number=5550101}}"
        "loopback/5500/default &park"
    )
    second = submit(
        f"originate {{origination_uuid={uuid2}}}loopback/5500/default &park",
        job_uuid=f"fx-job-{wire_format}-0002",
    )
    channels = connection.api("show channels as json")
    connection.api("show calls as json")
    getvar = connection.api(f"uuid_getvar {uuid1} uuid")
    failing = [
        submit(command)
        for command in (
            "originate user/1005 &park",
            "originate user/9999999 &park",
            "originate bogus/endpoint &park",
            "originate {originate_timeout=5}sofia/internal/nobody@127.0.0.1:5999 &park",
            "originate",
        )
    ]
    status = submit("status")
    gevent.joinall([first, second, status, *failing], timeout=2)
    killed = [connection.api(f"uuid_kill {uuid}") for uuid in (uuid1, uuid2)]
    with pytest.raises(NoSuchChannel):
        connection.api("uuid_kill 00000000-0000-0000-0000-000000000000")
    empty = connection.api("show channels as json")

    # Then every result reached the command that asked for it
    assert (first.value, second.value) == (f"+OK {uuid1}\n", f"+OK {uuid2}\n")
    assert '"row_count":4' in channels
    assert getvar == uuid1
    assert [type(greenlet.exception) for greenlet in failing] == [
        UserNotRegistered,
        SubscriberAbsent,
        ChannelNotImplemented,
        TemporaryFailure,
        UsageError,
    ]
    assert failing[0].exception.cause == "USER_NOT_REGISTERED"
    assert status.value.startswith("UP 0 years")
    assert killed == ["+OK\n", "+OK\n"]
    assert empty == '{"row_count": 0}\n'
    assert server.mismatches == []
    assert connection.stats.events_received == 8


def test_events_of_a_call_reach_the_consumer_queue_in_order(replay, connections: Factory):
    # Given the IVR call seen by an "event plain ALL" subscriber (c1)
    server: TranscriptServer = replay(load_transcript("c1_ivr_call_plain"))
    events: gevent.queue.Queue = gevent.queue.Queue(maxsize=100)
    connection = connections(fast_config(server.port), events=["ALL"], event_queue=events)

    # When the client connects and the capture plays out
    connection.connect()
    server.finished.wait(3)
    received = [events.get(timeout=2) for _ in range(66)]

    # Then all 66 events arrive decoded, in capture order, and nothing was dropped
    assert server.mismatches == []
    assert server.received[1] == b"event plain ALL\n\n"
    assert [e.name for e in received] == event_names_in(load_transcript("c1_ivr_call_plain").raw)
    assert [e["DTMF-Digit"] for e in received if e.name == "DTMF"] == ["1", "2", "#"]
    assert events.qsize() == 0
    assert connection.stats.events_dropped == 0
    assert connection.stats.heartbeats == 1


# ----------------------------------------------------------------- scripted peer


def test_reconnect_resubscribes_and_reapplies_filters(fake_fs: FakeFreeSwitch, connections):
    # Given a connection with a subscription and a filter
    recorder = Recorder()
    connection = connections(
        fast_config(fake_fs.port),
        events=["CHANNEL_CREATE", "CUSTOM callcenter::info"],
        filters=[("Unique-ID", "fx-h2-0001")],
        **recorder.callbacks(),
    )
    connection.connect()
    first = fake_fs.current
    fake_fs.api_handlers["hostname"] = "vm"

    # When FreeSWITCH drops the socket
    first.drop()
    recorder.wait_for("up", 2)
    second = fake_fs.wait_sessions(2)

    # Then the new session authenticates, subscribes and filters again, and works
    expected = [
        "auth ClueCon",
        "event plain CHANNEL_CREATE CUSTOM callcenter::info BACKGROUND_JOB",
        "filter Unique-ID fx-h2-0001",
        "filter Event-Name BACKGROUND_JOB",
    ]
    assert first.commands == expected
    assert second.commands == expected
    assert connection.api("hostname") == "vm"
    assert recorder.kinds() == ["up", "connected", "down", "up", "connected"]
    assert recorder.calls[2][1] == "connection closed by FreeSWITCH"
    assert connection.stats.connects == 2


def test_heartbeat_watchdog_declares_the_node_down_and_reconnects(fake_fs, connections):
    # Given a watchdog of 0.2 s and a FreeSWITCH that never sends HEARTBEAT
    recorder = Recorder()
    connection = connections(
        fast_config(fake_fs.port, heartbeat_timeout=0.2), **recorder.callbacks()
    )

    # When the connection is started
    connection.start()
    recorder.wait_for("up", 2)

    # Then the node is declared down for lack of heartbeat and a new session comes up
    assert fake_fs.sessions[0].commands[1] == "event plain BACKGROUND_JOB HEARTBEAT"
    assert recorder.kinds()[:5] == ["up", "connected", "down", "up", "connected"]
    assert recorder.calls[2][1].startswith("no HEARTBEAT nor data for 0.2")


def test_heartbeats_keep_the_watchdog_quiet(fake_fs: FakeFreeSwitch, connections):
    # Given a watchdog of 0.5 s and captured HEARTBEAT events sent every 0.05 s
    heartbeat = captured_frames("h1_heartbeat_plain", event_name="HEARTBEAT")[0]
    recorder = Recorder()
    connection = connections(
        fast_config(fake_fs.port, heartbeat_timeout=0.5), **recorder.callbacks()
    )
    connection.connect()
    session = fake_fs.current

    # When heartbeats flow for 0.8 s (longer than the watchdog)
    for _ in range(16):
        session.send(heartbeat)
        gevent.sleep(0.05)

    # Then the session stayed up and the heartbeats were counted, not delivered
    assert recorder.kinds() == ["up", "connected"]
    assert connection.is_up
    assert connection.stats.heartbeats == 16
    assert connection.stats.events_delivered == 0


def test_a_stream_of_events_keeps_the_watchdog_quiet_while_heartbeats_wait_behind_it(
    fake_fs: FakeFreeSwitch, connections
):
    # Given a watchdog of 0.5 s and a busy FreeSWITCH whose HEARTBEAT is queued behind a burst
    create = captured_frames("c1_ivr_call_plain", event_name="CHANNEL_CREATE")[0]
    recorder = Recorder()
    connection = connections(
        fast_config(fake_fs.port, heartbeat_timeout=0.5), **recorder.callbacks()
    )
    connection.connect()
    session = fake_fs.current

    # When only channel events flow for 0.8 s (longer than the watchdog)
    for _ in range(16):
        session.send(create)
        gevent.sleep(0.05)

    # Then the node is alive: no heartbeat came, yet the session stayed up
    assert recorder.kinds() == ["up", "connected"]
    assert connection.stats.heartbeats == 0

    # And once FreeSWITCH falls silent, the watchdog still fires
    recorder.wait_for("down", 2)
    assert recorder.calls[2][1].startswith("no HEARTBEAT nor data for 0.5")


def test_garbage_frame_drops_the_session_and_reconnects_cleanly(fake_fs, connections, caplog):
    # Given an established session
    recorder = Recorder()
    connection = connections(fast_config(fake_fs.port), **recorder.callbacks())
    connection.connect()
    fake_fs.api_handlers["hostname"] = "vm"

    # When FreeSWITCH sends binary garbage
    with caplog.at_level(logging.ERROR, logger="apps.telephony.esl.connection"):
        fake_fs.current.send(b"\x00\xff\xfe not esl\n\n")
        recorder.wait_for("up", 2)

    # Then the error is typed and logged, and a fresh session works
    assert recorder.calls[2][0] == "down"
    assert recorder.calls[2][1].startswith("protocol error: ")
    assert connection.stats.protocol_errors == 1
    assert "ESL protocol error" in caplog.text
    assert connection.api("hostname") == "vm"


def test_shutdown_notice_ends_the_session_and_reconnects(fake_fs, connections):
    # Given a session to a FreeSWITCH that is shutting down (z1)
    notice = captured_frames("z1_shutdown_control")[-1]
    recorder = Recorder()
    connection = connections(fast_config(fake_fs.port), **recorder.callbacks())
    connection.connect()

    # When it sends the shutdown notice and closes
    fake_fs.current.send(notice)
    fake_fs.current.drop()
    recorder.wait_for("up", 2)

    # Then the loss is reported with the notice text and the client came back
    assert recorder.calls[2] == ("down", "disconnect notice: The system is being shut down.")


def test_pending_command_fails_when_the_session_is_lost(fake_fs, connections):
    # Given a FreeSWITCH that drops the socket instead of answering "api hang"
    def on_command(session: FakeSession, command: str) -> bool:
        if command == "api hang":
            session.drop()
            return True
        return False

    fake_fs.on_command = on_command
    connection = connections(fast_config(fake_fs.port, reconnect=False))
    connection.connect()

    # When / Then the waiting caller gets ConnectionLost, and later calls NotConnected
    with pytest.raises(ConnectionLost):
        connection.api("hang")
    with pytest.raises(NotConnected):
        connection.api("hostname")


def test_timed_out_command_does_not_steal_the_next_reply(fake_fs, connections):
    # Given a FreeSWITCH that answers "api slow" only when the test says so
    held: list[FakeSession] = []

    def on_command(session: FakeSession, command: str) -> bool:
        if command == "api slow":
            held.append(session)
            return True
        return False

    fake_fs.on_command = on_command
    fake_fs.api_handlers["hostname"] = "vm"
    connection = connections(fast_config(fake_fs.port))
    connection.connect()

    # When the caller gives up, then the late reply arrives before the next command's
    with pytest.raises(CommandTimeout):
        connection.api("slow", timeout=0.05)
    held[0].api_response("late reply")
    hostname = connection.api("hostname")

    # Then the late reply was discarded and the next caller got its own
    assert hostname == "vm"
    assert connection.is_up


def test_full_queue_drops_events_loudly_without_stalling_the_reader(fake_fs, connections, caplog):
    # Given a bounded queue of 3 that nobody drains
    events: gevent.queue.Queue = gevent.queue.Queue(maxsize=3)
    connection = connections(fast_config(fake_fs.port), events=["ALL"], event_queue=events)
    connection.connect()
    fake_fs.api_handlers["hostname"] = "vm"
    frames = [f for f in captured_frames("c1_ivr_call_plain") if b"text/event-plain" in f][:10]

    # When ten events arrive
    with caplog.at_level(logging.ERROR, logger="apps.telephony.esl.connection"):
        fake_fs.current.send(b"".join(frames))
        reply = connection.api("hostname")

    # Then three were queued, seven dropped and reported once, and replies still flow
    assert reply == "vm"
    assert events.qsize() == 3
    assert connection.stats.events_dropped == 7
    assert connection.stats.events_delivered == 3
    assert caplog.text.count("ESL event queue full") == 1


def test_internal_subscriptions_are_not_delivered(fake_fs: FakeFreeSwitch, connections):
    # Given a consumer subscribed to CHANNEL_CREATE only
    seen: list[Event] = []
    fake_fs.bgapi_handlers["status"] = "UP 0 years\n"
    fake_fs.api_handlers["hostname"] = "vm"
    connection = connections(
        fast_config(fake_fs.port, heartbeat_timeout=30.0),
        events=["CHANNEL_CREATE"],
        on_event=seen.append,
    )
    connection.connect()
    heartbeat = captured_frames("h1_heartbeat_plain", event_name="HEARTBEAT")[0]
    [create] = captured_frames("c1_ivr_call_plain", event_name="CHANNEL_CREATE")

    # When a bgapi result, a heartbeat and a channel event arrive
    result = connection.bgapi("status")
    fake_fs.current.send(heartbeat + create)
    connection.api("hostname")

    # Then only the subscribed event reaches the consumer
    assert result == "UP 0 years\n"
    assert [event.name for event in seen] == ["CHANNEL_CREATE"]
    assert connection.stats.heartbeats == 1


def test_bgapi_follows_a_server_assigned_job_uuid(fake_fs: FakeFreeSwitch, connections):
    # Given a peer that ignores the client's Job-UUID and sends the result with the ack
    def on_command(session: FakeSession, command: str) -> bool:
        if command.startswith("bgapi "):
            session.send(
                b"Content-Type: command/reply\nReply-Text: +OK Job-UUID: server-42\n"
                b"Job-UUID: server-42\n\n" + background_job("server-42", "+OK done\n")
            )
            return True
        return False

    fake_fs.on_command = on_command
    connection = connections(fast_config(fake_fs.port))
    connection.connect()

    # When / Then the result is still found
    assert connection.bgapi("status") == "+OK done\n"


def test_bgapi_times_out_when_no_result_comes(fake_fs: FakeFreeSwitch, connections):
    connection = connections(fast_config(fake_fs.port))
    connection.connect()
    with pytest.raises(CommandTimeout, match="no BACKGROUND_JOB"):
        connection.bgapi("originate user/1000 &park", timeout=0.1)


def test_rude_rejection_is_an_authentication_error(fake_fs: FakeFreeSwitch, connections):
    # Given an event socket whose ACL refuses us (no greeting, a rejection, then close)
    fake_fs.greet = False
    connection = connections(fast_config(fake_fs.port))
    rejecting = gevent.spawn(_reject_first_session, fake_fs)

    # When / Then
    with pytest.raises(AuthenticationError, match="Access Denied"):
        connection.connect()
    rejecting.join(timeout=1)


def _reject_first_session(fake_fs: FakeFreeSwitch) -> None:
    session = fake_fs.wait_sessions(1)
    session.send(
        b"Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n"
    )
    session.drop()


def test_failed_attempts_log_warning_then_critical(connections, caplog):
    # Given nothing listening on the port
    probe = gevent.socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    connection = connections(fast_config(port, critical_after=3))

    # When the connection keeps trying in the background
    with caplog.at_level(logging.WARNING, logger="apps.telephony.esl.connection"):
        connection.start()
        with gevent.Timeout(3):
            while connection.stats.failed_attempts < 4:
                gevent.sleep(0.01)
        connection.close()

    # Then the first failures are warnings and the later ones critical
    levels = [record.levelname for record in caplog.records if "failed" in record.message]
    assert levels[:4] == ["WARNING", "WARNING", "CRITICAL", "CRITICAL"]
    assert not connection.is_up


def test_backoff_is_capped_exponential_with_jitter(connections):
    connection = connections(
        fast_config(1, backoff_initial=0.5, backoff_max=8.0, backoff_jitter=0.5),
        rng=random.Random(7),
    )
    delays = [connection.backoff_delay(attempt) for attempt in range(1, 9)]
    ceilings = [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert ceiling * 0.5 <= delay <= ceiling
    assert len(set(delays)) == 8


def test_close_sends_exit_and_stops(fake_fs: FakeFreeSwitch, connections):
    recorder = Recorder()
    connection = connections(fast_config(fake_fs.port), **recorder.callbacks())
    connection.connect()
    session = fake_fs.current

    connection.close()
    with gevent.Timeout(2):
        while "exit" not in session.commands:
            gevent.sleep(0.005)

    assert not connection.is_up
    with pytest.raises(NotConnected):
        connection.api("status")
    assert recorder.kinds() == ["up", "connected", "down"]
    assert len(fake_fs.sessions) == 1


def test_commands_before_connect_fail_fast(connections):
    connection = connections(fast_config(1))
    with pytest.raises(NotConnected):
        connection.api("status")


def test_subscription_and_filters_change_while_up(fake_fs: FakeFreeSwitch, connections):
    connection = connections(fast_config(fake_fs.port), events=["CHANNEL_CREATE"])
    connection.connect()
    session = fake_fs.current

    connection.subscribe("DTMF")
    connection.add_filter("Unique-ID", "abc")
    connection.delete_filter("Unique-ID", "abc")

    assert session.commands[1:] == [
        "event plain CHANNEL_CREATE BACKGROUND_JOB",
        "event plain CHANNEL_CREATE DTMF BACKGROUND_JOB",
        "filter Unique-ID abc",
        "filter Event-Name BACKGROUND_JOB",
        "filter delete Unique-ID abc",
        "filter delete Event-Name BACKGROUND_JOB",
    ]
    assert connection.subscribed_events == ("CHANNEL_CREATE", "DTMF")
    assert connection.filters == ()


def test_line_breaks_in_commands_are_refused(fake_fs: FakeFreeSwitch, connections):
    connection = connections(fast_config(fake_fs.port))
    connection.connect()
    with pytest.raises(ValueError, match="line breaks"):
        connection.api("status\n\nexit")


def test_use_from_another_thread_is_refused(fake_fs: FakeFreeSwitch, connections):
    # Given a connection opened on this thread's hub
    connection = connections(fast_config(fake_fs.port))
    connection.connect()
    errors: list[BaseException] = []

    def call_from_thread() -> None:
        try:
            connection.api("status")
        except BaseException as exc:  # noqa: BLE001 - the test inspects whatever was raised
            errors.append(exc)

    # When another OS thread (another gevent hub) uses it
    worker = threading.Thread(target=call_from_thread)
    worker.start()
    while worker.is_alive():
        gevent.sleep(0.01)

    # Then it is refused instead of corrupting the hub's state
    assert [type(error) for error in errors] == [RuntimeError]
