"""Permission matrix of the accounts API: who may list, read and change teams and agents."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _users(cast):
    return {
        "anonymous": None,
        "agent": cast.agent_a1.user,
        "supervisor_other": cast.supervisor_b,
        "supervisor_own": cast.supervisor_a,
        "qa": cast.qa,
        "crm": cast.crm,
        "admin": cast.admin,
    }


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("agent", 403),
        ("qa", 403),
        ("crm", 403),
        ("supervisor_other", 404),
        ("supervisor_own", 200),
        ("admin", 200),
    ],
)
def test_team_detail_is_for_its_supervisors_and_admins(cast, client_as, who, status):
    response = client_as(_users(cast)[who]).get(f"/api/v1/teams/{cast.team_a.pk}/")

    assert response.status_code == status
    if status == 200:
        assert response.json()["name"] == "Team A"
        assert response.json()["supervisors"] == ["supervisor_a"]


def test_team_list_shows_a_supervisor_only_their_teams(cast, client_as):
    response = client_as(cast.supervisor_a).get("/api/v1/teams/")

    assert response.status_code == 200
    assert [team["name"] for team in response.json()["results"]] == ["Team A"]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("agent", ["agent_a1"]),
        ("supervisor_own", ["agent_a1", "agent_a2"]),
        ("supervisor_other", ["agent_b1"]),
        ("qa", ["agent_a1", "agent_a2", "agent_b1"]),
        ("admin", ["agent_a1", "agent_a2", "agent_b1"]),
    ],
)
def test_agent_list_is_scoped_to_what_the_role_may_see(cast, client_as, who, expected):
    response = client_as(_users(cast)[who]).get("/api/v1/agents/")

    assert response.status_code == 200
    assert sorted(agent["username"] for agent in response.json()["results"]) == expected


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("agent", 403),
        ("qa", 403),
        ("crm", 403),
        ("supervisor_other", 404),
        ("supervisor_own", 200),
        ("admin", 200),
    ],
)
def test_only_the_team_supervisor_or_admin_changes_an_agent(cast, client_as, who, status):
    agent = cast.agent_a2

    response = client_as(_users(cast)[who]).patch(
        f"/api/v1/agents/{agent.pk}/", {"endpoint": "sip"}, format="json"
    )

    assert response.status_code == status
    agent.refresh_from_db()
    assert agent.endpoint == ("sip" if status == 200 else "webrtc")


def test_an_agent_sees_their_own_record_but_not_a_colleagues(cast, client_as):
    client = client_as(cast.agent_a1.user)

    assert client.get(f"/api/v1/agents/{cast.agent_a1.pk}/").status_code == 200
    assert client.get(f"/api/v1/agents/{cast.agent_a2.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("agent", 403),
        ("qa", 403),
        ("crm", 403),
        ("supervisor_own", 200),
        ("admin", 200),
    ],
)
def test_agent_export_needs_the_export_permission(cast, client_as, who, status):
    response = client_as(_users(cast)[who]).get("/api/v1/agents/export/")

    assert response.status_code == status


def test_supervisor_export_contains_only_their_teams_agents_and_no_secrets(cast, client_as):
    response = client_as(cast.supervisor_a).get("/api/v1/agents/export/")

    lines = response.content.decode().strip().splitlines()
    assert lines[0] == "extension,username,name,team,endpoint,active"
    assert sorted(line.split(",")[1] for line in lines[1:]) == ["agent_a1", "agent_a2"]
    assert cast.agent_a1.sip_password not in response.content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("supervisor_own", 404),
        ("qa", 404),
        ("agent_self", 200),
        ("agent_other", 404),
        ("admin", 200),
    ],
)
def test_sip_credentials_are_revealed_only_to_the_agent_or_admin(cast, client_as, who, status):
    users = {**_users(cast), "agent_self": cast.agent_a1.user, "agent_other": cast.agent_b1.user}

    response = client_as(users[who]).post(f"/api/v1/agents/{cast.agent_a1.pk}/sip-credentials/")

    assert response.status_code == status
    if status == 200:
        assert response.json()["extension"] == cast.agent_a1.extension
        assert response.json()["password"] == cast.agent_a1.sip_password


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("agent", 403),
        ("supervisor_own", 403),
        ("qa", 403),
        ("crm", 403),
        ("admin", 200),
    ],
)
def test_access_log_is_for_administrators(cast, client_as, who, status):
    response = client_as(_users(cast)[who]).get("/api/v1/audit/access-logs/")

    assert response.status_code == status


def test_a_disabled_user_is_refused(cast, client_as):
    user = cast.supervisor_a
    user.is_active = False
    user.save()

    response = client_as(user).get("/api/v1/teams/")

    assert response.status_code == 403


def test_a_service_account_authenticates_with_its_token(cast, api_client):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {cast.crm_token}")

    response = api_client.get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json()["roles"] == ["API client"]


def test_a_wrong_token_is_refused(cast, api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = api_client.get("/api/v1/me/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
