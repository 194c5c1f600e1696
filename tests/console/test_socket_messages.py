"""What a console socket receives: the snapshot, every pushed message type in the console
protocol, only its own agent's and queues' messages, and what it does with inbound messages."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from apps.console import protocol, services
from apps.core.realtime import agent_group, queue_group, team_group, user_group
from tests.console.conftest import communicator, make_call, run

pytestmark = pytest.mark.django_db


async def _push(group: str, message_type: str, payload: dict) -> None:
    await get_channel_layer().group_send(
        group, {"type": "broadcast", "message": {"type": message_type, **payload}}
    )


async def _nothing_more(comm, timeout: float = 0.3) -> bool:
    return await comm.receive_nothing(timeout=timeout)


def test_snapshot_on_connect_describes_the_agent_and_their_live_call(cast, live_call):
    comm = communicator(user=cast.agent_a1.user)

    async def scenario():
        await comm.connect()
        snapshot = await comm.receive_json_from()
        await comm.disconnect()
        return snapshot

    snapshot = run(scenario)
    assert snapshot["type"] == "snapshot"
    assert snapshot["agent"]["id"] == cast.agent_a1.pk
    assert snapshot["viewer"]["viewing"] is False
    assert [queue["slug"] for queue in snapshot["queues"]] == ["support"]
    interaction = snapshot["interaction"]
    assert interaction["call_id"] == live_call.call.pk
    assert interaction["status"] == "talking"
    assert interaction["agent_leg_uuid"] == live_call.agent_leg.uuid
    assert interaction["customer_leg_uuid"] == live_call.caller_leg.uuid
    assert interaction["screen_pop"]["call"]["number"] == "13812345678"
    assert interaction["screen_pop"]["call"]["number_e164"] == "+8613812345678"


@pytest.mark.parametrize(
    ("pushed", "received"),
    [
        ("agent.state", "state.changed"),
        ("call.offered", "call.offered"),
        ("call.ringing", "call.ringing"),
        ("call.answered", "call.answered"),
        ("call.held", "call.held"),
        ("call.unheld", "call.unheld"),
        ("call.hungup", "call.ended"),
        ("screen_pop", "screen_pop"),
        ("control.succeeded", "control.succeeded"),
        ("control.failed", "control.failed"),
        ("wrap_up.saved", "wrap_up.saved"),
    ],
)
def test_agent_group_messages_arrive_in_the_console_protocol(cast, pushed, received):
    comm = communicator(user=cast.agent_a1.user)

    async def scenario():
        await comm.connect()
        await comm.receive_json_from()  # snapshot
        await _push(agent_group(cast.agent_a1.pk), pushed, {"call_id": 7})
        message = await comm.receive_json_from()
        await comm.disconnect()
        return message

    assert run(scenario) == {"type": received, "call_id": 7}


def test_queue_and_user_group_messages_arrive(cast, support_queue):
    comm = communicator(user=cast.agent_a1.user)

    async def scenario():
        await comm.connect()
        await comm.receive_json_from()
        await _push(queue_group(support_queue.pk), "queue.stats", {"queue_id": support_queue.pk})
        stats = await comm.receive_json_from()
        await _push(user_group(cast.agent_a1.user_id), "notification", {"id": 1})
        notification = await comm.receive_json_from()
        await comm.disconnect()
        return stats, notification

    stats, notification = run(scenario)
    assert stats == {"type": "queue.stats", "queue_id": support_queue.pk}
    assert notification == {"type": "notification", "id": 1}


def test_an_agent_never_receives_another_agents_or_queues_messages(cast, support_queue):
    # given agent_b1 (team B, not serving the support queue) and agent_a2 connected
    from apps.routing.models import Queue

    other_queue = Queue.objects.create(slug="billing", name="Billing")
    other_queue.teams.add(cast.team_b)
    comm = communicator(user=cast.agent_b1.user)

    async def scenario():
        await comm.connect()
        await comm.receive_json_from()
        # when messages go to agent_a1, to agent_a1's user, to team A and to the support queue
        await _push(agent_group(cast.agent_a1.pk), "screen_pop", {"call_id": 1})
        await _push(user_group(cast.agent_a1.user_id), "notification", {"id": 2})
        await _push(team_group(cast.team_a.pk), "agent.state", {"agent_id": cast.agent_a1.pk})
        await _push(queue_group(support_queue.pk), "queue.stats", {"queue_id": 3})
        nothing = await _nothing_more(comm)
        # then agent_b1 got none of them, but gets its own queue's
        await _push(queue_group(other_queue.pk), "queue.stats", {"queue_id": other_queue.pk})
        own = await comm.receive_json_from()
        await comm.disconnect()
        return nothing, own

    nothing, own = run(scenario)
    assert nothing is True
    assert own == {"type": "queue.stats", "queue_id": other_queue.pk}


def test_supervisor_viewing_receives_the_agents_messages_but_not_other_agents(cast):
    comm = communicator(f"/ws/console/?agent={cast.agent_a1.pk}", user=cast.supervisor_a)

    async def scenario():
        await comm.connect()
        await comm.receive_json_from()
        await _push(agent_group(cast.agent_a2.pk), "screen_pop", {"call_id": 9})
        nothing = await _nothing_more(comm)
        await _push(agent_group(cast.agent_a1.pk), "screen_pop", {"call_id": 8})
        message = await comm.receive_json_from()
        await comm.disconnect()
        return nothing, message

    nothing, message = run(scenario)
    assert nothing is True
    assert message == {"type": "screen_pop", "call_id": 8}


def test_two_tabs_of_one_agent_receive_the_same_messages(cast):
    first = communicator(user=cast.agent_a1.user)
    second = communicator(user=cast.agent_a1.user)

    async def scenario():
        for comm in (first, second):
            await comm.connect()
            await comm.receive_json_from()
        await _push(agent_group(cast.agent_a1.pk), "agent.state", {"state": "available"})
        received = [await first.receive_json_from(), await second.receive_json_from()]
        for comm in (first, second):
            await comm.disconnect()
        return received

    assert run(scenario) == [{"type": "state.changed", "state": "available"}] * 2


def test_screen_pop_service_reaches_the_socket(cast, live_call):
    comm = communicator(user=cast.agent_a1.user)

    async def scenario():
        await comm.connect()
        await comm.receive_json_from()
        await database_sync_to_async(services.screen_pop_push)(
            call_id=live_call.call.pk,
            agent_id=cast.agent_a1.pk,
            phase="offer",
            leg_uuid=live_call.agent_leg.uuid,
            leg_role="agent",
        )
        message = await comm.receive_json_from()
        await comm.disconnect()
        return message

    message = run(scenario)
    assert message["type"] == "screen_pop"
    assert message["phase"] == "offer"
    assert message["call"]["id"] == live_call.call.pk
    assert message["leg_uuid"] == live_call.agent_leg.uuid


def test_control_failure_reaches_the_socket_with_its_reason(cast, live_call):
    comm = communicator(user=cast.agent_a1.user)
    key = protocol.command_key(
        agent_id=cast.agent_a1.pk,
        call_id=live_call.call.pk,
        action="transfer",
        request_id="req-12345678",
    )

    async def scenario():
        await comm.connect()
        await comm.receive_json_from()
        await database_sync_to_async(services.control_outcome_push)(
            idempotency_key=key,
            succeeded=False,
            kind="transfer",
            error_code="NO_SUCH_CHANNEL",
            error_message="-ERR No such channel!",
        )
        message = await comm.receive_json_from()
        await comm.disconnect()
        return message

    message = run(scenario)
    assert message == {
        "type": "control.failed",
        "call_id": live_call.call.pk,
        "action": "transfer",
        "request_id": "req-12345678",
        "command_id": None,
        "kind": "transfer",
        "error_code": "NO_SUCH_CHANNEL",
        "reason": "The other party has hung up.",
    }


def test_resync_and_interaction_refresh_and_ping(cast, live_call):
    comm = communicator(user=cast.agent_a1.user)

    async def scenario():
        await comm.connect()
        await comm.receive_json_from()
        await comm.send_json_to({"type": "resync"})
        snapshot = await comm.receive_json_from()
        await comm.send_json_to({"type": "interaction.refresh"})
        interaction = await comm.receive_json_from()
        await comm.send_json_to({"type": "ping", "request_id": "p1"})
        pong = await comm.receive_json_from()
        await comm.send_json_to({"type": "bogus", "request_id": "b1"})
        error = await comm.receive_json_from()
        await comm.disconnect()
        return snapshot, interaction, pong, error

    snapshot, interaction, pong, error = run(scenario)
    assert snapshot["type"] == "snapshot"
    assert snapshot["interaction"]["call_id"] == live_call.call.pk
    assert interaction["type"] == "interaction"
    assert interaction["interaction"]["call_id"] == live_call.call.pk
    assert [item["call_id"] for item in interaction["recent"]] == [live_call.call.pk]
    assert pong == {"type": "pong", "request_id": "p1"}
    assert error == {"type": "error", "request_id": "b1", "code": "unknown_message", "message": ""}


def test_state_set_goes_to_routing_and_its_push_comes_back(
    cast, django_capture_on_commit_callbacks
):
    from apps.routing.models import AgentPresence

    comm = communicator(user=cast.agent_a1.user)

    async def scenario():
        await comm.connect()
        await comm.receive_json_from()
        await comm.send_json_to({"type": "state.set", "state": "not_ready", "reason": "lunch"})
        await asyncio.sleep(0)
        await comm.disconnect()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run(scenario)
    presence = AgentPresence.objects.get(agent=cast.agent_a1)
    assert (presence.state, presence.reason) == ("not_ready", "lunch")
    assert callbacks  # routing's push of the new state, sent once committed


def test_refused_state_change_answers_an_error(cast):
    comm = communicator(user=cast.agent_a1.user)

    async def scenario():
        await comm.connect()
        await comm.receive_json_from()
        await comm.send_json_to({"type": "state.set", "state": "on_call", "request_id": "s1"})
        message = await comm.receive_json_from()
        await comm.disconnect()
        return message

    message = run(scenario)
    assert message["type"] == "error"
    assert message["request_id"] == "s1"
    assert message["code"] == "invalid"


def test_snapshot_of_an_agent_with_two_calls_shows_the_live_one(cast, node, support_queue):
    make_call(node, cast.agent_a2)
    live = make_call(node, cast.agent_a1, caller="+8613900001111")
    comm = communicator(user=cast.agent_a1.user)

    async def scenario():
        await comm.connect()
        snapshot = await comm.receive_json_from()
        await comm.disconnect()
        return snapshot

    snapshot = run(scenario)
    assert snapshot["interaction"]["call_id"] == live.call.pk
    assert [item["call_id"] for item in snapshot["recent"]] == [live.call.pk]


@pytest.mark.parametrize(
    ("code", "words"),
    [("EXPIRED", "in time; it was cancelled"), ("CALL_ENDED", "already ended")],
)
def test_commands_the_switch_never_ran_are_explained_not_shown_as_codes(code, words):
    from apps.console.protocol import failure_reason

    reason = failure_reason(action="transfer", error_code=code, error_message="")

    assert words in reason
    assert code not in reason
