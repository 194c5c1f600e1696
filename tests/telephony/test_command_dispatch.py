"""Call commands never get lost: the sweep sends again what was committed but never published,
fails what is too late to carry out, and the claim keeps every command sent at most once.

Messages are recorded instead of reaching the shared test broker; a test "delivers" them by running
the task, as the telephony worker would. Commands run against the FreeSWITCH simulator over TCP.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.db import connection
from django.utils import timezone
from kombu.exceptions import OperationalError

from apps.telephony import command_dispatch, services, tasks
from apps.telephony.models import Call, CallCommand, FreeswitchNode

pytestmark = pytest.mark.django_db

ONE = "apps.telephony.tasks.execute_call_command"
BATCH = "apps.telephony.tasks.execute_call_commands"


class Broker:
    """The execution messages published, in order; ``deliver`` runs them as the worker would."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list]] = []

    def record(self, name: str, args: list | None = None, **_options: object) -> None:
        self.messages.append((name, list(args or ())))

    def deliver(self, capture) -> None:
        messages, self.messages = self.messages, []
        for name, args in messages:
            task = tasks.execute_call_command if name == ONE else tasks.execute_call_commands
            with capture(execute=True):
                task.apply(args=args).get()


@pytest.fixture
def broker(monkeypatch) -> Broker:
    recorder = Broker()
    for task in (tasks.execute_call_command, tasks.execute_call_commands):
        monkeypatch.setattr(
            task,
            "apply_async",
            lambda args=None, _name=task.name, **options: recorder.record(_name, args, **options),
        )
    return recorder


def _refuse(*_args: object, **_options: object) -> None:
    """Fail to publish as kombu does when Redis refuses the connection."""
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.fixture
def broker_down(monkeypatch) -> None:
    for task in (tasks.execute_call_command, tasks.execute_call_commands):
        monkeypatch.setattr(task, "apply_async", _refuse)


def _originate(
    node: FreeswitchNode, key: str, *, call: Call | None = None, **params
) -> CallCommand:
    return services.call_command_request(
        kind="originate",
        params={"destination": "user/1001", "timeout": 30, **params},
        idempotency_key=key,
        node=node,
        call=call,
        requester="routing",
    )


def _lost(capture, request) -> CallCommand:
    """Commit a command whose execution message is never published (the requester died)."""
    with capture():  # the on-commit dispatch is captured and dropped
        return request()


def _age(*commands: CallCommand, seconds: float) -> None:
    then = timezone.now() - timedelta(seconds=seconds)
    CallCommand.objects.filter(pk__in=[c.pk for c in commands]).update(
        created_at=then, updated_at=then
    )


def _sweep(capture) -> services.CommandSweep:
    with capture(execute=True):
        return services.call_commands_sweep()


# ------------------------------------------------------------------------------ resending


def test_commands_whose_message_was_lost_are_sent_by_the_sweep_in_one_message_once(
    fs_sim, sim_node, broker, published, django_capture_on_commit_callbacks
):
    # Given two committed originates whose message never left (the router died mid-batch)
    capture = django_capture_on_commit_callbacks
    fs_sim.register_endpoint("1001", answer_after=0.01)
    fs_sim.register_endpoint("1002", answer_after=0.01)
    first = _lost(capture, lambda: _originate(sim_node, "k-1"))
    second = _lost(capture, lambda: _originate(sim_node, "k-2", destination="user/1002"))
    _age(first, second, seconds=8)

    # When the sweep runs
    sweep = _sweep(capture)

    # Then both leave in one message, and the worker places each call once
    assert (sweep.resent, sweep.expired) == ([first.pk, second.pk], [])
    assert broker.messages == [(BATCH, [[first.pk, second.pk]])]
    broker.deliver(capture)
    assert sorted(CallCommand.objects.values_list("status", "attempts")) == [
        ("succeeded", 1),
        ("succeeded", 1),
    ]
    assert len(fs_sim.channels()) == 2
    assert len(published.of("command.succeeded")) == 2
    # And a later sweep finds nothing left to do
    assert _sweep(capture) == services.CommandSweep(resent=[], expired=[])
    assert broker.messages == []


