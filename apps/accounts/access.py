"""Object-level access to teams and agents: missing and forbidden give the same NotFound."""

from __future__ import annotations

from django.utils.translation import gettext as _

from apps.accounts.models import Agent, Team, User
from apps.accounts.selectors import agent_list_manageable, agent_list_visible, team_list_supervised
from apps.core.errors import NotFound
from apps.rbac.services import user_is_admin


def access_team_by_id(actor: User, team_id: object) -> Team:
    """Return the team if the actor supervises it (or administers the suite)."""
    team = team_list_supervised(actor=actor).filter(pk=team_id).first()
    if team is None:
        raise NotFound(_("Team not found."))
    return team


def access_agent_by_id(actor: User, agent_id: object) -> Agent:
    """Return the agent if the actor may see it."""
    agent = agent_list_visible(actor=actor).filter(pk=agent_id).first()
    if agent is None:
        raise NotFound(_("Agent not found."))
    return agent


def access_agent_for_change(actor: User, agent_id: object) -> Agent:
    """Return the agent if the actor may change it (its team's supervisor or an administrator)."""
    agent = agent_list_manageable(actor=actor).filter(pk=agent_id).first()
    if agent is None:
        raise NotFound(_("Agent not found."))
    return agent


def access_agent_credentials(actor: User, agent_id: object) -> Agent:
    """Return the agent whose SIP credentials the actor may reveal: their own, or any for admins."""
    agent = access_agent_by_id(actor, agent_id)
    if agent.user_id != actor.pk and not user_is_admin(actor):
        raise NotFound(_("Agent not found."))
    return agent
