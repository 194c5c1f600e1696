"""Permission matrix of the routing API.

Who may do what (the shared cast): agents see and set their own state and see their team's
queues; supervisors see and set their teams' agents' states and see, inspect and staff the queues
their teams serve; QA analysts read the queues assigned to them; administrators everything; the CRM
nothing. Missing and forbidden objects answer the same 404.
"""

from __future__ import annotations

import pytest

from apps.routing import services
from apps.routing.models import AgentPresence, Queue
from tests.routing.conftest import state_of

pytestmark = pytest.mark.django_db


def _users(cast):
    return {
        "anonymous": None,
        "agent": cast.agent_a1.user,
        "other_agent": cast.agent_b1.user,
        "supervisor_other": cast.supervisor_b,
        "supervisor_own": cast.supervisor_a,
        "qa": cast.qa,
        "crm": cast.crm,
        "admin": cast.admin,
    }


@pytest.fixture
def queues(cast, node):
    queue_a = Queue.objects.create(slug="queue-a", name="Queue A")
    queue_a.teams.set([cast.team_a])
    queue_b = Queue.objects.create(slug="queue-b", name="Queue B")
    queue_b.teams.set([cast.team_b])
    shared = Queue.objects.create(slug="anyone", name="Anyone")
    services.queue_set_reviewers(queue=queue_a, reviewers=[cast.qa])
    for agent in (cast.agent_a1, cast.agent_a2, cast.agent_b1):
        services.agent_presence_ensure(agent=agent)
    return {"a": queue_a, "b": queue_b, "shared": shared}


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("agent", 200),
        ("supervisor_own", 404),
        ("qa", 404),
        ("crm", 403),
        ("admin", 404),
    ],
)
def test_my_state_is_for_users_with_an_agent_profile(cast, client_as, queues, who, status):
    response = client_as(_users(cast)[who]).get("/api/v1/routing/agents/me/state/")

    assert response.status_code == status
    if status == 200:
        assert response.json()["state"] == "offline"
        assert response.json()["extension"] == cast.agent_a1.extension


def test_an_agent_sets_their_own_state(cast, client_as, queues):
    client = client_as(cast.agent_a1.user)

    response = client.put(
        "/api/v1/routing/agents/me/state/", {"state": "not_ready", "reason": "training"}
    )

    assert response.status_code == 200
    assert (response.json()["state"], response.json()["reason"]) == ("not_ready", "training")
    assert state_of(cast.agent_a1) == ("not_ready", "training")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"state": "on_call"}, "state"),
        ({"state": "not_ready"}, "reason"),
        ({"state": "not_ready", "reason": "missed_call"}, "reason"),
        ({"state": "available", "reason": "lunch"}, "reason"),
    ],
)
def test_invalid_state_requests_are_refused_and_change_nothing(
    cast, client_as, queues, body, field
):
    response = client_as(cast.agent_a1.user).put("/api/v1/routing/agents/me/state/", body)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert state_of(cast.agent_a1) == ("offline", "")


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("agent", 200),
        ("other_agent", 404),
        ("supervisor_other", 404),
        ("supervisor_own", 200),
        ("qa", 200),
        ("crm", 403),
        ("admin", 200),
    ],
)
def test_reading_an_agents_state(cast, client_as, queues, who, status):
    response = client_as(_users(cast)[who]).get(f"/api/v1/routing/agents/{cast.agent_a1.pk}/state/")

    assert response.status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("agent", 200),
        ("other_agent", 404),
        ("supervisor_other", 404),
        ("supervisor_own", 200),
        ("qa", 403),
        ("crm", 403),
        ("admin", 200),
    ],
)
def test_setting_an_agents_state_is_for_them_their_supervisor_and_admins(
    cast, client_as, queues, who, status
):
    response = client_as(_users(cast)[who]).put(
        f"/api/v1/routing/agents/{cast.agent_a1.pk}/state/", {"state": "available"}
    )

    assert response.status_code == status
    expected = ("available", "") if status == 200 else ("offline", "")
    assert state_of(cast.agent_a1) == expected


