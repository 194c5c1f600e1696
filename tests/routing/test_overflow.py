"""Overflow rules after N seconds, the maximum wait, and closed or full queues."""

from __future__ import annotations

from datetime import time

import pytest

from apps.routing import router, services
from apps.routing.models import (
    BusinessHours,
    BusinessHoursInterval,
    OverflowRule,
    WaitingCall,
)
from apps.telephony.models import CallCommand
from tests.factories import TeamFactory
from tests.routing.conftest import at, commands

pytestmark = pytest.mark.django_db


def _rule(queue, position: int, after: int, action: str, **fields) -> OverflowRule:
    backup_teams = fields.pop("backup_teams", [])
    rule = OverflowRule.objects.create(
        queue=queue, position=position, after_seconds=after, action=action, **fields
    )
    rule.backup_teams.set(backup_teams)
    return rule


def test_relaxing_levels_lets_a_less_skilled_agent_take_the_call_after_the_delay(
    make_agent, make_queue, park, skills
):
    queue = make_queue(requires={skills["sales"]: 7})
    _rule(queue, 1, 30, "relax", relax_by=3)
    junior = make_agent({skills["sales"]: 4}, available_at=0)
    waiting_call = park(at_seconds=0)
    assert waiting_call.next_overflow_at == at(30)

    assert services.overflow_apply_due(now=at(29)) == 0
    assert router.route_agent(junior.pk, now=at(29)) is None
    assert services.overflow_apply_due(now=at(30)) == 1

    waiting_call.refresh_from_db()
    assert (waiting_call.relax_by, waiting_call.overflow_step) == (3, 1)
    assert waiting_call.next_overflow_at is None
    assert router.route_agent(junior.pk, now=at(30)).waiting_call_id == waiting_call.pk


def test_relaxing_a_level_to_zero_drops_the_skill(make_agent, make_queue, park, skills):
    queue = make_queue(requires={skills["sales"]: 2})
    _rule(queue, 1, 30, "relax", relax_by=5)
    unskilled = make_agent(available_at=0)
    waiting_call = park(at_seconds=0)

    services.overflow_apply_due(now=at(30))

    waiting_call.refresh_from_db()
    assert waiting_call.required_tokens == []
    assert router.route_agent(unskilled.pk, now=at(30)).waiting_call_id == waiting_call.pk


def test_adding_backup_teams_widens_the_pool(make_agent, make_queue, park, skills):
    backup = TeamFactory(name="Backup")
    queue = make_queue(requires={skills["sales"]: 1})
    _rule(queue, 1, 60, "add_pool", backup_teams=[backup])
    helper = make_agent({skills["sales"]: 5}, team=backup, available_at=0)
    waiting_call = park(at_seconds=0)
    assert router.route_agent(helper.pk, now=at(59)) is None

    services.overflow_apply_due(now=at(60))

    waiting_call.refresh_from_db()
    assert sorted(waiting_call.eligible_team_ids) == sorted([queue.teams.get().pk, backup.pk])
    assert router.route_agent(helper.pk, now=at(60)).waiting_call_id == waiting_call.pk


def test_adding_a_backup_queue_lets_its_teams_agents_take_the_call(
    make_agent, make_queue, park, skills
):
    other_team = TeamFactory(name="Support")
    support = make_queue("support", teams=[other_team])
    queue = make_queue(requires={skills["sales"]: 1})
    _rule(queue, 1, 45, "add_pool", backup_queue=support)
    helper = make_agent({skills["sales"]: 2}, team=other_team, available_at=0)
    waiting_call = park(at_seconds=0)

    services.overflow_apply_due(now=at(45))

    assert router.route_agent(helper.pk, now=at(45)).waiting_call_id == waiting_call.pk


