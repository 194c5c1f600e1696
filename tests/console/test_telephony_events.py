"""The console's reactions to telephony domain events: the screen-pop on the agent's ringing
and answered leg, call-control outcomes, and queue statistics when a line changes."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.console import protocol
from apps.core.realtime import agent_group, queue_group
from apps.telephony import domain_events
from apps.telephony.domain_events import CallEvent
from tests.console.conftest import make_call
from tests.customers.factories import customer_with_phone

pytestmark = pytest.mark.django_db


def _event(kind: str, **fields) -> CallEvent:
    return CallEvent(kind=kind, node="fs1", occurred_at=timezone.now(), **fields)


@pytest.mark.parametrize(
    ("kind", "phase"), [("call.ringing", "offer"), ("call.answered", "answer")]
)
def test_the_agents_leg_pops_the_screen(cast, node, support_queue, listen, kind, phase):  # noqa: PLR0917
    customer = customer_with_phone("+8613812345678", name="Wang Fang", vip_tier="gold")
    live = make_call(node, cast.agent_a1)
    listener = listen(agent_group(cast.agent_a1.pk))
    occurred = timezone.now()
    domain_events.publish(
        CallEvent(
            kind=kind,
            node="fs1",
            occurred_at=occurred,
            call_id=live.call.pk,
            call_uuid=live.call.uuid,
            leg_uuid=live.agent_leg.uuid,
            leg_role="agent",
            agent_id=cast.agent_a1.pk,
        )
    )
    pushed = listener.receive_type("screen_pop")
    assert pushed["phase"] == phase
    assert pushed["agent_id"] == cast.agent_a1.pk
    assert pushed["leg_uuid"] == live.agent_leg.uuid
    assert pushed["event_at"] == occurred.isoformat()
    assert pushed["call"]["id"] == live.call.pk
    assert pushed["customer"]["id"] == customer.pk
    assert pushed["customer"]["vip_tier"] == "gold"


def test_legs_of_callers_do_not_pop_a_screen(cast, node, support_queue, listen):
    live = make_call(node, cast.agent_a1)
    listener = listen(agent_group(cast.agent_a1.pk))
    domain_events.publish(
        _event(
            "call.ringing",
            call_id=live.call.pk,
            call_uuid=live.call.uuid,
            leg_uuid=live.caller_leg.uuid,
            leg_role="caller",
        )
    )
    listener.assert_nothing()


@pytest.mark.parametrize(
    ("kind", "error_code", "expected_type", "reason"),
    [
        ("command.failed", "NO_SUCH_CHANNEL", "control.failed", "The other party has hung up."),
        (
            "command.failed",
            "USER_BUSY",
            "control.failed",
            "The transfer target is busy or declined the call.",
        ),
        ("command.succeeded", "", "control.succeeded", None),
    ],
)
def test_console_command_outcomes_reach_the_agent(  # noqa: PLR0917
    cast, listen, kind, error_code, expected_type, reason
):
    key = protocol.command_key(
        agent_id=cast.agent_a1.pk, call_id=42, action="consult", request_id="abcd-1234-efgh"
    )
    listener = listen(agent_group(cast.agent_a1.pk))
    domain_events.publish(
        _event(
            kind,
            call_id=42,
            data={
                "command_id": 5,
                "kind": "attended_transfer",
                "idempotency_key": key,
                "error_code": error_code,
                "error_message": "-ERR",
            },
        )
    )
    pushed = listener.receive()
    assert pushed["type"] == expected_type
    assert (pushed["call_id"], pushed["action"], pushed["request_id"], pushed["command_id"]) == (
        42,
        "consult",
        "abcd-1234-efgh",
        5,
    )
    assert pushed.get("reason") == reason


def test_other_components_commands_are_not_reported(cast, listen):
    listener = listen(agent_group(cast.agent_a1.pk))
    domain_events.publish(
        _event(
            "command.failed",
            data={
                "idempotency_key": "routing:offer:abc:agent",
                "kind": "originate",
                "error_code": "X",
            },
        )
    )
    listener.assert_nothing()


def test_a_caller_joining_the_line_costs_the_event_process_one_task_call(
    cast, node, support_queue, monkeypatch
):
    from apps.console import services

    cache.delete_many(
        [
            services.QUEUE_STATS_LEADING_KEY.format(queue="support"),
            services.QUEUE_STATS_TRAILING_KEY.format(queue="support"),
        ]
    )
    # given the realtime worker's tasks recorded instead of sent
    sent = []
    monkeypatch.setattr(
        "apps.console.tasks.prepare_screen_pops.apply_async",
        lambda args: sent.append(("prepare", args)),
    )
    monkeypatch.setattr(
        "apps.console.tasks.push_queue_stats.apply_async",
        lambda args, countdown=None: sent.append(("stats", args, countdown)),
    )
    # when three callers join the support queue
    for call_id, uuid in enumerate(("waiting-1", "waiting-2", "waiting-3"), start=1):
        domain_events.publish(
            _event(
                "call.parked",
                call_id=call_id,
                call_uuid=uuid,
                leg_uuid=uuid,
                leg_role="caller",
                data={"queue": "support"},
            )
        )
    # then each screen-pop is prepared by the worker (outside gevent each call leaves at once;
    # the event process batches them), the figures pushed at once and once more a second later
    assert sent == [
        ("prepare", [[[1]]]),
        ("stats", ["support"], None),
        ("prepare", [[[2]]]),
        ("stats", ["support"], 1.0),
        ("prepare", [[[3]]]),
    ]


def test_the_worker_prepares_each_queued_caller_and_refreshes_the_queue_once_a_second(
    cast, node, support_queue, monkeypatch
):
    from apps.console import selectors, services

    sent = []
    monkeypatch.setattr(
        "apps.console.tasks.push_queue_stats.apply_async",
        lambda args, countdown=None: sent.append((args, countdown)),
    )
    calls = [
        make_call(node, cast.agent_a1, caller=f"1380013800{index}", answered=False).call
        for index in range(3)
    ]
    cache.delete_many(
        [
            services.QUEUE_STATS_LEADING_KEY.format(queue="support"),
            services.QUEUE_STATS_TRAILING_KEY.format(queue="support"),
        ]
    )
    for call in calls:
        selectors.screen_pop_forget(call_id=call.pk)
        assert cache.get(selectors.SCREEN_POP_CACHE_KEY.format(call_id=call.pk)) is None
    # when the worker handles three callers joining the support queue within a second
    for call in calls:
        services.caller_queued(call_id=call.pk, queue_slug="support")
    # then each caller's screen-pop is ready for the ring, and the figures are pushed at once
    # and once more a second later, not three times
    for call in calls:
        core = cache.get(selectors.SCREEN_POP_CACHE_KEY.format(call_id=call.pk))
        assert core["call"]["uuid"] == call.uuid
    assert sent == [(["support"], None), (["support"], 1.0)]


def test_changes_covered_by_a_scheduled_trailing_push_cost_no_redis_write(monkeypatch):
    from apps.console import services

    cache.delete_many(
        [
            services.QUEUE_STATS_LEADING_KEY.format(queue="sales"),
            services.QUEUE_STATS_TRAILING_KEY.format(queue="sales"),
        ]
    )
    sent = []
    monkeypatch.setattr(
        "apps.console.tasks.push_queue_stats.apply_async",
        lambda args, countdown=None: sent.append((args, countdown)),
    )
    adds = []
    real_add = cache.add
    monkeypatch.setattr(cache, "add", lambda *a, **k: adds.append(a[0]) or real_add(*a, **k))

    # When the sales line changes ten times within its second (callers hanging up)
    for _ in range(10):
        services.queue_stats_changed(queue_slug="sales")

    # Then one push now, one a second later, and Redis was asked only until the second was
    # covered
    assert sent == [(["sales"], None), (["sales"], 1.0)]
    assert len(adds) == 3  # leading (taken), leading (refused), trailing (taken)


def test_the_queue_figures_reach_the_queues_group(cast, support_queue, listen):
    from apps.console import services
    from apps.routing.models import WaitingCall

    enqueued = timezone.now() - timezone.timedelta(seconds=30)
    for uuid in ("waiting-1", "waiting-2"):
        WaitingCall.objects.create(
            queue=support_queue,
            call_uuid=uuid,
            enqueued_at=enqueued,
            rank_at=enqueued,
            state_changed_at=enqueued,
        )
    listener = listen(queue_group(support_queue.pk))
    services.queue_stats_push(queue_slug="support")
    pushed = listener.receive()
    assert pushed["type"] == "queue.stats"
    assert (pushed["queue_id"], pushed["waiting"], pushed["oldest_enqueued_at"]) == (
        support_queue.pk,
        2,
        enqueued.isoformat(),
    )
    assert pushed["longest_wait_seconds"] >= 30


def test_what_agents_wait_for_has_a_lane_no_slower_subscriber_shares():
    # The event process serves each lane side by side: a screen-pop must not queue behind
    # routing's database work nor the queue statistics' query.
    from apps.console import telephony_events

    lanes: dict[str, set] = {}
    for subscriptions in domain_events._subscribers.values():
        for subscription in subscriptions:
            lanes.setdefault(subscription.lane, set()).add(subscription.handler)

    # preparing the screen-pop before the agent is rung
    assert lanes[telephony_events.QUEUED_LANE] == {telephony_events.on_call_parked}
    assert lanes[telephony_events.AGENT_LANE] == {
        telephony_events.on_agent_leg_ringing,
        telephony_events.on_agent_leg_answered,
        telephony_events.on_command_finished,
    }
    assert telephony_events.on_leg_hungup in lanes[telephony_events.QUEUES_LANE]
    assert "routing" in lanes