def test_a_change_of_state_during_a_call_answers_conflict(cast, client_as, queues):
    AgentPresence.objects.filter(agent=cast.agent_a1).update(state="on_call")

    response = client_as(cast.supervisor_a).put(
        f"/api/v1/routing/agents/{cast.agent_a1.pk}/state/", {"state": "offline"}
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert state_of(cast.agent_a1) == ("on_call", "")


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
def test_the_state_board_shows_what_the_role_may_see(cast, client_as, queues, who, expected):
    response = client_as(_users(cast)[who]).get("/api/v1/routing/agents/states/")

    assert response.status_code == 200
    names = sorted(row["name"] for row in response.json()["results"])
    assert names == sorted(
        str(agent.user)
        for agent in (cast.agent_a1, cast.agent_a2, cast.agent_b1)
        if agent.user.username in expected
    )


@pytest.mark.parametrize(("who", "status"), [("anonymous", 401), ("crm", 403)])
def test_the_state_board_is_closed_to_others(cast, client_as, queues, who, status):
    assert client_as(_users(cast)[who]).get("/api/v1/routing/agents/states/").status_code == status


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("agent", ["anyone", "queue-a"]),
        ("other_agent", ["anyone", "queue-b"]),
        ("supervisor_own", ["queue-a"]),
        ("supervisor_other", ["queue-b"]),
        ("qa", ["queue-a"]),
        ("admin", ["anyone", "queue-a", "queue-b"]),
    ],
)
def test_queue_list_is_scoped_by_role(cast, client_as, queues, who, expected):
    response = client_as(_users(cast)[who]).get("/api/v1/routing/queues/")

    assert response.status_code == 200
    assert sorted(queue["slug"] for queue in response.json()) == expected
    assert {"waiting", "service_level_today"} <= set(response.json()[0]["stats"])


@pytest.mark.parametrize(("who", "status"), [("anonymous", 401), ("crm", 403)])
def test_queue_list_is_closed_to_others(cast, client_as, queues, who, status):
    assert client_as(_users(cast)[who]).get("/api/v1/routing/queues/").status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("agent", 200),
        ("other_agent", 404),
        ("supervisor_other", 404),
        ("supervisor_own", 200),
        ("qa", 200),
        ("crm", 403),
        ("admin", 200),
    ],
)
def test_queue_detail_and_stats(cast, client_as, queues, who, status):
    client = client_as(_users(cast)[who])

    detail = client.get(f"/api/v1/routing/queues/{queues['a'].pk}/")
    stats = client.get(f"/api/v1/routing/queues/{queues['a'].pk}/stats/")

    assert (detail.status_code, stats.status_code) == (status, status)
    if status == 200:
        assert detail.json()["stats"]["waiting"] == 0
        assert stats.json()["service_level_target"] == {"percent": 80, "seconds": 20}


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("agent", 403),
        ("supervisor_other", 404),
        ("supervisor_own", 200),
        ("qa", 200),
        ("crm", 403),
        ("admin", 200),
    ],
)
def test_the_waiting_line_is_for_supervisors_reviewers_and_admins(
    cast, client_as, queues, who, status
):
    services.waiting_call_enqueue(call_uuid="caller-x", queue_slug="queue-a")

    response = client_as(_users(cast)[who]).get(
        f"/api/v1/routing/queues/{queues['a'].pk}/waiting-calls/"
    )

    assert response.status_code == status
    if status == 200:
        assert [row["call_uuid"] for row in response.json()] == ["caller-x"]


def test_a_reviewer_does_not_see_other_queues_lines(cast, client_as, queues):
    response = client_as(cast.qa).get(f"/api/v1/routing/queues/{queues['b'].pk}/waiting-calls/")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("agent", 403),
        ("supervisor_other", 404),
        ("supervisor_own", 200),
        ("qa", 403),
        ("crm", 403),
        ("admin", 200),
    ],
)
def test_queue_staffing_is_for_its_supervisors_and_admins(cast, client_as, queues, who, status):
    response = client_as(_users(cast)[who]).get(
        f"/api/v1/routing/queues/{queues['a'].pk}/staffing/",
        {"calls_per_hour": 200, "aht_seconds": 180},
    )

    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["staffing"]["agents"] == 14
        assert (body["target_percent"], body["target_seconds"]) == (80, 20)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("agent", 403),
        ("supervisor_own", 200),
        ("qa", 403),
        ("crm", 403),
        ("admin", 200),
    ],
)
def test_the_erlang_c_calculator_is_for_supervisors_and_admins(cast, client_as, who, status):
    response = client_as(_users(cast)[who]).get(
        "/api/v1/routing/erlang-c/",
        {"calls_per_hour": 200, "aht_seconds": 180, "target_percent": 80, "target_seconds": 20},
    )

    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["agents"] == 14
        assert round(body["service_level"], 4) == 0.8884
        assert body["traffic_erlangs"] == 10.0


def test_the_erlang_c_calculator_refuses_impossible_targets(cast, client_as):
    response = client_as(cast.supervisor_a).get(
        "/api/v1/routing/erlang-c/",
        {"calls_per_hour": 200, "aht_seconds": 180, "target_percent": 100, "target_seconds": 20},
    )

    assert response.status_code == 400
    assert "target_percent" in response.json()["error"]["fields"]
