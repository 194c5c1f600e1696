"""Logging out or being disabled closes the console sockets; other sessions stay open."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from apps.console import protocol
from callcenter.asgi import application
from tests.console.conftest import ORIGIN, communicator, run

pytestmark = pytest.mark.django_db


def _logged_in(user) -> tuple[Client, WebsocketCommunicator]:
    client = Client()
    client.force_login(user)
    cookie = (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())
    return client, WebsocketCommunicator(application, "/ws/console/", headers=[ORIGIN, cookie])


def test_logging_out_closes_that_sessions_sockets_only(cast):
    # given two browsers of agent_a1: two tabs in the first, one in the second
    browser, first_tab = _logged_in(cast.agent_a1.user)
    second_tab = WebsocketCommunicator(
        application, "/ws/console/", headers=first_tab.scope["headers"]
    )
    _other_browser, other_tab = _logged_in(cast.agent_a1.user)

    async def scenario():
        for comm in (first_tab, second_tab, other_tab):
            await comm.connect()
            await comm.receive_json_from()
        # when the first browser logs out
        await database_sync_to_async(browser.post)("/accounts/logout/")
        closed = [
            (await comm.receive_json_from(), await comm.receive_output())
            for comm in (first_tab, second_tab)
        ]
        untouched = await other_tab.receive_nothing(timeout=0.3)
        await other_tab.disconnect()
        return closed, untouched

    closed, untouched = run(scenario)
    # then both tabs of that browser are told and closed; the other browser's stays open
    for message, output in closed:
        assert message["type"] == "session.closed"
        assert message["reason"] == "logged_out"
        assert output == {"type": "websocket.close", "code": protocol.CLOSE_SESSION_ENDED}
    assert untouched is True


def test_disabling_the_account_closes_every_socket(cast, django_capture_on_commit_callbacks):
    comm = communicator(user=cast.agent_a1.user)

    def disable():
        with django_capture_on_commit_callbacks(execute=True):
            user = cast.agent_a1.user
            user.is_active = False
            user.save(update_fields=["is_active"])

    async def scenario():
        await comm.connect()
        await comm.receive_json_from()
        await database_sync_to_async(disable)()
        message = await comm.receive_json_from()
        output = await comm.receive_output()
        return message, output

    message, output = run(scenario)
    assert message == {"type": "session.closed", "reason": "disabled", "session": ""}
    assert output == {"type": "websocket.close", "code": protocol.CLOSE_SESSION_ENDED}


def test_deactivating_the_agent_closes_their_sockets(cast, django_capture_on_commit_callbacks):
    comm = communicator(user=cast.agent_a1.user)

    def deactivate():
        from apps.accounts.services import agent_update

        with django_capture_on_commit_callbacks(execute=True):
            agent_update(agent=cast.agent_a1, is_active=False)

    async def scenario():
        await comm.connect()
        await comm.receive_json_from()
        await database_sync_to_async(deactivate)()
        message = await comm.receive_json_from()
        output = await comm.receive_output()
        return message, output

    message, output = run(scenario)
    assert message["reason"] == "agent_disabled"
    assert output["code"] == protocol.CLOSE_SESSION_ENDED


def test_inbound_message_after_a_silent_disable_closes_the_socket(cast):
    # given a user disabled without the signal (a bulk update)
    comm = communicator(user=cast.agent_a1.user)

    async def scenario():
        await comm.connect()
        await comm.receive_json_from()
        await database_sync_to_async(
            lambda: (
                type(cast.agent_a1.user)
                .objects.filter(pk=cast.agent_a1.user_id)
                .update(is_active=False)
            )
        )()
        # when the tab sends anything
        await comm.send_json_to({"type": "ping"})
        message = await comm.receive_json_from()
        output = await comm.receive_output()
        return message, output

    message, output = run(scenario)
    # then the re-check refuses it and closes the socket
    assert message["type"] == "session.closed"
    assert output["code"] == protocol.CLOSE_SESSION_ENDED


def test_periodic_check_closes_a_socket_whose_session_ended(cast, settings):
    settings.CONSOLE_SESSION_CHECK_SECONDS = 0.05
    client, comm = _logged_in(cast.agent_a1.user)

    async def scenario():
        await comm.connect()
        await comm.receive_json_from()
        # the session disappears without a logout signal (expired, deleted by an admin)
        await database_sync_to_async(client.session.delete)()
        message = await comm.receive_json_from(timeout=2)
        output = await comm.receive_output(timeout=2)
        return message, output

    message, output = run(scenario)
    assert message["type"] == "session.closed"
    assert output["code"] == protocol.CLOSE_SESSION_ENDED


def test_supervisor_removed_from_the_team_loses_the_view(cast, settings):
    settings.CONSOLE_SESSION_CHECK_SECONDS = 0.05
    comm = communicator(f"/ws/console/?agent={cast.agent_a1.pk}", user=cast.supervisor_a)

    def remove():
        from apps.accounts.services import team_set_supervisors

        team_set_supervisors(team=cast.team_a, supervisors=[])

    async def scenario():
        await comm.connect()
        await comm.receive_json_from()
        await database_sync_to_async(remove)()
        message = await comm.receive_json_from(timeout=2)
        output = await comm.receive_output(timeout=2)
        return message, output

    message, output = run(scenario)
    assert message["type"] == "session.closed"
    assert output["code"] == protocol.CLOSE_SESSION_ENDED