def test_rules_apply_in_order_and_voicemail_ends_the_wait(make_queue, park, settings):
    settings.ROUTING_VOICEMAIL_DESTINATION = "vm-{mailbox}"
    queue = make_queue()
    _rule(queue, 1, 30, "relax", relax_by=1)
    _rule(queue, 2, 90, "voicemail", target="2000")
    waiting_call = park(at_seconds=0)

    services.overflow_apply_due(now=at(31))
    waiting_call.refresh_from_db()
    assert (waiting_call.state, waiting_call.overflow_step, waiting_call.next_overflow_at) == (
        "waiting",
        1,
        at(90),
    )

    services.overflow_apply_due(now=at(90))
    waiting_call.refresh_from_db()
    assert (waiting_call.state, waiting_call.outcome) == ("overflowed", "overflow_voicemail")
    assert commands() == [("transfer", f"routing:call:{waiting_call.pk}:exit")]
    assert CallCommand.objects.get().params == {
        "uuid": waiting_call.call_uuid,
        "destination": "vm-2000",
        "dialplan": "XML",
        "context": "default",
    }


def test_a_message_rule_plays_the_message_and_ends_the_call(make_queue, park):
    queue = make_queue()
    _rule(queue, 1, 120, "message", target="ivr/sorry.wav")
    waiting_call = park(at_seconds=0)

    services.overflow_apply_due(now=at(125))

    waiting_call.refresh_from_db()
    assert (waiting_call.state, waiting_call.outcome) == ("overflowed", "overflow_message")
    assert CallCommand.objects.get().params == {
        "uuid": waiting_call.call_uuid,
        "destination": "answer,playback:ivr/sorry.wav,hangup:NORMAL_CLEARING",
        "dialplan": "inline",
        "context": "default",
    }


def test_several_rules_due_at_once_all_apply_in_order(make_queue, park, skills):
    queue = make_queue(requires={skills["sales"]: 9})
    _rule(queue, 1, 10, "relax", relax_by=2)
    _rule(queue, 2, 20, "relax", relax_by=2)
    waiting_call = park(at_seconds=0)

    services.overflow_apply_due(now=at(25))

    waiting_call.refresh_from_db()
    assert (waiting_call.relax_by, waiting_call.overflow_step) == (4, 2)
    assert waiting_call.required_tokens == [skills["sales"].pk * 16 + 5]


def test_the_maximum_wait_sends_the_caller_to_the_full_destination(make_queue, park):
    make_queue(max_wait_seconds=300, full_action="transfer", full_target="9000")
    waiting_call = park(at_seconds=0)
    assert waiting_call.next_overflow_at == at(300)

    services.overflow_apply_due(now=at(300))

    waiting_call.refresh_from_db()
    assert (waiting_call.state, waiting_call.outcome) == ("overflowed", "max_wait")
    assert CallCommand.objects.get().params == {
        "uuid": waiting_call.call_uuid,
        "destination": "9000",
        "dialplan": "XML",
        "context": "default",
    }


def test_a_full_queue_turns_new_callers_away(make_queue, park):
    make_queue(max_size=2, full_action="message", full_target="ivr/busy.wav")
    park(at_seconds=0)
    park(at_seconds=1)

    refused = park(at_seconds=2)

    assert (refused.state, refused.outcome) == ("overflowed", "full")
    assert WaitingCall.objects.filter(state="waiting").count() == 2
    assert commands() == [("transfer", f"routing:call:{refused.pk}:exit")]


def test_a_closed_queue_sends_callers_to_the_closed_destination(make_queue, park):
    office = BusinessHours.objects.create(name="Office", timezone="Asia/Shanghai")
    # T0 is Monday 10:00 UTC = 18:00 in Shanghai, after closing time.
    BusinessHoursInterval.objects.create(
        calendar=office, weekday=0, opens=time(9), closes=time(17, 30)
    )
    make_queue(business_hours=office, closed_action="voicemail", closed_target="100")

    turned_away = park(at_seconds=0)

    assert (turned_away.state, turned_away.outcome) == ("overflowed", "closed")
    assert [kind for kind, _key in commands()] == ["transfer"]


def test_an_unknown_queue_falls_back_to_the_default_queue(make_queue, park):
    make_queue("default")

    waiting_call = park("no-such-queue", at_seconds=0)

    assert waiting_call.queue.slug == "default"
