"""Telephony domain events drive routing (published the way telephony publishes them)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.routing import router, telephony_gateway
from apps.routing.models import WaitingCall
from apps.telephony import domain_events
from apps.telephony.domain_events import CallEvent
from apps.telephony.models import Call
from tests.routing.conftest import at, state_of

pytestmark = pytest.mark.django_db


def _event(kind: str, **fields) -> CallEvent:
    return CallEvent(kind=kind, node="fs1", occurred_at=fields.pop("occurred_at", at(0)), **fields)


def _parked(call: Call, *, occurred_at=None, **cc: str) -> CallEvent:
    return _event(
        "call.parked",
        occurred_at=occurred_at or at(0),
        call_id=call.pk,
        call_uuid=call.uuid,
        leg_uuid=call.uuid,
        leg_role="caller",
        data={
            "queue": cc.get("cc_queue", "sales"),
            "cc": cc,
            "customer_id": 77,
            "did": "4000",
            "caller_number": "5550111",
        },
    )


@pytest.fixture
def call(node) -> Call:
    return Call.objects.create(
        node=node,
        uuid="caller-ev-1",
        direction="inbound",
        started_at=at(0),
        caller_number="5550111",
    )


def test_a_caller_parked_with_cc_queue_joins_that_line(make_queue, call, skills):
    make_queue(requires={skills["sales"]: 2})
    parked_at = timezone.now() - timedelta(seconds=5)

    domain_events.publish(
        _parked(
            call,
            occurred_at=parked_at,
            cc_queue="sales",
            cc_priority="7",
            cc_tier="",
            cc_language="en",
            cc_skills="billing:3",
        )
    )

    waiting_call = WaitingCall.objects.get()
    assert (waiting_call.call_uuid, waiting_call.telephony_call_id, waiting_call.node) == (
        "caller-ev-1",
        call.pk,
        "fs1",
    )
    assert (waiting_call.caller_number, waiting_call.customer_ref, waiting_call.priority) == (
        "5550111",
        "77",
        7,
    )
    assert waiting_call.enqueued_at == parked_at
    assert waiting_call.requirements == {
        str(skills["sales"].pk): 2,
        str(skills["billing"].pk): 3,
        str(skills["english"].pk): 1,
    }


def test_legs_routing_originated_that_park_do_not_join_a_line(make_queue, call):
    make_queue()

    domain_events.publish(
        _event(
            "call.parked",
            call_id=call.pk,
            call_uuid=call.uuid,
            leg_uuid="agent-leg-1",
            leg_role="agent",
            data={"queue": "sales", "cc": {}, "customer_id": None},
        )
    )

    assert WaitingCall.objects.count() == 0


def test_answer_then_hangup_events_run_the_whole_conversation(make_agent, make_queue, call):
    make_queue(wrap_up_seconds=0)
    agent = make_agent(available_at=0)
    domain_events.publish(_parked(call))
    waiting_call = WaitingCall.objects.get()
    reservation = router.route_call(waiting_call.pk, now=at(1))

    domain_events.publish(
        _event(
            "call.answered",
            call_uuid=call.uuid,
            leg_uuid=str(reservation.agent_leg_uuid),
            leg_role="agent",
            agent_id=agent.pk,
        )
    )
    waiting_call.refresh_from_db()
    assert waiting_call.state == "connected"

    domain_events.publish(
        _event(
            "call.hungup",
            call_uuid=call.uuid,
            leg_uuid=call.uuid,
            leg_role="caller",
            data={"call_ended": False},
        )
    )
    waiting_call.refresh_from_db()
    assert waiting_call.state == "completed"
    assert state_of(agent) == ("available", "")


def test_a_failed_originate_of_an_offer_is_a_rona(make_agent, make_queue, call):
    make_queue()
    agent = make_agent(available_at=0)
    domain_events.publish(_parked(call))
    reservation = router.route_call(WaitingCall.objects.get().pk, now=at(1))

    domain_events.publish(
        _event(
            "command.failed",
            call_id=call.pk,
            call_uuid=call.uuid,
            data={
                "command_id": 1,
                "kind": "originate",
                "idempotency_key": telephony_gateway.offer_key(reservation.token, "agent"),
                "error_code": "NO_ANSWER",
                "error_message": "NO_ANSWER",
            },
        )
    )

    assert state_of(agent) == ("not_ready", "missed_call")
    assert WaitingCall.objects.get().state == "waiting"


def test_failures_of_other_commands_are_ignored(make_agent, make_queue, call):
    make_queue()
    agent = make_agent(available_at=0)
    domain_events.publish(_parked(call))
    router.route_call(WaitingCall.objects.get().pk, now=at(1))

    domain_events.publish(
        _event(
            "command.failed",
            data={"kind": "originate", "idempotency_key": "console:dial:9"},
        )
    )

    assert state_of(agent) == ("reserved", "")


def test_pressing_1_after_the_callback_offer_is_heard_by_routing(make_queue, call):
    from apps.routing.models import OverflowRule
    from apps.routing.services import overflow_apply_due

    queue = make_queue()
    OverflowRule.objects.create(queue=queue, position=1, after_seconds=30, action="callback")
    domain_events.publish(_parked(call))
    overflow_apply_due(now=at(30))

    domain_events.publish(
        _event(
            "call.dtmf",
            call_uuid=call.uuid,
            leg_uuid=call.uuid,
            data={"digit": "1", "source": "rtp"},
        )
    )

    assert WaitingCall.objects.get().state == "callback"


def test_an_unregistered_endpoint_logs_its_agent_out(make_agent):
    by_id = make_agent(available_at=0)
    by_extension = make_agent(available_at=0)

    domain_events.publish(
        _event("endpoint.unregistered", agent_id=by_id.pk, data={"username": by_id.extension})
    )
    domain_events.publish(
        _event("endpoint.unregistered", data={"username": by_extension.extension, "realm": "x"})
    )

    assert state_of(by_id) == ("offline", "")
    assert state_of(by_extension) == ("offline", "")


def test_offer_keys_round_trip():
    import uuid

    token = uuid.uuid4()

    assert telephony_gateway.parse_offer_key(telephony_gateway.offer_key(token, "customer")) == (
        token,
        "customer",
    )
    assert telephony_gateway.parse_offer_key("routing:call:4:exit") is None
    assert telephony_gateway.parse_offer_key("routing:offer:not-a-uuid:agent") is None
