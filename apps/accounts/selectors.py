"""Reads of teams and agents, always scoped by the acting user."""

from __future__ import annotations

from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from apps.accounts.models import Agent, Team, User
from apps.rbac import roles
from apps.rbac.services import user_has_role, user_is_admin


def team_list_supervised(*, actor: User) -> QuerySet[Team]:
    """Return the teams the actor supervises (every team for administrators)."""
    if user_is_admin(actor):
        return Team.objects.all()
    if not user_has_role(actor, roles.SUPERVISOR):
        return Team.objects.none()
    return get_objects_for_user(
        actor, "accounts.supervise_team", klass=Team, accept_global_perms=False
    )


def agent_list_visible(*, actor: User) -> QuerySet[Agent]:
    """Return the agents the actor may see.

    Administrators and QA analysts: all; supervisors: their teams' agents; agents: themselves.
    """
    agents = Agent.objects.select_related("user", "team")
    if user_is_admin(actor) or user_has_role(actor, roles.QA_ANALYST):
        return agents.all()
    if user_has_role(actor, roles.SUPERVISOR):
        return agents.filter(team__in=team_list_supervised(actor=actor))
    if user_has_role(actor, roles.AGENT):
        return agents.filter(user=actor)
    return agents.none()


def agent_list_manageable(*, actor: User) -> QuerySet[Agent]:
    """Return the agents the actor may change: administrators all, supervisors their teams'."""
    agents = Agent.objects.select_related("user", "team")
    if user_is_admin(actor):
        return agents.all()
    if user_has_role(actor, roles.SUPERVISOR):
        return agents.filter(team__in=team_list_supervised(actor=actor))
    return agents.none()
