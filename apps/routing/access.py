"""Object-level access for routing: missing and forbidden give the same NotFound."""

from __future__ import annotations

from django.utils.translation import gettext as _

from apps.accounts.access import access_agent_by_id
from apps.accounts.models import Agent, User
from apps.core.errors import NotFound
from apps.routing.models import Queue
from apps.routing.selectors import agent_may_change, queue_list_supervised, queue_list_visible


def access_queue_by_id(actor: User, queue_id: object) -> Queue:
    """Return the queue if the actor may see it."""
    queue = queue_list_visible(actor=actor).filter(pk=queue_id).first()
    if queue is None:
        raise NotFound(_("Queue not found."))
    return queue


def access_queue_for_supervision(actor: User, queue_id: object) -> Queue:
    """Return the queue if the actor supervises a team serving it (or administers the suite)."""
    queue = queue_list_supervised(actor=actor).filter(pk=queue_id).first()
    if queue is None:
        raise NotFound(_("Queue not found."))
    return queue


def access_own_agent(actor: User) -> Agent:
    """Return the actor's own agent profile."""
    agent = Agent.objects.select_related("user", "team").filter(user=actor).first()
    if agent is None:
        raise NotFound(_("You have no agent profile."))
    return agent


def access_agent_state(actor: User, agent_id: object) -> Agent:
    """Return the agent whose state the actor may see."""
    return access_agent_by_id(actor, agent_id)


def access_agent_state_for_change(actor: User, agent_id: object) -> Agent:
    """Return the agent whose state the actor may set: themselves, their supervisor, admins."""
    agent = access_agent_by_id(actor, agent_id)
    if not agent_may_change(actor=actor, agent=agent):
        raise NotFound(_("Agent not found."))
    return agent
