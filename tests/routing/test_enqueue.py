"""Joining the line: what a parked call needs (skills, tier, language) and its place."""

from __future__ import annotations

import pytest

from apps.routing import selectors, services
from apps.routing.matching import skill_token
from apps.routing.models import CustomerTier, WaitingCall
from tests.routing.conftest import at, queued_router_events

pytestmark = pytest.mark.django_db


def test_a_parked_call_needs_the_queue_skills_its_own_skills_its_tier_skill_and_language(
    make_queue, park, skills, team
):
    make_queue(requires={skills["after-sales"]: 4}, priority=5)
    CustomerTier.objects.create(
        slug="vip", name="VIP", priority_bonus=40, required_skill=skills["vip"], required_level=2
    )

    waiting_call = park(
        at_seconds=0, skills="billing:6, after-sales:2", tier="vip", language="zh-Hans", priority=7
    )

    assert waiting_call.requirements == {
        str(skills["after-sales"].pk): 4,
        str(skills["billing"].pk): 6,
        str(skills["vip"].pk): 2,
        str(skills["mandarin"].pk): 1,
    }
    assert waiting_call.required_tokens == sorted(
        [
            skill_token(skills["after-sales"].pk, 4),
            skill_token(skills["billing"].pk, 6),
            skill_token(skills["vip"].pk, 2),
            skill_token(skills["mandarin"].pk, 1),
        ]
    )
    assert waiting_call.eligible_team_ids == [team.pk]
    assert waiting_call.base_priority == 5 + 7 + 40
    assert waiting_call.state == "waiting"


def test_unknown_skills_and_languages_add_no_requirement(make_queue, park, skills):
    make_queue()

    waiting_call = park(at_seconds=0, skills="juggling", language="fr", tier="platinum")

    assert waiting_call.requirements == {}
    assert waiting_call.base_priority == 0


def test_rank_time_is_the_enqueue_time_minus_the_priority_head_start(make_queue, park, settings):
    settings.ROUTING_AGING_SECONDS_PER_POINT = 3.0
    make_queue(priority=10)

    waiting_call = park(at_seconds=100, priority=20)

    assert waiting_call.enqueued_at == at(100)
    assert waiting_call.rank_at == at(100 - 30 * 3)


def test_the_same_caller_parked_twice_waits_once(make_queue, node):
    make_queue()

    first = services.waiting_call_enqueue(call_uuid="leg-1", queue_slug="sales", now=at(0))
    again = services.waiting_call_enqueue(call_uuid="leg-1", queue_slug="sales", now=at(1))

    assert first.pk == again.pk
    assert WaitingCall.objects.count() == 1


def test_joining_the_line_asks_the_router_to_decide_when_a_qualified_agent_is_free(
    make_queue, make_agent, enqueued, skills, django_capture_on_commit_callbacks
):
    make_queue(requires={skills["sales"]: 3})
    make_agent({skills["sales"]: 5}, available_at=0)

    with django_capture_on_commit_callbacks(execute=True):
        waiting_call = services.waiting_call_enqueue(
            call_uuid="leg-1", queue_slug="sales", now=at(1)
        )

    assert waiting_call.routing_requested is True
    assert queued_router_events() == [("call", waiting_call.pk)]
    assert enqueued.tasks == []


def test_with_nobody_qualified_free_the_call_just_waits_for_the_next_agent(
    make_queue, make_agent, enqueued, skills, django_capture_on_commit_callbacks
):
    make_queue(requires={skills["sales"]: 3})
    make_agent({skills["sales"]: 2}, available_at=0)
    busy = make_agent({skills["sales"]: 5}, available_at=0)
    services.agent_set_state(agent=busy, state="not_ready", reason="break", now=at(0))

    with django_capture_on_commit_callbacks(execute=True):
        waiting_call = services.waiting_call_enqueue(
            call_uuid="leg-1", queue_slug="sales", now=at(1)
        )

    assert waiting_call.routing_requested is False
    assert queued_router_events() == []
    assert enqueued.tasks == []


def test_cc_skills_parsing_takes_levels_and_defaults_to_one():
    assert services.parse_skills("vip, after-sales:5,billing:12, :3,") == {
        "vip": 1,
        "after-sales": 5,
        "billing": 10,
    }


def test_telephony_asks_what_a_queue_plays_to_waiting_callers(make_queue):
    make_queue("default", music_on_hold="local_stream://general")
    make_queue("vip", music_on_hold="local_stream://calm")

    assert selectors.queue_music_on_hold(slug="vip") == "local_stream://calm"
    assert selectors.queue_music_on_hold(slug="gone") == "local_stream://general"


def test_a_parked_call_remembers_its_freeswitch_node_by_the_nodes_name(make_queue, node):
    make_queue()

    on_node = services.waiting_call_enqueue(
        call_uuid="leg-1", queue_slug="sales", node=node.name, now=at(0)
    )
    on_unknown_node = services.waiting_call_enqueue(
        call_uuid="leg-2", queue_slug="sales", node="no-such-node", now=at(0)
    )

    assert WaitingCall.objects.get(pk=on_node.pk).telephony_node_id == node.pk
    assert WaitingCall.objects.get(pk=on_unknown_node.pk).telephony_node_id is None


def test_a_racing_second_row_for_a_waiting_leg_is_not_stored_and_the_transaction_goes_on(
    make_queue, node
):
    # Two enqueues of one leg racing both pass the profile's look-up; the one-line-per-caller
    # index refuses the second row without aborting its transaction (no IntegrityError).
    make_queue()
    first = services.waiting_call_enqueue(call_uuid="leg-1", queue_slug="sales", now=at(0))
    racing = WaitingCall.objects.get(pk=first.pk)
    racing.pk = None

    stored = services._join_line(racing)

    assert stored is None
    assert racing.pk is None
    assert list(WaitingCall.objects.values_list("pk", "call_uuid")) == [(first.pk, "leg-1")]
