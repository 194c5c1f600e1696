"""Who may open a console socket: the agent for their own, supervisors and admins to view an
agent they may manage; anonymous, disabled, QA, API clients and other teams' supervisors never."""

from __future__ import annotations

import pytest

from tests.console.conftest import communicator, run

pytestmark = pytest.mark.django_db


async def _connects(comm) -> bool:
    connected, _code = await comm.connect()
    if connected:
        first = await comm.receive_json_from()
        assert first["type"] == "snapshot"
        await comm.disconnect()
    return connected


def test_anonymous_is_refused(cast):
    # given nobody logged in / when they open the socket / then it is refused
    assert run(_connects, communicator()) is False


def test_agent_opens_their_own_console(cast):
    assert run(_connects, communicator(user=cast.agent_a1.user)) is True


def test_disabled_user_is_refused(cast):
    # given an agent whose account is disabled after logging in
    comm = communicator(user=cast.agent_a1.user)
    cast.agent_a1.user.is_active = False
    cast.agent_a1.user.save(update_fields=["is_active"])
    # then the socket is refused
    assert run(_connects, comm) is False


def test_deactivated_agent_is_refused(cast):
    cast.agent_a1.is_active = False
    cast.agent_a1.save(update_fields=["is_active"])
    assert run(_connects, communicator(user=cast.agent_a1.user)) is False


@pytest.mark.parametrize("who", ["qa", "crm"])
def test_users_without_the_console_are_refused(cast, who):
    assert run(_connects, communicator(user=getattr(cast, who))) is False


def test_agent_cannot_view_another_agents_console(cast):
    comm = communicator(f"/ws/console/?agent={cast.agent_a2.pk}", user=cast.agent_a1.user)
    assert run(_connects, comm) is False


def test_supervisor_of_another_team_is_refused(cast):
    comm = communicator(f"/ws/console/?agent={cast.agent_a1.pk}", user=cast.supervisor_b)
    assert run(_connects, comm) is False


def test_supervisor_without_agent_parameter_is_refused(cast):
    # supervisor_a has no console of their own
    assert run(_connects, communicator(user=cast.supervisor_a)) is False


@pytest.mark.parametrize("who", ["supervisor_a", "admin"])
def test_supervisor_of_the_team_and_admin_view_the_agent(cast, who):
    comm = communicator(f"/ws/console/?agent={cast.agent_a1.pk}", user=getattr(cast, who))

    async def scenario():
        connected, _code = await comm.connect()
        snapshot = await comm.receive_json_from()
        await comm.disconnect()
        return connected, snapshot

    connected, snapshot = run(scenario)
    assert connected is True
    assert snapshot["agent"]["id"] == cast.agent_a1.pk
    assert snapshot["viewer"]["viewing"] is True


def test_unknown_agent_id_is_refused(cast):
    comm = communicator("/ws/console/?agent=999999", user=cast.admin)
    assert run(_connects, comm) is False


def test_socket_without_allowed_origin_is_refused(cast):
    from channels.testing import WebsocketCommunicator

    from callcenter.asgi import application
    from tests.console.conftest import session_cookie

    comm = WebsocketCommunicator(
        application,
        "/ws/console/",
        headers=[(b"origin", b"http://evil.example"), session_cookie(cast.agent_a1.user)],
    )
    assert run(_connects, comm) is False
