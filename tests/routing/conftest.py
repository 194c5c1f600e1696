"""Routing fixtures: a FreeSWITCH node record, skills, queues, agents with skills, parked callers.

Time is explicit: services and the router take ``now``, so tests move a clock (``T0`` + seconds)
instead of sleeping. Celery tasks are recorded (``enqueued``), never published.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from apps.accounts.models import Agent, Team
from apps.routing import services
from apps.routing.models import AgentPresence, Queue, QueueSkill, Skill, WaitingCall
from apps.telephony.models import Call, CallCommand, FreeswitchNode
from tests.factories import AgentFactory, TeamFactory

# A Monday, 10:00 UTC.
T0 = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """Return T0 plus some seconds."""
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def node(db) -> FreeswitchNode:
    return FreeswitchNode.objects.create(name="fs1", host="127.0.0.1", password="test-only")


@pytest.fixture
def skills(db) -> dict[str, Skill]:
    rows = [
        ("sales", "Sales", ""),
        ("after-sales", "After-sales", ""),
        ("billing", "Billing", ""),
        ("vip", "VIP", ""),
        ("english", "English", "en"),
        ("mandarin", "Mandarin", "zh"),
    ]
    return {
        slug: Skill.objects.create(slug=slug, name=name, language_code=language)
        for slug, name, language in rows
    }


@pytest.fixture
def team(db) -> Team:
    return TeamFactory(name="Sales team")


@pytest.fixture
def make_queue(db, team) -> Callable[..., Queue]:
    def _make(
        slug: str = "sales",
        *,
        teams: list[Team] | None = None,
        requires: dict[Skill, int] | None = None,
        **fields: object,
    ) -> Queue:
        defaults = {"name": slug.title(), "wrap_up_seconds": 10, "ring_timeout_seconds": 20}
        queue = Queue.objects.create(slug=slug, **{**defaults, **fields})
        queue.teams.set(teams if teams is not None else [team])
        for skill, level in (requires or {}).items():
            QueueSkill.objects.create(queue=queue, skill=skill, min_level=level)
        return queue

    return _make


_extensions = count(3000)


@pytest.fixture
def make_agent(db, role_groups, team) -> Callable[..., Agent]:
    """Create an agent with skills {Skill: level}; ``available_at`` (seconds) logs them in."""

    def _make(
        skills: dict[Skill, int] | None = None,
        *,
        team: Team | None = team,
        available_at: float | None = None,
        username: str | None = None,
    ) -> Agent:
        extension = str(next(_extensions))
        agent = AgentFactory(
            team=team, extension=extension, user__username=username or f"agent{extension}"
        )
        services.agent_presence_ensure(agent=agent, now=at(-3600))
        for skill, level in (skills or {}).items():
            services.agent_skill_set(agent=agent, skill=skill, level=level)
        if available_at is not None:
            services.agent_set_state(agent=agent, state="available", now=at(available_at))
        return agent

    return _make


_uuids = count(1)


@pytest.fixture
def park(db, node) -> Callable[..., WaitingCall]:
    """Park a caller (a telephony Call record) and enqueue it as the telephony event would."""

    def _park(
        queue: Queue | str = "sales",
        *,
        at_seconds: float = 0,
        now_seconds: float | None = None,
        uuid: str | None = None,
        **call_vars: object,
    ) -> WaitingCall:
        call_uuid = uuid or f"caller-{next(_uuids):04d}"
        call = Call.objects.create(
            node=node,
            uuid=call_uuid,
            direction="inbound",
            started_at=at(at_seconds),
            caller_number=str(call_vars.get("caller_number", "5550100")),
        )
        slug = queue if isinstance(queue, str) else queue.slug
        return services.waiting_call_enqueue(
            call_uuid=call_uuid,
            queue_slug=slug,
            node=node.name,
            telephony_call_id=call.pk,
            enqueued_at=at(at_seconds),
            now=at(now_seconds if now_seconds is not None else at_seconds),
            caller_number=str(call_vars.pop("caller_number", "5550100")),
            **call_vars,  # type: ignore[arg-type]
        )

    return _park


def state_of(agent: Agent) -> tuple[str, str]:
    """Return the agent's (state, reason)."""
    presence = AgentPresence.objects.get(agent=agent)
    return presence.state, presence.reason


def commands() -> list[tuple[str, str]]:
    """Return (kind, idempotency key) of every call command, oldest first."""
    return list(CallCommand.objects.order_by("pk").values_list("kind", "idempotency_key"))


@dataclass
class Enqueued:
    """The Celery tasks enqueued during a test, in order: (task name, args)."""

    tasks: list[tuple[str, list]]

    def record(self, name: str, args: tuple | list | None = None, **_options: object) -> None:
        self.tasks.append((name, list(args or ())))


@pytest.fixture(autouse=True)
def router_events():
    """Start every test with this database's router event queue empty (real Redis)."""
    from apps.routing import events

    client, key = events.client(), events.queue_key()  # a test may break events.client
    client.delete(key)
    yield
    client.delete(key)


def queued_router_events() -> list[tuple[str, int]]:
    """Return the (kind, id) of the router events queued now, without taking them."""
    from apps.routing import events

    raw = events.client().lrange(events.queue_key(), 0, -1)
    return [event.key for event in map(events.decode, raw) if event is not None]


@pytest.fixture(autouse=True)
def enqueued(monkeypatch) -> Enqueued:
    """Record the tasks routing and telephony enqueue instead of publishing them.

    The test broker's Redis database is shared with other test runs, so its lists cannot be
    trusted (nor should our messages land there).
    """
    from apps.routing import tasks
    from apps.telephony import tasks as telephony_tasks

    recorder = Enqueued([])
    for task in (
        tasks.route_waiting_call,
        tasks.route_available_agent,
        tasks.router_sweep,
        telephony_tasks.execute_call_command,
        telephony_tasks.execute_call_commands,
    ):
        monkeypatch.setattr(task, "apply_async", functools.partial(recorder.record, task.name))
    return recorder
