"""Call controls: who may act on a call, and the telephony commands each control becomes."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.telephony.models import CallCommand, CallLeg
from tests.console.conftest import make_call

pytestmark = pytest.mark.django_db

REQUEST_ID = "0b7f8a34-1111-4c2e-9d1a-5f00000000aa"


def _url(call) -> str:
    return f"/api/v1/console/calls/{call.pk}/controls/"


def _post(client, call, **body):
    return client.post(_url(call), {"request_id": REQUEST_ID, **body}, format="json")


@pytest.mark.parametrize(
    ("who", "agent_param", "expected"),
    [
        (None, False, 401),
        ("agent_a1", False, 202),
        ("agent_a2", False, 404),
        ("agent_b1", False, 404),
        ("supervisor_b", True, 404),
        ("supervisor_a", False, 404),
        ("supervisor_a", True, 202),
        ("admin", True, 202),
        ("qa", True, 403),
        ("crm", True, 403),
    ],
)
def test_hold_permission_matrix(  # noqa: PLR0917
    cast, live_call, client_as, django_capture_on_commit_callbacks, who, agent_param, expected
):
    # given agent_a1 on a call; when someone asks to hold it
    user = None
    if who is not None:
        user = getattr(cast, who)
        user = getattr(user, "user", user)
    body = {"action": "hold"}
    if agent_param:
        body["agent"] = cast.agent_a1.pk
    with django_capture_on_commit_callbacks() as callbacks:
        response = _post(client_as(user), live_call.call, **body)
    # then only the agent on the call and their supervisors (or admins) get it sent
    assert response.status_code == expected
    if expected == 202:
        (command,) = CallCommand.objects.all()
        assert command.kind == "hold"
        assert command.params == {"uuid": live_call.agent_leg.uuid}
        assert command.requested_by == user
        assert command.requester == "console"
        assert len(callbacks) == 1  # the telephony task, after commit
    else:
        assert CallCommand.objects.count() == 0
        assert callbacks == []


def _commands():
    return list(CallCommand.objects.order_by("id").values_list("kind", "params"))


def test_hangup_ends_the_agents_leg_and_the_bridged_customer(cast, live_call, client_as):
    response = _post(client_as(cast.agent_a1.user), live_call.call, action="hangup")
    assert response.status_code == 202
    assert [command["kind"] for command in response.json()["commands"]] == ["hangup", "hangup"]
    assert _commands() == [
        ("hangup", {"uuid": live_call.agent_leg.uuid, "cause": "NORMAL_CLEARING"}),
        ("hangup", {"uuid": live_call.caller_leg.uuid, "cause": "NORMAL_CLEARING"}),
    ]


def test_hanging_up_a_ringing_call_declines_it(cast, node, support_queue, client_as):
    ringing = make_call(node, cast.agent_a1, answered=False, bridged=False)
    response = _post(client_as(cast.agent_a1.user), ringing.call, action="hangup")
    assert response.status_code == 202
    assert _commands() == [("hangup", {"uuid": ringing.agent_leg.uuid, "cause": "USER_BUSY"})]


def test_the_same_click_retried_sends_one_command(cast, live_call, client_as):
    client = client_as(cast.agent_a1.user)
    first = _post(client, live_call.call, action="hold")
    second = _post(client, live_call.call, action="hold")
    assert first.json()["commands"] == second.json()["commands"]
    assert CallCommand.objects.count() == 1


def test_unhold_of_a_call_not_on_hold_is_a_conflict(cast, live_call, client_as):
    response = _post(client_as(cast.agent_a1.user), live_call.call, action="unhold")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_held"
    assert CallCommand.objects.count() == 0


def test_unhold_of_a_held_call(cast, live_call, client_as):
    CallLeg.objects.filter(pk=live_call.agent_leg.pk).update(is_held=True)
    response = _post(client_as(cast.agent_a1.user), live_call.call, action="unhold")
    assert response.status_code == 202
    assert _commands() == [("unhold", {"uuid": live_call.agent_leg.uuid})]


@pytest.mark.parametrize(
    ("target", "destination", "label"),
    [
        ("agent", "bridge:user/{extension}@127.0.0.1", "{name}"),
        ("queue", "set:cc_queue=support,park", "Support"),
        ("external", "bridge:loopback/+8613900001111/default", "+8613900001111"),
    ],
)
def test_blind_transfer_moves_the_customer_leg(  # noqa: PLR0917
    cast, live_call, client_as, target, destination, label
):
    targets = {
        "agent": {"kind": "agent", "agent_id": cast.agent_a2.pk},
        "queue": {"kind": "queue", "queue": "support"},
        "external": {"kind": "external", "number": "+86 139-0000-1111"},
    }
    response = _post(
        client_as(cast.agent_a1.user), live_call.call, action="transfer", target=targets[target]
    )
    assert response.status_code == 202
    names = {"extension": cast.agent_a2.extension, "name": str(cast.agent_a2.user)}
    assert _commands() == [
        (
            "transfer",
            {
                "uuid": live_call.caller_leg.uuid,
                "destination": destination.format(**names),
                "dialplan": "inline",
                "target_kind": target,
                "target_label": label.format(**names),
            },
        )
    ]


def test_consultation_starts_an_attended_transfer(cast, live_call, client_as):
    response = _post(
        client_as(cast.agent_a1.user),
        live_call.call,
        action="consult",
        target={"kind": "agent", "agent_id": cast.agent_a2.pk},
    )
    assert response.status_code == 202
    assert _commands() == [
        (
            "attended_transfer",
            {
                "action": "start",
                "customer_uuid": live_call.caller_leg.uuid,
                "agent_uuid": live_call.agent_leg.uuid,
                "target_destination": f"user/{cast.agent_a2.extension}@127.0.0.1",
                "timeout": 30,
                "target_kind": "agent",
                "target_label": str(cast.agent_a2.user),
            },
        )
    ]


def test_consulting_a_queue_is_refused(cast, live_call, client_as):
    response = _post(
        client_as(cast.agent_a1.user),
        live_call.call,
        action="consult",
        target={"kind": "queue", "queue": "support"},
    )
    assert response.status_code == 400
    assert CallCommand.objects.count() == 0


@pytest.mark.parametrize("action", ["consult_complete", "consult_cancel"])
def test_finishing_a_consultation(cast, live_call, client_as, action):
    consult = CallLeg.objects.create(
        node=live_call.call.node,
        call=live_call.call,
        uuid="consult-leg-uuid",
        role=CallLeg.Role.CONSULT,
        direction="outbound",
        agent=cast.agent_a2,
        started_at=timezone.now(),
        answered_at=timezone.now(),
    )
    response = _post(client_as(cast.agent_a1.user), live_call.call, action=action)
    assert response.status_code == 202
    assert _commands() == [
        (
            "attended_transfer",
            {
                "action": "complete" if action == "consult_complete" else "cancel",
                "customer_uuid": live_call.caller_leg.uuid,
                "agent_uuid": live_call.agent_leg.uuid,
                "consult_uuid": consult.uuid,
            },
        )
    ]


def test_finishing_without_a_consultation_is_a_conflict(cast, live_call, client_as):
    response = _post(client_as(cast.agent_a1.user), live_call.call, action="consult_complete")
    assert response.status_code == 409
    assert CallCommand.objects.count() == 0


def test_dtmf_goes_to_the_customer_leg(cast, live_call, client_as):
    response = _post(client_as(cast.agent_a1.user), live_call.call, action="dtmf", digits="12#")
    assert response.status_code == 202
    assert _commands() == [("send_dtmf", {"uuid": live_call.caller_leg.uuid, "digits": "12#"})]


@pytest.mark.parametrize("digits", ["", "12x", "1" * 33])
def test_invalid_dtmf_is_refused(cast, live_call, client_as, digits):
    response = _post(client_as(cast.agent_a1.user), live_call.call, action="dtmf", digits=digits)
    assert response.status_code == 400
    assert CallCommand.objects.count() == 0


def test_control_of_a_call_the_agent_left_is_a_conflict(cast, live_call, client_as):
    CallLeg.objects.filter(pk=live_call.agent_leg.pk).update(ended_at=timezone.now())
    response = _post(client_as(cast.agent_a1.user), live_call.call, action="hold")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "call_ended"
    assert CallCommand.objects.count() == 0


def test_transfer_after_the_customer_hung_up_says_so(cast, live_call, client_as):
    CallLeg.objects.filter(pk=live_call.caller_leg.pk).update(ended_at=timezone.now())
    response = _post(
        client_as(cast.agent_a1.user),
        live_call.call,
        action="transfer",
        target={"kind": "queue", "queue": "support"},
    )
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "The other party has hung up."


def test_request_id_is_required_to_be_well_formed(cast, live_call, client_as):
    response = client_as(cast.agent_a1.user).post(
        _url(live_call.call), {"action": "hold", "request_id": "x"}, format="json"
    )
    assert response.status_code == 400
    assert CallCommand.objects.count() == 0
