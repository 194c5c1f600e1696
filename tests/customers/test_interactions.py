"""The timeline: calls are recorded once per call, unknown callers start a history, anonymous
callers stay anonymous; the telephony events drive it; the screen-pop reads the latest contacts."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.customers import telephony_events
from apps.customers.models import Customer, Interaction
from apps.customers.selectors import interaction_timeline
from apps.customers.services import interaction_record_call
from apps.customers.tasks import record_call_interaction, record_call_interactions
from apps.telephony.domain_events import CallEvent
from apps.telephony.models import Call, CallLeg, FreeswitchNode
from tests.customers.factories import CustomerFactory, InteractionFactory, customer_with_phone

pytestmark = pytest.mark.django_db

STARTED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_a_call_is_recorded_once_on_the_callers_timeline(cast):
    customer = customer_with_phone("+8613812345678")

    first = interaction_record_call(
        call_uuid="3f1c-a",
        caller_number="13812345678",
        started_at=STARTED,
        answered_at=STARTED + dt.timedelta(seconds=20),
        ended_at=STARTED + dt.timedelta(seconds=200),
        agent=cast.agent_a1.user,
        queue="sales",
        hangup_cause="NORMAL_CLEARING",
    )
    again = interaction_record_call(
        call_uuid="3f1c-a", caller_number="13812345678", started_at=STARTED
    )

    assert again == first
    assert Interaction.objects.count() == 1
    assert first.customer == customer
    assert first.channel == "call"
    assert first.occurred_at == STARTED
    assert first.agent == cast.agent_a1.user
    assert first.refs == {
        "call_uuid": "3f1c-a",
        "answered": True,
        "duration_seconds": 200,
        "talk_seconds": 180,
        "queue": "sales",
        "hangup_cause": "NORMAL_CLEARING",
        "caller_number": "13812345678",
    }


def test_a_first_time_caller_gets_a_customer_record_with_the_number():
    interaction = interaction_record_call(
        call_uuid="new-1", caller_number="+1 415 555 0101", started_at=STARTED
    )

    customer = interaction.customer
    assert list(customer.identities.values_list("kind", "value")) == [("phone", "+14155550101")]
    assert customer.name == ""


def test_unknown_callers_stay_anonymous_when_auto_creation_is_off(settings):
    settings.CUSTOMERS_AUTO_CREATE_CALLERS = False

    assert (
        interaction_record_call(call_uuid="new-2", caller_number="13812345678", started_at=STARTED)
        is None
    )
    assert Customer.objects.count() == 0


def test_a_withheld_number_records_nothing():
    assert (
        interaction_record_call(call_uuid="anon", caller_number="anonymous", started_at=STARTED)
        is None
    )
    assert Interaction.objects.count() == 0


def test_the_screen_pop_timeline_is_the_latest_contacts_first():
    customer = CustomerFactory()
    now = timezone.now()
    contacts = [
        InteractionFactory(customer=customer, occurred_at=now - dt.timedelta(days=days))
        for days in (5, 1, 3)
    ]
    InteractionFactory(occurred_at=now)

    timeline = interaction_timeline(customer_id=customer.pk, limit=2)

    assert timeline == [contacts[1], contacts[2]]
    assert interaction_timeline(customer_id=customer.pk, before=contacts[2].occurred_at) == [
        contacts[0]
    ]


@pytest.fixture
def node():
    return FreeswitchNode.objects.create(name="fs1", host="127.0.0.1", password="test-only-pw")


def _event(kind: str, **fields) -> CallEvent:
    return CallEvent(kind=kind, node="fs1", occurred_at=STARTED, **fields)


def test_call_hungup_enqueues_the_recording_only_when_the_call_ended(monkeypatch):
    sent = []

    def publish(*, args):
        sent.append(args)

    monkeypatch.setattr(record_call_interactions, "apply_async", publish)

    telephony_events.on_call_hungup(
        _event("call.hungup", call_id=7, call_uuid="u-7", data={"call_ended": False})
    )
    telephony_events.on_call_hungup(
        _event("call.hungup", call_id=7, call_uuid="u-7", data={"call_ended": True})
    )

    assert sent == [[[[7]]]]


def test_the_batch_task_records_each_call_and_survives_an_unknown_one(cast, node):
    call = Call.objects.create(
        node=node,
        uuid="u-10",
        direction="inbound",
        caller_number="13812345678",
        started_at=STARTED,
        ended_at=STARTED + dt.timedelta(seconds=30),
        hangup_cause="NORMAL_CLEARING",
    )

    recorded = record_call_interactions([[999_999], [call.pk], [call.pk]])

    interaction = Interaction.objects.get()
    assert recorded == [None, interaction.pk, interaction.pk]
    assert interaction.call_uuid == "u-10"


def test_the_task_records_the_ended_call_with_the_agent_who_answered(cast, node):
    customer = customer_with_phone("+8613812345678")
    call = Call.objects.create(
        node=node,
        uuid="u-9",
        direction="inbound",
        caller_number="13812345678",
        started_at=STARTED,
        answered_at=STARTED + dt.timedelta(seconds=5),
        ended_at=STARTED + dt.timedelta(seconds=65),
        hangup_cause="NORMAL_CLEARING",
        queue_slug="support",
    )
    CallLeg.objects.create(
        node=node,
        call=call,
        uuid="u-9-agent",
        role="agent",
        direction="outbound",
        agent=cast.agent_a2,
        started_at=STARTED,
        answered_at=STARTED + dt.timedelta(seconds=5),
    )

    interaction_id = record_call_interaction(call.pk)
    record_call_interaction(call.pk)

    interaction = Interaction.objects.get()
    assert interaction.pk == interaction_id
    assert interaction.customer == customer
    assert interaction.agent == cast.agent_a2.user
    assert interaction.refs["talk_seconds"] == 60
    assert interaction.refs["queue"] == "support"
