"""Wrap-up: the queue's disposition codes, notes, a ticket created or linked from the call, a
scheduled callback with its reminder, and the agent back to available."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.console import services
from apps.console.models import DispositionCode, ScheduledCallback, WrapUp
from apps.telephony.models import CallLeg
from tests.customers.factories import customer_with_phone

pytestmark = pytest.mark.django_db


@pytest.fixture
def ended_call(live_call):
    """agent_a1's call, just ended."""
    now = timezone.now()
    CallLeg.objects.filter(call=live_call.call).update(ended_at=now)
    return live_call


@pytest.fixture
def codes(support_queue):
    from apps.routing.models import Queue

    other = Queue.objects.create(slug="sales", name="Sales")
    return {
        "resolved": DispositionCode.objects.create(code="resolved", label="Resolved", position=1),
        "follow-up": DispositionCode.objects.create(
            queue=support_queue,
            code="follow-up",
            label="Follow-up",
            position=2,
            requires_notes=True,
        ),
        "sale": DispositionCode.objects.create(queue=other, code="sale", label="Sale"),
    }


def _url(call) -> str:
    return f"/api/v1/console/calls/{call.pk}/wrap-up/"


def test_the_wrap_up_offers_the_queues_codes_and_the_global_ones(
    cast, ended_call, codes, client_as
):
    body = client_as(cast.agent_a1.user).get(_url(ended_call.call)).json()
    assert [code["code"] for code in body["dispositions"]] == ["resolved", "follow-up"]
    assert body["wrap_up"] is None
    assert body["prefill"]["number"] == "13812345678"


@pytest.mark.parametrize(
    ("who", "agent_param", "expected"),
    [
        ("agent_a1", False, 201),
        ("agent_a2", False, 404),
        ("supervisor_a", True, 201),
        ("supervisor_b", True, 404),
        ("qa", True, 403),
        ("crm", True, 403),
    ],
)
def test_wrap_up_permission_matrix(cast, ended_call, codes, client_as, who, agent_param, expected):  # noqa: PLR0917
    user = getattr(cast, who)
    user = getattr(user, "user", user)
    body = {"disposition": codes["resolved"].pk, "notes": "Sorted"}
    if agent_param:
        body["agent"] = cast.agent_a1.pk
    response = client_as(user).post(_url(ended_call.call), body, format="json")
    assert response.status_code == expected
    assert WrapUp.objects.count() == (1 if expected == 201 else 0)