def test_the_original_message_arriving_after_the_sweeps_places_no_second_call(
    fs_sim, sim_node, broker, published, django_capture_on_commit_callbacks
):
    # Given a command whose message was delayed, not lost, and that the sweep sent again
    capture = django_capture_on_commit_callbacks
    fs_sim.register_endpoint("1001", answer_after=0.01)
    command = _lost(capture, lambda: _originate(sim_node, "k-1"))
    _age(command, seconds=8)
    assert _sweep(capture).resent == [command.pk]
    broker.deliver(capture)

    # When the original message finally arrives
    with capture(execute=True):
        status = tasks.execute_call_command.apply(args=[command.pk]).get()

    # Then nothing more is sent: one channel, one attempt, one announcement
    assert status == "succeeded"
    command.refresh_from_db()
    assert (command.status, command.attempts) == ("succeeded", 1)
    assert len(fs_sim.channels()) == 1
    assert len(published.of("command.succeeded")) == 1


@pytest.mark.django_db(transaction=True)
def test_the_sweeps_message_and_the_original_running_at_once_place_one_call(
    fs_sim, sim_node, broker
):
    # Given a committed originate (its message is on its way) that the sweep also sent again;
    # the phone answers after a second, so the two runs overlap
    fs_sim.register_endpoint("1001", answer_after=1.0)
    command = _originate(sim_node, "k-1")
    assert broker.messages == [(ONE, [command.pk])]
    _age(command, seconds=8)
    assert services.call_commands_sweep().resent == [command.pk]

    # When two workers run both messages at the same moment
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def worker() -> None:
        try:
            start.wait()
            outcomes.append(tasks.execute_call_command.run(command.pk))
        except Retry:  # the attempt that found the command being sent asks to look later
            outcomes.append("Retry")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    # Then one of them placed the call; the other found it being sent and asked for a retry
    # (or, had it been scheduled late, found it done)
    command.refresh_from_db()
    assert (command.status, command.attempts) == ("succeeded", 1)
    assert sorted(map(str, outcomes)) in (["Retry", "succeeded"], ["succeeded", "succeeded"])
    assert len(fs_sim.channels()) == 1


