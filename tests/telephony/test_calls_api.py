"""Permission matrix of the calls API: who may list and read calls and their CDRs.

Who may see what: administrators and CRM service accounts every call; a supervisor the calls
their teams' agents took part in; an agent the calls they took part in; QA analysts none (no
telephony.view_call). Another team's call answers "not found", never "forbidden".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.telephony.models import Call, CallLeg, Cdr, FreeswitchNode

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def _users(cast):
    return {
        "anonymous": None,
        "agent": cast.agent_a1.user,
        "agent_other": cast.agent_b1.user,
        "supervisor_other": cast.supervisor_b,
        "supervisor_own": cast.supervisor_a,
        "qa": cast.qa,
        "crm": cast.crm,
        "admin": cast.admin,
    }


def _call(node, uuid: str, *, agent=None, minutes: int = 0) -> Call:
    started = T0 + timedelta(minutes=minutes)
    call = Call.objects.create(
        node=node,
        uuid=uuid,
        direction="inbound",
        caller_number="+8613800138000",
        callee_number="4001",
        did="4001",
        state="ended",
        queue_slug="sales",
        started_at=started,
        answered_at=started + timedelta(seconds=5),
        ended_at=started + timedelta(seconds=65),
        hangup_cause="NORMAL_CLEARING",
    )
    caller = CallLeg.objects.create(
        node=node,
        call=call,
        uuid=uuid,
        role="caller",
        direction="inbound",
        started_at=started,
        ended_at=call.ended_at,
        state="ended",
    )
    Cdr.objects.create(
        node=node,
        call=call,
        leg=caller,
        uuid=uuid,
        direction="inbound",
        caller="+8613800138000",
        callee="4001",
        started_at=started,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        duration=65,
        billsec=60,
        hangup_cause="NORMAL_CLEARING",
    )
    if agent is not None:
        CallLeg.objects.create(
            node=node,
            call=call,
            uuid=f"{uuid}-agent",
            role="agent",
            direction="outbound",
            agent=agent,
            endpoint=f"user/{agent.extension}",
            started_at=started,
            ended_at=call.ended_at,
            state="ended",
        )
    return call


@pytest.fixture
def calls(cast):
    node = FreeswitchNode.objects.create(name="fs1", host="127.0.0.1", password="x")
    return {
        "team_a": _call(node, "call-a1", agent=cast.agent_a1, minutes=1),
        "team_a2": _call(node, "call-a2", agent=cast.agent_a2, minutes=2),
        "team_b": _call(node, "call-b1", agent=cast.agent_b1, minutes=3),
        "queued": _call(node, "call-none", minutes=4),
    }


@pytest.mark.parametrize(
    ("who", "status", "expected"),
    [
        ("anonymous", 401, None),
        ("qa", 403, None),
        ("agent", 200, ["call-a1"]),
        ("agent_other", 200, ["call-b1"]),
        ("supervisor_own", 200, ["call-a2", "call-a1"]),
        ("supervisor_other", 200, ["call-b1"]),
        ("crm", 200, ["call-none", "call-b1", "call-a2", "call-a1"]),
        ("admin", 200, ["call-none", "call-b1", "call-a2", "call-a1"]),
    ],
)
@pytest.mark.usefixtures("calls")
def test_the_call_list_is_scoped_to_what_the_role_may_see(cast, client_as, who, status, expected):
    response = client_as(_users(cast)[who]).get("/api/v1/telephony/calls/")

    assert response.status_code == status
    if expected is not None:
        assert [call["uuid"] for call in response.json()["results"]] == expected


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("qa", 403),
        ("agent", 200),
        ("agent_other", 404),
        ("supervisor_own", 200),
        ("supervisor_other", 404),
        ("crm", 200),
        ("admin", 200),
    ],
)
def test_a_call_with_its_cdr_is_readable_only_by_who_may_see_it(
    cast, calls, client_as, who, status
):
    call = calls["team_a"]

    response = client_as(_users(cast)[who]).get(f"/api/v1/telephony/calls/{call.pk}/")

    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["uuid"] == "call-a1"
        assert body["queue"] == "sales"
        assert [(leg["uuid"], leg["role"]) for leg in body["legs"]] == [
            ("call-a1", "caller"),
            ("call-a1-agent", "agent"),
        ]
        assert body["cdr"]["billsec"] == 60
        assert body["cdr"]["hangup_cause"] == "NORMAL_CLEARING"
        assert "dtmf" not in body["legs"][0]


def test_a_missing_call_and_a_forbidden_call_answer_alike(cast, calls, client_as):
    client = client_as(cast.agent_a1.user)

    missing = client.get("/api/v1/telephony/calls/999999/")
    forbidden = client.get(f"/api/v1/telephony/calls/{calls['team_b'].pk}/")

    assert missing.status_code == forbidden.status_code == 404
    assert missing.json() == forbidden.json()


def test_the_call_list_filters_by_state_and_queue(cast, calls, client_as):
    Call.objects.filter(uuid="call-b1").update(state="parked", queue_slug="support")

    response = client_as(cast.admin).get("/api/v1/telephony/calls/?state=parked&queue_slug=support")

    assert [call["uuid"] for call in response.json()["results"]] == ["call-b1"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_calls_cannot_be_written_through_the_api(cast, calls, client_as, method):
    call = calls["team_a"]

    response = getattr(client_as(cast.admin), method)(f"/api/v1/telephony/calls/{call.pk}/", {})

    assert response.status_code in (403, 405)
    call.refresh_from_db()
    assert call.state == "ended"
