"""The shared cast and clients.

Who may see what:
- admin: everything.
- supervisor_a supervises team_a (agent_a1, agent_a2); supervisor_b supervises team_b (agent_b1).
  A supervisor sees and changes only their own teams' agents; the other team's are "not found".
- agent_a1 / agent_b1: agents; see only themselves; may reveal only their own SIP credentials.
- qa: QA analyst; reads agents, changes nothing here.
- crm: API client (service account, token auth); no foundation permissions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

# Django is imported inside fixtures so that the Django-free suites (ESL, simulator, FreeSWITCH
# configuration) can also run with `-p no:django`.
if TYPE_CHECKING:
    from apps.accounts.models import Agent, Team, User


@pytest.fixture(autouse=True)
def _clean_cache(request):
    """Each test that uses the database starts with an empty test cache (throttles, node status)."""
    if not _uses_db(request):
        return
    from django.core.cache import cache

    cache.clear()


def _uses_db(request: Any) -> bool:
    db_fixtures = {"db", "transactional_db", "cast", "role_groups"}
    return request.node.get_closest_marker("django_db") is not None or bool(
        db_fixtures & set(request.fixturenames)
    )


@pytest.fixture
def role_groups(db) -> None:
    """Make sure the role groups exist (transactional tests flush them)."""
    from django.contrib.auth.models import Group

    from apps.rbac import roles
    from apps.rbac.services import roles_setup

    if Group.objects.filter(name=roles.AGENT).exists():
        return
    roles_setup()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from apps.rbac.services import roles_setup

    with django_db_blocker.unblock():
        roles_setup()


@dataclass
class Cast:
    admin: User
    supervisor_a: User
    supervisor_b: User
    qa: User
    agent_a1: Agent
    agent_a2: Agent
    agent_b1: Agent
    team_a: Team
    team_b: Team
    crm: User
    crm_token: str


@pytest.fixture
def cast(role_groups) -> Cast:
    from apps.accounts.services import service_account_create, team_set_supervisors
    from apps.rbac import roles
    from tests.factories import AgentFactory, TeamFactory, UserFactory

    team_a = TeamFactory(name="Team A")
    team_b = TeamFactory(name="Team B")
    supervisor_a = UserFactory(username="supervisor_a", role=roles.SUPERVISOR)
    supervisor_b = UserFactory(username="supervisor_b", role=roles.SUPERVISOR)
    team_set_supervisors(team=team_a, supervisors=[supervisor_a])
    team_set_supervisors(team=team_b, supervisors=[supervisor_b])
    crm, token = service_account_create(name="crm")
    return Cast(
        admin=UserFactory(username="admin", role=roles.ADMINISTRATOR),
        supervisor_a=supervisor_a,
        supervisor_b=supervisor_b,
        qa=UserFactory(username="qa", role=roles.QA_ANALYST),
        agent_a1=AgentFactory(team=team_a, user__username="agent_a1"),
        agent_a2=AgentFactory(team=team_a, user__username="agent_a2"),
        agent_b1=AgentFactory(team=team_b, user__username="agent_b1"),
        team_a=team_a,
        team_b=team_b,
        crm=crm,
        crm_token=token,
    )


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def client_as(api_client):
    """Return an API client authenticated as the given user (token for service accounts)."""

    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def _client_as(user: User | None) -> APIClient:
        client = APIClient()
        if user is None:
            return client
        if user.is_service_account:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        else:
            client.force_authenticate(user=user)
        return client

    return _client_as
