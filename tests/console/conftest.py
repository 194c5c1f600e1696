"""Console fixtures: calls with their legs, a queue of team A, group listeners and sockets.

Who may see what, with the shared cast (tests/conftest.py):
- agent_a1 opens their own console and acts on calls they are on; agent_a2 and agent_b1 neither
  see nor touch agent_a1's calls or messages;
- supervisor_a views agent_a1's console (``?agent=``) and may act on their calls; supervisor_b
  (another team) may not;
- admin may view any agent's console; qa and crm (API client) do not use the console.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from apps.telephony.models import Call, CallLeg, CallState, FreeswitchNode

ORIGIN = (b"origin", b"http://127.0.0.1")


@pytest.fixture(autouse=True)
def _queue_stats_not_covered():
    """Each test starts with no queue-statistics push scheduled by this process."""
    from apps.console import services

    services._QUEUE_STATS_COVERED_UNTIL.clear()


@pytest.fixture(autouse=True)
def _keep_test_connection(monkeypatch):
    """Keep the test's database connection across database_sync_to_async calls.

    Channels closes "old" connections around each call; inside a test's transaction that closes
    the one connection holding the test's data (Django's test client likewise stops closing
    connections between requests).
    """
    monkeypatch.setattr("channels.db.close_old_connections", lambda **kwargs: None)


@pytest.fixture(autouse=True)
def _socket_reads_on_the_test_thread(settings):
    """Run the consumers' reads on the test's thread, which holds the test's transaction."""
    settings.CONSOLE_SOCKET_READS_IN_PARALLEL = False


@pytest.fixture
def node(db) -> FreeswitchNode:
    return FreeswitchNode.objects.create(
        name="fs1", host="127.0.0.1", port=8021, password="ClueCon"
    )


@pytest.fixture
def support_queue(cast):
    from apps.routing.models import Queue

    queue = Queue.objects.create(slug="support", name="Support")
    queue.teams.add(cast.team_a)
    return queue


@dataclass
class LiveCall:
    call: Call
    caller_leg: CallLeg
    agent_leg: CallLeg


def make_call(
    node: FreeswitchNode,
    agent: Any,
    *,
    caller: str = "13812345678",
    queue_slug: str = "support",
    answered: bool = True,
    bridged: bool = True,
    cc: dict[str, str] | None = None,
    customer_id: int | None = None,
    ivr_path_ref: str = "",
) -> LiveCall:
    """Create an inbound call from ``caller`` with a caller leg and the agent's leg."""
    now = timezone.now()
    started = now - timedelta(seconds=40)
    call_uuid = str(uuid.uuid4())
    call = Call.objects.create(
        node=node,
        uuid=call_uuid,
        direction=Call.Direction.INBOUND,
        caller_number=caller,
        callee_number="4001",
        did="4001",
        state=CallState.BRIDGED if bridged else CallState.PARKED,
        cc_variables={"cc_queue": queue_slug, **(cc or {})},
        queue_slug=queue_slug,
        customer_id=customer_id,
        ivr_path_ref=ivr_path_ref,
        started_at=started,
        answered_at=started,
    )
    agent_uuid = str(uuid.uuid4())
    caller_leg = CallLeg.objects.create(
        node=node,
        call=call,
        uuid=call_uuid,
        role=CallLeg.Role.CALLER,
        direction="inbound",
        caller_number=caller,
        state=CallState.BRIDGED if bridged else CallState.PARKED,
        bridged_to=agent_uuid if bridged else "",
        started_at=started,
        answered_at=started,
    )
    agent_leg = CallLeg.objects.create(
        node=node,
        call=call,
        uuid=agent_uuid,
        role=CallLeg.Role.AGENT,
        direction="outbound",
        agent=agent,
        endpoint=f"user/{agent.extension}",
        state=CallState.BRIDGED if bridged else CallState.RINGING,
        bridged_to=call_uuid if bridged else "",
        started_at=now - timedelta(seconds=20),
        ringing_at=now - timedelta(seconds=20),
        answered_at=now - timedelta(seconds=15) if answered else None,
    )
    return LiveCall(call=call, caller_leg=caller_leg, agent_leg=agent_leg)


@pytest.fixture
def live_call(node, cast, support_queue) -> LiveCall:
    """agent_a1 talking to a caller of the support queue."""
    return make_call(node, cast.agent_a1)


class GroupListener:
    """A channel subscribed to one group, to see exactly what a service pushed."""

    def __init__(self, group: str) -> None:
        self.layer = get_channel_layer()
        self.group = group
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(group, self.channel)

    def receive(self, timeout: float = 2.0) -> dict[str, Any]:
        async def _receive() -> dict[str, Any]:
            return await asyncio.wait_for(self.layer.receive(self.channel), timeout)

        return async_to_sync(_receive)()["message"]

    def receive_type(self, message_type: str, timeout: float = 2.0) -> dict[str, Any]:
        """Return the first message of this type (other apps may push to the group too)."""
        while True:
            message = self.receive(timeout)
            if message["type"] == message_type:
                return message

    def assert_nothing(self, timeout: float = 0.2) -> None:
        with pytest.raises(TimeoutError):
            self.receive(timeout)

    def close(self) -> None:
        async_to_sync(self.layer.group_discard)(self.group, self.channel)


@pytest.fixture
def listen():
    """Return a function that subscribes a listener to a group (discarded after the test)."""
    listeners: list[GroupListener] = []

    def _listen(group: str) -> GroupListener:
        listener = GroupListener(group)
        listeners.append(listener)
        return listener

    yield _listen
    for listener in listeners:
        listener.close()


def session_cookie(user: Any) -> tuple[bytes, bytes]:
    """Log the user in through the session framework and return the Cookie header."""
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


def communicator(path: str = "/ws/console/", user: Any = None) -> WebsocketCommunicator:
    """Return a communicator for the real ASGI application, logged in as ``user`` (or not)."""
    from callcenter.asgi import application

    headers = [ORIGIN]
    if user is not None:
        headers.append(session_cookie(user))
    return WebsocketCommunicator(application, path, headers=headers)


def run(coroutine_function: Any, *args: Any) -> Any:
    """Run an async scenario from a sync test (database calls stay on the test's thread)."""
    return async_to_sync(coroutine_function)(*args)
