"""Writes for users, teams and agents.

Audit rows come from django-auditlog in the same transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpRequest
from guardian.shortcuts import assign_perm, get_users_with_perms, remove_perm
from rest_framework.authtoken.models import Token

from apps.accounts.models import Agent, Team, User
from apps.audit.models import AccessLog
from apps.audit.services import access_log_record
from apps.rbac import roles

SUPERVISE_TEAM = "accounts.supervise_team"


@transaction.atomic
def team_sync_supervision(*, team: Team) -> None:
    """Make the guardian object permissions match the team's supervisors list."""
    wanted = set(team.supervisors.all())
    current = set(get_users_with_perms(team, only_with_perms_in=["supervise_team"]))
    for user in wanted - current:
        assign_perm(SUPERVISE_TEAM, user, team)
    for user in current - wanted:
        remove_perm(SUPERVISE_TEAM, user, team)


@transaction.atomic
def team_set_supervisors(*, team: Team, supervisors: Iterable[User]) -> Team:
    """Replace the team's supervisors and their object permissions."""
    team.supervisors.set(list(supervisors))
    team_sync_supervision(team=team)
    return team


@transaction.atomic
def user_update_preferences(
    *,
    user: User,
    language: str | None = None,
    timezone: str | None = None,
    display_name: str | None = None,
) -> User:
    """Change the user's own display preferences."""
    changed: list[str] = []
    for field, value in (
        ("language", language),
        ("timezone", timezone),
        ("display_name", display_name),
    ):
        if value is not None and getattr(user, field) != value:
            setattr(user, field, value)
            changed.append(field)
    if changed:
        user.save(update_fields=changed)
    return user


@transaction.atomic
def agent_update(
    *, agent: Agent, endpoint: str | None = None, is_active: bool | None = None
) -> Agent:
    """Change how the agent takes calls, or (de)activate the agent."""
    changed: list[str] = []
    if endpoint is not None and endpoint != agent.endpoint:
        agent.endpoint = endpoint
        changed.append("endpoint")
    if is_active is not None and is_active != agent.is_active:
        agent.is_active = is_active
        changed.append("is_active")
    if changed:
        agent.save(update_fields=[*changed, "updated_at"])
    return agent


@transaction.atomic
def agent_reveal_sip_credentials(
    *, actor: User, agent: Agent, request: HttpRequest | None = None
) -> dict[str, str]:
    """Return the agent's SIP credentials and record the reveal in the access log."""
    access_log_record(
        actor=actor,
        action=AccessLog.Action.REVEAL_FIELD,
        target=agent,
        field="sip_password",
        request=request,
    )
    return {"extension": agent.extension, "password": agent.sip_password}


@transaction.atomic
def agents_export_csv(
    *, actor: User, agents: Iterable[Agent], request: HttpRequest | None = None
) -> str:
    """Return the agents as CSV (no secrets) and record the bulk export."""
    rows = list(agents)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["extension", "username", "name", "team", "endpoint", "active"])
    for agent in rows:
        writer.writerow(
            [
                agent.extension,
                agent.user.username,
                str(agent.user),
                agent.team.name if agent.team else "",
                agent.endpoint,
                agent.is_active,
            ]
        )
    access_log_record(
        actor=actor,
        action=AccessLog.Action.BULK_EXPORT,
        target_type="accounts.Agent",
        request=request,
        detail={"rows": len(rows)},
    )
    return buffer.getvalue()


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    role: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    language: str = "en",
    is_service_account: bool = False,
) -> User:
    """Create a user in one role. Administrators also get admin-site access."""
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        language=language,
        is_service_account=is_service_account,
        is_staff=role == roles.ADMINISTRATOR,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get(name=role))
    return user


@transaction.atomic
def service_account_create(*, name: str) -> tuple[User, str]:
    """Create an API client account for a CRM and return it with its token."""
    user = user_create(username=name, password=None, role=roles.API_CLIENT, is_service_account=True)
    token = Token.objects.create(user=user)
    return user, token.key
