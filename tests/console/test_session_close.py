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


def test_periodic_check_closes_only_the_sockets_that_lost_access(cast, settings):
    settings.CONSOLE_SESSION_CHECK_SECONDS = 0.05
    kept = communicator(user=cast.agent_a2.user)
    lost = communicator(user=cast.agent_a1.user)

    async def scenario():
        for comm in (kept, lost):
            await comm.connect()
            await comm.receive_json_from()
        # agent_a1 is disabled without the signal (a bulk update): only the check notices
        await database_sync_to_async(
            lambda: (
                type(cast.agent_a1.user)
                .objects.filter(pk=cast.agent_a1.user_id)
                .update(is_active=False)
            )
        )()
        message = await lost.receive_json_from(timeout=2)
        output = await lost.receive_output(timeout=2)
        untouched = await kept.receive_nothing(timeout=0.3)
        await kept.disconnect()
        return message, output, untouched

    message, output, untouched = run(scenario)
    assert message["type"] == "session.closed"
    assert output["code"] == protocol.CLOSE_SESSION_ENDED
    assert untouched is True


def test_bulk_check_answers_as_the_single_check_for_every_kind_of_socket(cast):
    from django.contrib.auth.models import Permission

    from apps.accounts.services import agent_update
    from apps.console.services import (
        ConsoleCheck,
        console_sockets_still_allowed,
        console_user_still_allowed,
    )

    def session_of(user) -> str:
        client = Client()
        client.force_login(user)
        return client.cookies["sessionid"].value

    alive = session_of(cast.agent_a1.user)
    ended = session_of(cast.agent_a2.user)
    Client().session.__class__(session_key=ended).delete()
    agent_update(agent=cast.agent_b1, is_active=False)
    # an agent granted the console permission directly, without a role's group
    direct = cast.agent_a2.user
    direct.groups.clear()
    direct.user_permissions.add(Permission.objects.get(codename="use_console"))
    checks = [
        ConsoleCheck(user_id=cast.agent_a1.user_id, session_key=alive),  # allowed
        ConsoleCheck(user_id=cast.agent_a1.user_id, session_key=None),  # no session to check
        ConsoleCheck(user_id=cast.agent_a2.user_id, session_key=ended),  # session ended
        ConsoleCheck(user_id=cast.agent_a2.user_id, session_key=None),  # direct permission
        ConsoleCheck(user_id=cast.agent_b1.user_id, session_key=None),  # agent deactivated
        ConsoleCheck(user_id=cast.qa.pk, session_key=None),  # no console permission
        ConsoleCheck(user_id=cast.supervisor_a.pk, session_key=None, agent_id=cast.agent_a1.pk),
        ConsoleCheck(user_id=cast.supervisor_b.pk, session_key=None, agent_id=cast.agent_a1.pk),
        ConsoleCheck(user_id=999_999, session_key=None),  # no such user
    ]

    bulk = console_sockets_still_allowed(checks)

    single = [
        console_user_still_allowed(
            user_id=check.user_id, session_key=check.session_key, agent_id=check.agent_id
        )
        for check in checks
    ]
    assert bulk == single
    assert bulk == [True, True, False, True, False, False, True, False, False]
