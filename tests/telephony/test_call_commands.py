"""Call commands: requested once per key, sent once over ESL, answered with typed errors.

Commands run against the FreeSWITCH simulator over real TCP (the telephony worker's client).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.errors import Conflict, InvalidInput
from apps.telephony import clients, command_runner, services
from apps.telephony.models import Call, CallCommand, CallLeg, CallRecording, FreeswitchNode

pytestmark = pytest.mark.django_db


def _originate(node: FreeswitchNode, key: str = "route:call-1:agent-1001", **params) -> CallCommand:
    return services.call_command_request(
        kind="originate",
        params={"destination": "user/1001", "timeout": 5, **params},
        idempotency_key=key,
        node=node,
        requester="routing",
    )


def _run(command: CallCommand, capture) -> command_runner.RunOutcome:
    with capture(execute=True):
        return command_runner.run_call_command(command.pk)


# ------------------------------------------------------------------------------- requesting


def test_requesting_twice_with_one_key_stores_and_enqueues_one_command(
    node, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as enqueued:
        first = _originate(node)
        second = _originate(node)

    assert first.pk == second.pk
    assert CallCommand.objects.count() == 1
    assert len(enqueued) == 1
    assert (first.status, first.kind, first.requester) == ("pending", "originate", "routing")


def test_reusing_a_key_for_another_command_is_a_conflict(node, django_capture_on_commit_callbacks):
    _originate(node)

    with django_capture_on_commit_callbacks() as enqueued, pytest.raises(Conflict):
        _originate(node, destination="user/1002")

    assert len(enqueued) == 0
    assert CallCommand.objects.get().params["destination"] == "user/1001"


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("teleport", {"uuid": "x"}),
        ("hangup", {}),
        ("bridge", {"uuid": "a"}),
        ("attended_transfer", {"action": "start", "customer_uuid": "a"}),
        ("originate", {"destination": "user/1001", "variables": ["not", "a", "mapping"]}),
    ],
)
def test_an_invalid_command_is_refused_and_nothing_is_stored(
    node, django_capture_on_commit_callbacks, kind, params
):
    with django_capture_on_commit_callbacks() as enqueued, pytest.raises(InvalidInput):
        services.call_command_request(kind=kind, params=params, idempotency_key="k1", node=node)

    assert CallCommand.objects.count() == 0
    assert len(enqueued) == 0


def test_a_command_on_a_call_goes_to_the_calls_node(node, django_capture_on_commit_callbacks):
    other = FreeswitchNode.objects.create(name="fs0", host="127.0.0.9", password="x")
    call = Call.objects.create(node=node, uuid="c1", direction="inbound", started_at=timezone.now())

    with django_capture_on_commit_callbacks():
        command = services.call_command_request(
            kind="hangup", params={"uuid": "c1"}, idempotency_key="k2", call=call
        )

    assert command.node == node
    assert other.name < node.name  # the default node would have been the other one


# -------------------------------------------------------------------------------- executing


def test_an_originate_to_a_registered_phone_succeeds_with_its_derived_uuid(
    fs_sim, sim_node, published, django_capture_on_commit_callbacks
):
    # Given agent phone 1001 registered, and a call the agent is wanted for
    fs_sim.register_endpoint("1001", answer_after=0.01)
    call = Call.objects.create(
        node=sim_node, uuid="caller-leg", direction="inbound", started_at=timezone.now()
    )
    with django_capture_on_commit_callbacks():
        command = services.call_command_request(
            kind="originate",
            params={"destination": "user/1001", "timeout": 5, "agent_id": 7, "role": "agent"},
            idempotency_key="route:caller-leg:1001",
            call=call,
        )

    # When the telephony worker runs it
    outcome = _run(command, django_capture_on_commit_callbacks)

    # Then the agent's phone has a channel with the uuid derived from the command
    command.refresh_from_db()
    expected_uuid = services.origination_uuid_for(command)
    assert (command.status, command.result) == ("succeeded", {"uuid": expected_uuid})
    assert outcome.retry_in is None
    channel = fs_sim.channel(expected_uuid)
    assert channel is not None
    assert channel.variables["cc_call_uuid"] == "caller-leg"
    assert channel.variables["cc_agent_id"] == "7"
    assert channel.variables["cc_leg_role"] == "agent"
    assert channel.variables["cc_command_id"] == str(command.pk)
    # And whoever asked hears it
    [succeeded] = published.of("command.succeeded")
    assert succeeded.call_id == call.pk
    assert succeeded.leg_uuid == expected_uuid
    assert succeeded.data["idempotency_key"] == "route:caller-leg:1001"


def test_an_originate_to_an_unregistered_user_fails_with_its_typed_error(
    fs_sim, sim_node, published, django_capture_on_commit_callbacks
):
    fs_sim.add_directory_user("1002")
    with django_capture_on_commit_callbacks():
        command = _originate(sim_node, destination="user/1002")

    _run(command, django_capture_on_commit_callbacks)

    command.refresh_from_db()
    assert (command.status, command.error_code) == ("failed", "USER_NOT_REGISTERED")
    assert (
        command.error_message
        == "-ERR USER_NOT_REGISTERED (command: originate "
        + (command.error_message.split("(command: originate ", 1)[1])
    )
    [failed] = published.of("command.failed")
    assert failed.data["error_code"] == "USER_NOT_REGISTERED"
    assert fs_sim.channels() == []


def test_a_command_on_a_channel_that_does_not_exist_fails_with_no_such_channel(
    fs_sim, sim_node, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        command = services.call_command_request(
            kind="transfer",
            params={"uuid": "no-such-uuid", "destination": "4002"},
            idempotency_key="transfer-1",
            node=sim_node,
        )

    _run(command, django_capture_on_commit_callbacks)

    command.refresh_from_db()
    assert (command.status, command.error_code) == ("failed", "NO_SUCH_CHANNEL")


def test_holding_a_channel_that_does_not_exist_fails_with_freeswitchs_message(
    fs_sim, sim_node, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        command = services.call_command_request(
            kind="hold", params={"uuid": "no-such-uuid"}, idempotency_key="hold-1", node=sim_node
        )

    _run(command, django_capture_on_commit_callbacks)

    command.refresh_from_db()
    assert (command.status, command.error_code) == ("failed", "COMMAND_ERROR")
    assert command.error_message == "-ERR Operation Failed (command: uuid_hold no-such-uuid)"


def test_hanging_up_a_channel_that_is_already_gone_succeeds(
    fs_sim, sim_node, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        command = services.call_command_request(
            kind="hangup",
            params={"uuid": "gone", "cause": "NORMAL_CLEARING"},
            idempotency_key="hangup-1",
            node=sim_node,
        )

    _run(command, django_capture_on_commit_callbacks)

    command.refresh_from_db()
    assert (command.status, command.result) == ("succeeded", {"already_gone": True})


def test_a_redelivered_task_never_places_a_second_call(
    fs_sim, sim_node, published, django_capture_on_commit_callbacks
):
    fs_sim.register_endpoint("1001", answer_after=0.01)
    with django_capture_on_commit_callbacks():
        command = _originate(sim_node)
    _run(command, django_capture_on_commit_callbacks)

    # When the same task is delivered again (at-least-once delivery)
    again = _run(command, django_capture_on_commit_callbacks)

    # Then nothing is sent: one channel, one attempt, one announcement
    assert again.command.status == "succeeded"
    assert len(fs_sim.channels()) == 1
    command.refresh_from_db()
    assert command.attempts == 1
    assert len(published.of("command.succeeded")) == 1


def test_a_command_another_attempt_is_sending_is_left_alone_until_its_lease_ends(
    fs_sim, sim_node, django_capture_on_commit_callbacks
):
    fs_sim.register_endpoint("1001", answer_after=0.01)
    with django_capture_on_commit_callbacks():
        command = _originate(sim_node)
    CallCommand.objects.filter(pk=command.pk).update(status="sent", sent_at=timezone.now())

    outcome = _run(command, django_capture_on_commit_callbacks)

    assert outcome.retry_in is not None
    assert outcome.retry_in > 30
    assert fs_sim.channels() == []
    command.refresh_from_db()
    assert (command.status, command.attempts) == ("sent", 0)


def test_an_abandoned_originate_whose_leg_exists_is_recorded_as_placed(
    fs_sim, sim_node, django_capture_on_commit_callbacks
):
    # Given a worker that sent the originate, then died before recording the outcome
    with django_capture_on_commit_callbacks():
        command = _originate(sim_node)
    long_ago = timezone.now() - timedelta(minutes=10)
    CallCommand.objects.filter(pk=command.pk).update(status="sent", sent_at=long_ago)
    leg_uuid = services.origination_uuid_for(command)
    call = Call.objects.create(
        node=sim_node, uuid=leg_uuid, direction="outbound", started_at=long_ago
    )
    CallLeg.objects.create(
        node=sim_node,
        call=call,
        uuid=leg_uuid,
        role="agent",
        direction="outbound",
        started_at=long_ago,
    )

    # When the task is redelivered after the lease
    _run(command, django_capture_on_commit_callbacks)

    # Then the event process's record of the leg settles it: placed, and not placed again
    command.refresh_from_db()
    assert (command.status, command.result) == ("succeeded", {"uuid": leg_uuid})
    assert fs_sim.channels() == []


def test_an_abandoned_command_without_a_trace_is_failed_not_resent(
    fs_sim, sim_node, django_capture_on_commit_callbacks
):
    fs_sim.register_endpoint("1001", answer_after=0.01)
    with django_capture_on_commit_callbacks():
        command = _originate(sim_node)
    CallCommand.objects.filter(pk=command.pk).update(
        status="sent", sent_at=timezone.now() - timedelta(minutes=10)
    )

    _run(command, django_capture_on_commit_callbacks)

    command.refresh_from_db()
    assert (command.status, command.error_code) == ("failed", "OUTCOME_UNKNOWN")
    assert fs_sim.channels() == []


def test_an_unreachable_node_puts_the_command_back_then_gives_up(
    db, django_capture_on_commit_callbacks
):
    # Given a node nothing listens on (port 1 refuses at once)
    node = FreeswitchNode.objects.create(name="down", host="127.0.0.1", port=1, password="x")
    with django_capture_on_commit_callbacks():
        command = services.call_command_request(
            kind="hangup", params={"uuid": "u1"}, idempotency_key="hangup-2", node=node
        )
    try:
        # When the worker tries: the command goes back to pending, to be retried later
        first = command_runner.run_call_command(command.pk)
        command.refresh_from_db()
        assert (command.status, command.attempts, first.retry_in) == ("pending", 1, 2.0)

        for _ in range(command_runner.MAX_UNREACHABLE_ATTEMPTS - 1):
            with django_capture_on_commit_callbacks(execute=True):
                last = command_runner.run_call_command(command.pk)
    finally:
        clients.close_all()

    # Then, after the last attempt, it fails for good
    command.refresh_from_db()
    assert last.retry_in is None
    assert (command.status, command.error_code) == ("failed", "NODE_UNAVAILABLE")


def test_masking_a_recording_is_remembered_as_a_span(
    fs_sim, sim_node, replay, django_capture_on_commit_callbacks
):
    # Given a caller on the simulator whose leg is being recorded (as the event process saw it)
    uuid = fs_sim.place_inbound_call(caller="5551000", destination="4001")
    path = f"/var/lib/freeswitch/recordings/{uuid}.wav"
    leg_call = Call.objects.create(
        node=sim_node, uuid=uuid, direction="inbound", started_at=timezone.now()
    )
    leg = CallLeg.objects.create(
        node=sim_node,
        call=leg_call,
        uuid=uuid,
        role="caller",
        direction="inbound",
        started_at=timezone.now(),
    )
    recording = CallRecording.objects.create(
        node=sim_node,
        call=leg_call,
        leg=leg,
        path=path,
        started_at=timezone.now(),
        start_sequence=1,
    )
    for kind, key in (("record_start", "r0"), ("record_mask", "r1"), ("record_unmask", "r2")):
        with django_capture_on_commit_callbacks():
            command = services.call_command_request(
                kind=kind,
                params={"uuid": uuid, "path": path},
                idempotency_key=key,
                call=leg_call,
            )
        _run(command, django_capture_on_commit_callbacks)
        command.refresh_from_db()
        assert command.status == "succeeded", command.error_message

    recording.refresh_from_db()
    [span] = recording.masked_spans
    assert span["start"] is not None
    assert span["end"] is not None
    assert span["start"] <= span["end"]


def test_the_celery_task_runs_the_command(fs_sim, sim_node, django_capture_on_commit_callbacks):
    from apps.telephony.tasks import execute_call_command

    fs_sim.register_endpoint("1001", answer_after=0.01)
    with django_capture_on_commit_callbacks():
        command = _originate(sim_node)

    with django_capture_on_commit_callbacks(execute=True):
        result = execute_call_command.apply(args=[command.pk])

    assert result.get() == "succeeded"
    assert len(fs_sim.channels()) == 1


# ------------------------------------------------------------------------------- batching


@pytest.fixture
def publishes(monkeypatch) -> list[tuple[str, list]]:
    """Record the execution messages published (the shared test broker is never written)."""
    from apps.telephony import tasks

    sent: list[tuple[str, list]] = []
    for task in (tasks.execute_call_command, tasks.execute_call_commands):
        monkeypatch.setattr(
            task,
            "apply_async",
            lambda args=None, _name=task.name, **_options: sent.append((_name, list(args))),
        )
    return sent


def test_each_command_committed_outside_a_batch_gets_its_own_message(
    node, publishes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = _originate(node, key="k-1")
    with django_capture_on_commit_callbacks(execute=True):
        second = _originate(node, key="k-2")

    assert publishes == [
        ("apps.telephony.tasks.execute_call_command", [first.pk]),
        ("apps.telephony.tasks.execute_call_command", [second.pk]),
    ]


def test_commands_committed_in_a_batch_leave_in_one_message_at_its_end(
    node, publishes, django_capture_on_commit_callbacks
):
    from apps.telephony import command_dispatch

    with command_dispatch.batched():
        with django_capture_on_commit_callbacks(execute=True):
            first = _originate(node, key="k-1")
        with django_capture_on_commit_callbacks(execute=True):
            second = _originate(node, key="k-2")
        assert publishes == []  # nothing leaves before the batch ends

    assert publishes == [("apps.telephony.tasks.execute_call_commands", [[first.pk, second.pk]])]


def test_a_batch_publishes_what_committed_even_when_it_ends_with_an_error(
    node, publishes, django_capture_on_commit_callbacks
):
    from apps.telephony import command_dispatch

    def route_then_stop() -> None:
        with command_dispatch.batched():
            with django_capture_on_commit_callbacks(execute=True):
                _originate(node, key="k-1")
            raise RuntimeError("the router stopped half-way")

    with pytest.raises(RuntimeError):
        route_then_stop()

    assert publishes == [
        ("apps.telephony.tasks.execute_call_command", [CallCommand.objects.get().pk])
    ]


def test_a_rolled_back_command_is_never_dispatched(node, publishes):
    from django.db import transaction

    from apps.telephony import command_dispatch

    class Abort(Exception):
        pass

    def request_then_abort() -> None:
        with transaction.atomic():
            _originate(node, key="k-1")
            raise Abort

    with command_dispatch.batched() as batch:
        with pytest.raises(Abort):
            request_then_abort()
        assert batch == []
    assert publishes == []
    assert CallCommand.objects.count() == 0


def test_a_batch_sends_each_command_once_and_records_the_one_that_failed(
    fs_sim, sim_node, published, publishes, django_capture_on_commit_callbacks
):
    from apps.telephony.tasks import execute_call_commands

    # Given two registered phones and one directory user whose phone is not registered
    fs_sim.register_endpoint("1001", answer_after=0.01)
    fs_sim.register_endpoint("1003", answer_after=0.01)
    fs_sim.add_directory_user("1002")
    with django_capture_on_commit_callbacks():
        batch = [
            _originate(sim_node, key=f"k-{number}", destination=f"user/{number}")
            for number in ("1001", "1002", "1003")
        ]

    # When the batch task runs, then runs again (at-least-once delivery)
    with django_capture_on_commit_callbacks(execute=True):
        retried = execute_call_commands.apply(args=[[command.pk for command in batch]]).get()
    with django_capture_on_commit_callbacks(execute=True):
        execute_call_commands.apply(args=[[command.pk for command in batch]]).get()

    # Then the failure is recorded, the others were sent, and nothing was sent twice
    outcomes = {
        command.idempotency_key: (command.status, command.error_code, command.attempts)
        for command in CallCommand.objects.all()
    }
    assert outcomes == {
        "k-1001": ("succeeded", "", 1),
        "k-1002": ("failed", "USER_NOT_REGISTERED", 1),
        "k-1003": ("succeeded", "", 1),
    }
    assert retried == 0
    assert publishes == []
    assert len(fs_sim.channels()) == 2
    assert len(published.of("command.succeeded")) == 2
    assert len(published.of("command.failed")) == 1


def test_a_batch_retries_on_their_own_the_commands_an_unreachable_node_kept(
    db, publishes, django_capture_on_commit_callbacks
):
    from apps.telephony.tasks import execute_call_commands

    # Given commands for a node nothing listens on (port 1 refuses at once); a ring timeout
    # longer than the client's connection attempts, or the second would expire unsent
    node = FreeswitchNode.objects.create(name="down", host="127.0.0.1", port=1, password="x")
    with django_capture_on_commit_callbacks():
        first = _originate(node, key="k-1", timeout=30)
        second = _originate(node, key="k-2", timeout=30)

    # When the batch runs
    try:
        retried = execute_call_commands.apply(args=[[first.pk, second.pk]]).get()
    finally:
        clients.close_all()

    # Then both are pending again, each with its own retry message
    assert retried == 2
    assert sorted(CallCommand.objects.values_list("status", "attempts")) == [
        ("pending", 1),
        ("pending", 1),
    ]
    assert publishes == [
        ("apps.telephony.tasks.execute_call_command", [first.pk]),
        ("apps.telephony.tasks.execute_call_command", [second.pk]),
    ]