def test_wrap_up_with_a_new_ticket_and_a_callback(  # noqa: PLR0917
    cast, ended_call, codes, client_as, django_capture_on_commit_callbacks, listen, monkeypatch
):
    from apps.core.realtime import agent_group
    from apps.customers.models import Interaction
    from apps.tickets.models import Ticket

    customer = customer_with_phone("+8613812345678", name="Wang Fang")
    due = timezone.now() + timedelta(hours=2)
    listener = listen(agent_group(cast.agent_a1.pk))
    scheduled = []
    monkeypatch.setattr(
        "apps.console.tasks.callback_due.apply_async",
        lambda args, eta: scheduled.append((args, eta)),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(cast.agent_a1.user).post(
            _url(ended_call.call),
            {
                "disposition": codes["follow-up"].pk,
                "notes": "Charger to be replaced",
                "ticket": {"subject": "Replace charger", "description": "Under warranty"},
                "callback": {"due_at": due.isoformat(), "notes": "Confirm delivery"},
                "ready": False,
            },
            format="json",
        )
    assert response.status_code == 201
    wrap_up = WrapUp.objects.get()
    ticket = Ticket.objects.get()
    assert (wrap_up.disposition, wrap_up.notes, wrap_up.customer_id) == (
        codes["follow-up"],
        "Charger to be replaced",
        customer.pk,
    )
    assert (wrap_up.ticket_id, wrap_up.ticket_reference) == (ticket.pk, ticket.reference)
    assert ticket.subject == "Replace charger"
    assert ticket.customer == customer
    assert ticket.assignee == cast.agent_a1.user
    assert list(ticket.calls.values_list("call_uuid", flat=True)) == [ended_call.call.uuid]
    callback = ScheduledCallback.objects.get()
    assert wrap_up.callback == callback
    assert (callback.agent, callback.number, callback.due_at, callback.customer_id) == (
        cast.agent_a1,
        "+8613812345678",
        due,
        customer.pk,
    )
    note = Interaction.objects.get(customer=customer, channel="note")
    assert note.summary == "Follow-up: Charger to be replaced"
    assert note.refs["call_uuid"] == ended_call.call.uuid
    # once committed: the reminder is scheduled for the due time, every tab hears of the wrap-up
    assert scheduled == [([callback.pk], due)]
    pushed = listener.receive_type("wrap_up.saved")
    assert pushed["call_id"] == ended_call.call.pk
    assert pushed["wrap_up"]["ticket_reference"] == ticket.reference
    assert pushed["callback"]["id"] == callback.pk


def test_wrap_up_links_an_existing_ticket(cast, ended_call, codes, client_as):
    from apps.tickets.services import ticket_create

    customer = customer_with_phone("+8613812345678", name="Wang Fang")
    ticket = ticket_create(
        actor=cast.agent_a1.user, subject="Earlier issue", customer=customer, team=cast.team_a
    )
    response = client_as(cast.agent_a1.user).post(
        _url(ended_call.call),
        {"disposition": codes["resolved"].pk, "ticket": {"ticket_id": ticket.pk}},
        format="json",
    )
    assert response.status_code == 201
    assert WrapUp.objects.get().ticket_reference == ticket.reference
    assert list(ticket.calls.values_list("call_uuid", flat=True)) == [ended_call.call.uuid]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "disposition"),
        ({"disposition": "sale"}, "disposition"),
        ({"disposition": "follow-up"}, "notes"),
    ],
)
def test_invalid_wrap_ups_are_refused(cast, ended_call, codes, client_as, body, field):  # noqa: PLR0917
    if "disposition" in body:
        body = {"disposition": codes[body["disposition"]].pk}
    response = client_as(cast.agent_a1.user).post(_url(ended_call.call), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert WrapUp.objects.count() == 0


def test_a_call_is_wrapped_up_once(cast, ended_call, codes, client_as):
    client = client_as(cast.agent_a1.user)
    body = {"disposition": codes["resolved"].pk}
    assert client.post(_url(ended_call.call), body, format="json").status_code == 201
    second = client.post(_url(ended_call.call), body, format="json")
    assert second.status_code == 409
    assert WrapUp.objects.count() == 1


def test_submitting_makes_an_agent_in_wrap_up_available(cast, ended_call, codes, client_as):
    from apps.routing.models import AgentPresence, AgentState

    AgentPresence.objects.create(
        agent=cast.agent_a1,
        state=AgentState.WRAP_UP,
        state_since=timezone.now(),
        wrap_up_until=timezone.now() + timedelta(seconds=30),
    )
    response = client_as(cast.agent_a1.user).post(
        _url(ended_call.call), {"disposition": codes["resolved"].pk}, format="json"
    )
    assert response.status_code == 201
    assert AgentPresence.objects.get(agent=cast.agent_a1).state == AgentState.AVAILABLE


def test_the_callback_reminder_notifies_the_agent_once(
    cast, ended_call, listen, django_capture_on_commit_callbacks
):
    from apps.console.models import Notification
    from apps.core.realtime import user_group

    callback = ScheduledCallback.objects.create(
        agent=cast.agent_a1, number="+8613812345678", due_at=timezone.now() - timedelta(minutes=1)
    )
    listener = listen(user_group(cast.agent_a1.user_id))
    with django_capture_on_commit_callbacks(execute=True):
        first = services.callback_mark_due(callback_id=callback.pk)
    second = services.callback_mark_due(callback_id=callback.pk)
    assert (first, second) == (services.CALLBACK_REMINDED, services.CALLBACK_CLOSED)
    callback.refresh_from_db()
    assert callback.status == ScheduledCallback.Status.DUE
    notification = Notification.objects.get(user=cast.agent_a1.user)
    assert notification.message == "Callback due: +8613812345678"
    pushed = listener.receive()
    assert (pushed["type"], pushed["id"], pushed["kind"]) == (
        "notification",
        notification.pk,
        "callback_due",
    )


def test_a_callback_not_yet_due_waits(cast):
    callback = ScheduledCallback.objects.create(
        agent=cast.agent_a1, number="+8613812345678", due_at=timezone.now() + timedelta(hours=1)
    )
    assert services.callback_mark_due(callback_id=callback.pk) == services.CALLBACK_NOT_DUE
    callback.refresh_from_db()
    assert callback.status == ScheduledCallback.Status.SCHEDULED


@pytest.mark.parametrize(
    ("who", "expected"), [("agent_a1", 200), ("agent_a2", 404), ("supervisor_b", 404)]
)
def test_closing_a_callback(cast, client_as, who, expected):
    callback = ScheduledCallback.objects.create(
        agent=cast.agent_a1, number="+8613812345678", due_at=timezone.now()
    )
    user = getattr(cast, who)
    user = getattr(user, "user", user)
    body = {"status": "done"}
    if who.startswith("supervisor"):
        body["agent"] = cast.agent_a1.pk
    response = client_as(user).patch(
        f"/api/v1/console/callbacks/{callback.pk}/", body, format="json"
    )
    assert response.status_code == expected
    callback.refresh_from_db()
    assert callback.status == ("done" if expected == 200 else "scheduled")


def test_marking_notifications_read_only_touches_ones_own(
    cast, client_as, listen, django_capture_on_commit_callbacks
):
    from apps.console.models import Notification
    from apps.core.realtime import user_group

    mine = Notification.objects.create(user=cast.agent_a1.user, kind="info", message="Mine")
    theirs = Notification.objects.create(user=cast.agent_a2.user, kind="info", message="Theirs")
    listener = listen(user_group(cast.agent_a1.user_id))
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(cast.agent_a1.user).post(
            "/api/v1/console/notifications/read/", {"ids": [mine.pk, theirs.pk]}, format="json"
        )
    assert response.json() == {"read": 1}
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None
    assert theirs.read_at is None
    assert listener.receive() == {"type": "notification.read", "ids": [mine.pk]}
