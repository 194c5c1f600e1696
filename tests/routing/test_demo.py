"""The demo routing setup seeds on top of the accounts demo, twice without change."""

from __future__ import annotations

import pytest

from apps.accounts import demo as accounts_demo
from apps.routing import demo
from apps.routing.models import AgentPresence, AgentSkill, OverflowRule, Queue, Skill
from apps.routing.validation import validate_queue_staffable

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent_and_every_queue_can_be_answered(role_groups, settings):
    settings.FIELD_ENCRYPTION_KEY = "yl1SQsvmDe5sbi8cAx0ogGC0dfF_TgKWi1lJI1pO9c0="
    accounts_demo.seed()

    demo.seed()
    demo.seed()

    assert sorted(Skill.objects.values_list("slug", flat=True)) == [
        "after-sales",
        "billing",
        "english",
        "mandarin",
        "sales",
        "vip",
    ]
    assert sorted(Queue.objects.values_list("slug", flat=True)) == [
        "after_sales",
        "billing",
        "default",
        "sales",
    ]
    assert OverflowRule.objects.filter(queue__slug="sales").count() == 4
    assert AgentSkill.objects.filter(agent__user__username="agent1").count() == 4
    assert AgentPresence.objects.count() == 6
    for queue in Queue.objects.all():
        requirements = dict(queue.required_skills.values_list("skill_id", "min_level"))
        team_ids = list(queue.teams.values_list("pk", flat=True))
        assert validate_queue_staffable(requirements=requirements, team_ids=team_ids) is None