def test_the_sweep_does_nothing_when_nothing_is_left_pending(
    node, broker, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    assert _sweep(capture) == services.CommandSweep(resent=[], expired=[])

    # Given finished commands, and one committed a moment ago whose message is on its way
    done = _lost(capture, lambda: _originate(node, "k-1"))
    failed = _lost(capture, lambda: _originate(node, "k-2"))
    _age(done, failed, seconds=30)
    CallCommand.objects.filter(pk=done.pk).update(status="succeeded")
    CallCommand.objects.filter(pk=failed.pk).update(status="failed", error_code="USER_BUSY")
    fresh = _lost(capture, lambda: _originate(node, "k-3"))
    before = list(CallCommand.objects.order_by("pk").values_list("status", "updated_at"))

    sweep = _sweep(capture)

    assert sweep == services.CommandSweep(resent=[], expired=[])
    assert broker.messages == []
    assert list(CallCommand.objects.order_by("pk").values_list("status", "updated_at")) == before
    assert CallCommand.objects.get(pk=fresh.pk).status == "pending"


def test_a_command_sent_again_is_left_to_that_message_for_another_grace_period(
    node, broker, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    command = _lost(capture, lambda: _originate(node, "k-1"))
    _age(command, seconds=8)
    assert _sweep(capture).resent == [command.pk]

    # The worker is busy: the next sweeps must not pile up copies of the same message
    assert _sweep(capture).resent == []
    assert broker.messages == [(ONE, [command.pk])]


def test_a_command_put_back_by_an_unreachable_node_is_sent_again_only_once_its_retry_is_overdue(
    node, broker, django_capture_on_commit_callbacks
):
    # Given a hangup the worker put back to pending (node unreachable), a retry being scheduled
    capture = django_capture_on_commit_callbacks
    command = _lost(
        capture,
        lambda: services.call_command_request(
            kind="hangup", params={"uuid": "u1"}, idempotency_key="k-1", node=node
        ),
    )
    CallCommand.objects.filter(pk=command.pk).update(attempts=1)
    _age(command, seconds=10)

    # Then its own retry message (at most 30 s away) is waited for...
    assert _sweep(capture).resent == []
    # ... and replaced once it is overdue
    _age(command, seconds=services.UNREACHABLE_RETRY_CAP_SECONDS + 6)
    assert _sweep(capture).resent == [command.pk]
    assert broker.messages == [(ONE, [command.pk])]


def test_a_sent_command_whose_attempt_died_is_resolved_by_the_sweep_never_sent_again(
    fs_sim, sim_node, broker, published, django_capture_on_commit_callbacks
):
    # Given an originate a worker claimed, then died with (its message acknowledged or lost)
    capture = django_capture_on_commit_callbacks
    fs_sim.register_endpoint("1001", answer_after=0.01)
    command = _lost(capture, lambda: _originate(sim_node, "k-1", timeout=5))
    long_ago = timezone.now() - timedelta(seconds=40)
    CallCommand.objects.filter(pk=command.pk).update(
        status="sent", attempts=1, sent_at=long_ago, updated_at=long_ago
    )

    # When the sweep runs (the lease of 5 s ring + 30 s is over) and its message is delivered
    assert _sweep(capture).resent == [command.pk]
    broker.deliver(capture)

    # Then the outcome is settled from our records (no leg: unknown), and no call is placed
    command.refresh_from_db()
    assert (command.status, command.error_code, command.attempts) == (
        "failed",
        "OUTCOME_UNKNOWN",
        1,
    )
    assert fs_sim.channels() == []


def test_a_sent_command_within_its_lease_is_left_to_its_attempt(
    node, broker, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    command = _lost(capture, lambda: _originate(node, "k-1", timeout=30))
    sent_at = timezone.now() - timedelta(seconds=20)  # past 15 s, within 30 s ring + 30 s
    CallCommand.objects.filter(pk=command.pk).update(
        status="sent", attempts=1, sent_at=sent_at, updated_at=sent_at
    )

    assert _sweep(capture) == services.CommandSweep(resent=[], expired=[])
    assert broker.messages == []
    assert CallCommand.objects.get(pk=command.pk).status == "sent"


# ------------------------------------------------------------------------------ too late


def test_an_originate_older_than_its_ring_timeout_is_expired_not_dialled(
    fs_sim, sim_node, broker, published, django_capture_on_commit_callbacks
):
    # Given an agent's originate (ring timeout 5 s) whose message was lost 8 s ago: routing has
    # applied RONA by now
    capture = django_capture_on_commit_callbacks
    fs_sim.register_endpoint("1001", answer_after=0.01)
    command = _lost(capture, lambda: _originate(sim_node, "route:o1:ring", timeout=5))
    _age(command, seconds=8)

    sweep = _sweep(capture)

    # Then it fails with EXPIRED, announced like any failure, and the phone never rings
    assert (sweep.resent, sweep.expired) == ([], [command.pk])
    assert broker.messages == []
    command.refresh_from_db()
    assert (command.status, command.error_code, command.attempts) == ("failed", "EXPIRED", 0)
    assert command.error_message == "Not sent within 5 s of the request: too late to carry out."
    [failed] = published.of("command.failed")
    assert failed.data["idempotency_key"] == "route:o1:ring"
    assert failed.data["error_code"] == "EXPIRED"
    # And its original message, arriving now, dials nobody either
    with capture(execute=True):
        assert tasks.execute_call_command.apply(args=[command.pk]).get() == "failed"
    assert fs_sim.channels() == []
    assert len(published.of("command.failed")) == 1


@pytest.mark.parametrize("max_age", [20, 60])
def test_any_command_older_than_the_max_age_is_expired(
    node, broker, settings, django_capture_on_commit_callbacks, max_age
):
    settings.TELEPHONY_COMMAND_MAX_AGE_SECONDS = max_age
    capture = django_capture_on_commit_callbacks
    stale = _lost(
        capture,
        lambda: services.call_command_request(
            kind="hangup", params={"uuid": "u1"}, idempotency_key="k-1", node=node
        ),
    )
    recent = _lost(
        capture,
        lambda: services.call_command_request(
            kind="hangup", params={"uuid": "u2"}, idempotency_key="k-2", node=node
        ),
    )
    _age(stale, seconds=max_age + 1)
    _age(recent, seconds=max_age - 5)

    sweep = _sweep(capture)

    assert (sweep.resent, sweep.expired) == ([recent.pk], [stale.pk])
    assert broker.messages == [(ONE, [recent.pk])]
    assert CallCommand.objects.get(pk=stale.pk).error_code == "EXPIRED"


def test_an_originate_for_a_caller_who_hung_up_is_failed_not_dialled(
    fs_sim, sim_node, broker, published, django_capture_on_commit_callbacks
):
    # Given a caller who hung up while the originate to the agent waited for its lost message
    capture = django_capture_on_commit_callbacks
    fs_sim.register_endpoint("1001", answer_after=0.01)
    now = timezone.now()
    call = Call.objects.create(
        node=sim_node, uuid="caller-1", direction="inbound", started_at=now, ended_at=now
    )
    command = _lost(capture, lambda: _originate(sim_node, "k-1", call=call))
    _age(command, seconds=6)

    sweep = _sweep(capture)

    assert (sweep.resent, sweep.expired) == ([], [command.pk])
    command.refresh_from_db()
    assert (command.status, command.error_code) == ("failed", "CALL_ENDED")
    [failed] = published.of("command.failed")
    assert failed.call_id == call.pk
    assert broker.messages == []
    assert fs_sim.channels() == []


def test_a_late_original_message_for_a_stale_command_dials_nobody_without_a_sweep(
    fs_sim, sim_node, published, django_capture_on_commit_callbacks
):
    # The claim itself refuses: a message stuck in a backlog must not ring a phone late either
    capture = django_capture_on_commit_callbacks
    fs_sim.register_endpoint("1001", answer_after=0.01)
    command = _lost(capture, lambda: _originate(sim_node, "k-1", timeout=5))
    _age(command, seconds=7)

    with capture(execute=True):
        assert tasks.execute_call_command.apply(args=[command.pk]).get() == "failed"

    command.refresh_from_db()
    assert (command.status, command.error_code, command.attempts) == ("failed", "EXPIRED", 0)
    assert fs_sim.channels() == []


# ---------------------------------------------------------------------------- broker down


def test_a_failed_publish_outside_a_batch_is_logged_and_the_sweep_sends_the_command(
    node, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with monkeypatch.context() as down:
        down.setattr(tasks.execute_call_command, "apply_async", _refuse)
        with (
            caplog.at_level(logging.ERROR, logger="apps.telephony.command_dispatch"),
            capture(execute=True),
        ):
            command = _originate(node, "k-1")  # the requester sees no error

    assert [record.getMessage() for record in caplog.records] == [
        f"could not publish call commands [{command.pk}]; the command sweep will send them"
    ]
    assert CallCommand.objects.get(pk=command.pk).status == "pending"

    # When the broker is back, the sweep sends it
    sent: list[tuple[str, list]] = []
    monkeypatch.setattr(
        tasks.execute_call_command,
        "apply_async",
        lambda args=None, **_options: sent.append((ONE, list(args))),
    )
    _age(command, seconds=8)
    assert _sweep(capture).resent == [command.pk]
    assert sent == [(ONE, [command.pk])]


def test_a_failed_publish_at_the_end_of_a_batch_is_logged_not_raised(
    node, broker_down, caplog, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with (
        caplog.at_level(logging.ERROR, logger="apps.telephony.command_dispatch"),
        command_dispatch.batched() as batch,
    ):
        with capture(execute=True):
            first = _originate(node, "k-1")
        with capture(execute=True):
            second = _originate(node, "k-2")

    assert batch == [first.pk, second.pk]
    assert [record.getMessage() for record in caplog.records] == [
        f"could not publish call commands [{first.pk}, {second.pk}]; "
        "the command sweep will send them"
    ]
    assert list(CallCommand.objects.values_list("status", flat=True)) == ["pending", "pending"]


# ------------------------------------------------------------------------ schedule and cost


def test_beat_runs_the_sweep_every_five_seconds_on_the_telephony_queue():
    from django.conf import settings

    from callcenter.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["telephony-command-sweep"]
    assert (entry["task"], entry["schedule"]) == (tasks.sweep_call_commands.name, 5.0)
    assert app.amqp.router.route({}, entry["task"])["queue"].name == "telephony"


def test_the_sweep_reads_only_unfinished_commands_through_their_partial_index(node):
    # Given a history of 5,000 finished commands and a few pending ones
    then = timezone.now() - timedelta(hours=1)
    CallCommand.objects.bulk_create(
        CallCommand(
            kind="hangup",
            params={"uuid": f"u{n}"},
            idempotency_key=f"old-{n}",
            node=node,
            status="succeeded" if n % 10 else "failed",
        )
        for n in range(5000)
    )
    CallCommand.objects.bulk_create(
        CallCommand(kind="hangup", params={"uuid": f"p{n}"}, idempotency_key=f"new-{n}", node=node)
        for n in range(5)
    )
    CallCommand.objects.update(created_at=then, updated_at=then)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE telephony_callcommand")

    plan = services.sweep_candidates(now=timezone.now())[: services.SWEEP_LIMIT].explain()

    assert "telephony_command_unfinished" in plan, plan
    assert "Seq Scan on telephony_callcommand" not in plan, plan


# ------------------------------------------------------------------------ bulk requests


def _ring(node: FreeswitchNode, key: str, **params) -> command_dispatch.CommandRequest:
    return command_dispatch.CommandRequest(
        kind="originate",
        params={"destination": "user/1001", "timeout": 30, **params},
        idempotency_key=key,
        node_id=node.pk,
        requester="routing",
    )


def test_a_bulk_request_stores_every_command_and_sends_them_in_one_message_after_commit(
    node, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), command_dispatch.batched():
        ids = command_dispatch.request_many(
            [_ring(node, "bulk-1"), _ring(node, "bulk-2", destination="user/1002")]
        )
        assert broker.messages == []  # nothing leaves before the commit

    stored = list(
        CallCommand.objects.order_by("pk").values_list(
            "pk", "kind", "idempotency_key", "status", "node_id", "requester", "params"
        )
    )
    assert [row[0] for row in stored] == ids
    assert [row[1:6] for row in stored] == [
        ("originate", "bulk-1", "pending", node.pk, "routing"),
        ("originate", "bulk-2", "pending", node.pk, "routing"),
    ]
    assert stored[1][6] == {"destination": "user/1002", "timeout": 30}
    assert broker.messages == [(BATCH, [ids])]


def test_a_bulk_request_repeating_a_key_returns_the_stored_command_and_sends_it_once(
    node, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = _originate(node, "bulk-1")
    broker.messages.clear()

    with django_capture_on_commit_callbacks(execute=True):
        ids = command_dispatch.request_many([_ring(node, "bulk-1"), _ring(node, "bulk-2")])

    assert ids[0] == first.pk
    assert CallCommand.objects.count() == 2
    assert broker.messages == [(ONE, [ids[1]])]


def test_a_bulk_request_with_a_different_command_under_a_used_key_is_refused(node, broker):
    _originate(node, "bulk-1")

    with pytest.raises(services.Conflict):
        command_dispatch.request_many([_ring(node, "bulk-1", destination="user/2002")])


def test_a_bulk_request_with_an_invalid_command_stores_nothing(node, broker):
    with pytest.raises(services.InvalidInput):
        command_dispatch.request_many(
            [_ring(node, "bulk-1"), _ring(node, "bulk-2", destination="")]
        )

    assert CallCommand.objects.count() == 0
    assert broker.messages == []
