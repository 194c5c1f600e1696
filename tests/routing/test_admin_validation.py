"""The admin rejects impossible routing setups with a clear message; the calculator renders."""

from __future__ import annotations

import pytest
from django.test import Client
from guardian.shortcuts import get_users_with_perms

from apps.routing.matching import agent_tokens
from apps.routing.models import AgentPresence, Queue
from apps.routing.validation import (
    RuleSpec,
    validate_overflow_rules,
    validate_queue_settings,
    validate_queue_staffable,
)

pytestmark = pytest.mark.django_db

GOOD_SETTINGS = {
    "strategy": "longest_idle",
    "sticky_window_seconds": 0,
    "max_wait_seconds": 600,
    "ring_timeout_seconds": 20,
    "announce_interval_seconds": 0,
    "announcement": "",
    "closed_action": "message",
    "closed_target": "",
    "full_action": "message",
    "full_target": "",
}


def test_sound_queue_settings_pass():
    assert validate_queue_settings(**GOOD_SETTINGS) == {}


@pytest.mark.parametrize(
    ("changes", "field", "message_part"),
    [
        ({"max_wait_seconds": 15}, "ring_timeout_seconds", "longer than the maximum wait"),
        ({"strategy": "sticky"}, "sticky_window_seconds", "needs a window"),
        (
            {"announce_interval_seconds": 30, "announcement": "{place}"},
            "announcement",
            "{position} and {minutes}",
        ),
        ({"announce_interval_seconds": 30}, "announcement", "choose what to play"),
        ({"closed_action": "transfer"}, "closed_target", "needs the extension"),
        ({"full_action": "transfer"}, "full_target", "needs the extension"),
        (
            {"announce_interval_seconds": 30, "announcement": "say::en NUMBER {position}"},
            "announcement",
            "one word",
        ),
        (
            {"closed_action": "message", "closed_target": "ivr/closed now.wav"},
            "closed_target",
            "one word",
        ),
    ],
)
def test_impossible_queue_settings_are_named(changes, field, message_part):
    errors = validate_queue_settings(**{**GOOD_SETTINGS, **changes})

    assert list(errors) == [field]
    assert message_part in errors[field]


def test_rules_in_order_pass():
    rules = [
        RuleSpec(position=1, after_seconds=30, action="relax", relax_by=2),
        RuleSpec(position=2, after_seconds=60, action="add_pool", backup_team_count=1),
        RuleSpec(position=3, after_seconds=90, action="callback"),
        RuleSpec(position=4, after_seconds=300, action="voicemail"),
    ]

    assert validate_overflow_rules(rules, queue_id=1, max_wait_seconds=600) == []


@pytest.mark.parametrize(
    ("rules", "message_part"),
    [
        (
            [RuleSpec(1, 60, "relax", relax_by=1), RuleSpec(2, 30, "relax", relax_by=1)],
            "must apply in order: rule 2 (after 30 s) comes after rule 1 (after 60 s)",
        ),
        (
            [RuleSpec(1, 60, "message", target="x.wav"), RuleSpec(2, 90, "relax", relax_by=1)],
            "Rule 1 ends the call",
        ),
        ([RuleSpec(1, 600, "relax", relax_by=1)], "would never apply"),
        ([RuleSpec(1, 30, "relax")], "say by how many"),
        ([RuleSpec(1, 30, "add_pool")], "choose teams or a queue"),
        ([RuleSpec(1, 30, "add_pool", backup_queue_id=7)], "its own backup"),
        ([RuleSpec(1, 30, "message")], "choose the media"),
        ([RuleSpec(1, 30, "callback", target="press 1.wav")], "Rule 1: Use one word"),
    ],
)
def test_impossible_overflow_rules_are_named(rules, message_part):
    messages = validate_overflow_rules(rules, queue_id=7, max_wait_seconds=600)

    assert len(messages) == 1
    assert message_part in messages[0]


def test_a_queue_nobody_could_answer_is_named(make_agent, skills, team):
    make_agent({skills["sales"]: 4})

    message = validate_queue_staffable(
        requirements={skills["sales"].pk: 5, skills["english"].pk: 1}, team_ids=[team.pk]
    )

    assert message == (
        "No active agent of the serving teams has every required skill (English >= 1, "
        "Sales >= 5): nobody could answer this queue. Give agents these skills first, or lower "
        "the levels."
    )
    assert (
        validate_queue_staffable(requirements={skills["sales"].pk: 4}, team_ids=[team.pk]) is None
    )


@pytest.fixture
def admin_client(cast) -> Client:
    client = Client()
    client.force_login(cast.admin)
    return client


def _queue_form(**overrides) -> dict[str, object]:
    data = {
        "name": "Support",
        "slug": "support",
        "is_active": "on",
        "priority": 0,
        "strategy": "longest_idle",
        "sticky_window_seconds": 0,
        "ring_timeout_seconds": 20,
        "wrap_up_seconds": 10,
        "service_level_percent": 80,
        "service_level_seconds": 20,
        "max_wait_seconds": 0,
        "max_size": 0,
        "short_abandon_seconds": 5,
        "default_handle_seconds": 180,
        "callback_max_attempts": 3,
        "music_on_hold": "",
        "announce_interval_seconds": 0,
        "announcement": "",
        "closed_action": "message",
        "closed_target": "",
        "full_action": "message",
        "full_target": "",
        "required_skills-TOTAL_FORMS": 0,
        "required_skills-INITIAL_FORMS": 0,
        "overflow_rules-TOTAL_FORMS": 0,
        "overflow_rules-INITIAL_FORMS": 0,
    }
    data.update(overrides)
    return data


def test_the_admin_refuses_a_queue_requiring_a_level_no_agent_has(
    admin_client, make_agent, skills, team
):
    make_agent({skills["sales"]: 4})

    response = admin_client.post(
        "/admin/routing/queue/add/",
        _queue_form(
            **{
                "teams": [team.pk],
                "required_skills-TOTAL_FORMS": 1,
                "required_skills-0-skill": skills["sales"].pk,
                "required_skills-0-min_level": 8,
            }
        ),
    )

    assert response.status_code == 200
    assert "nobody could answer this queue" in response.content.decode()
    assert not Queue.objects.filter(slug="support").exists()


def test_the_admin_refuses_rules_out_of_order_and_a_ring_longer_than_the_wait(admin_client, cast):
    response = admin_client.post(
        "/admin/routing/queue/add/",
        _queue_form(
            **{
                "is_active": "",
                "max_wait_seconds": 10,
                "overflow_rules-TOTAL_FORMS": 2,
                "overflow_rules-0-position": 1,
                "overflow_rules-0-after_seconds": 8,
                "overflow_rules-0-action": "relax",
                "overflow_rules-0-relax_by": 1,
                "overflow_rules-1-position": 2,
                "overflow_rules-1-after_seconds": 5,
                "overflow_rules-1-action": "relax",
                "overflow_rules-1-relax_by": 1,
            }
        ),
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert "longer than the maximum wait" in content
    assert "rule 2 (after 5 s) comes after rule 1 (after 8 s)" in content
    assert not Queue.objects.filter(slug="support").exists()


def test_a_sound_queue_is_saved_with_its_reviewers(admin_client, make_agent, skills, team, cast):
    make_agent({skills["sales"]: 6})

    response = admin_client.post(
        "/admin/routing/queue/add/",
        _queue_form(
            **{
                "teams": [team.pk],
                "reviewers": [cast.qa.pk],
                "required_skills-TOTAL_FORMS": 1,
                "required_skills-0-skill": skills["sales"].pk,
                "required_skills-0-min_level": 5,
                "overflow_rules-TOTAL_FORMS": 1,
                "overflow_rules-0-position": 1,
                "overflow_rules-0-after_seconds": 30,
                "overflow_rules-0-action": "relax",
                "overflow_rules-0-relax_by": 2,
            }
        ),
    )

    assert response.status_code == 302
    queue = Queue.objects.get(slug="support")
    assert list(queue.required_skills.values_list("skill__slug", "min_level")) == [("sales", 5)]
    assert list(get_users_with_perms(queue, only_with_perms_in=["review_queue"])) == [cast.qa]


def test_editing_skills_in_the_admin_updates_what_the_router_reads(
    admin_client, make_agent, skills
):
    agent = make_agent()

    response = admin_client.post(
        f"/admin/routing/agentroutingprofile/{agent.pk}/change/",
        {
            "routing_skills-TOTAL_FORMS": 1,
            "routing_skills-INITIAL_FORMS": 0,
            "routing_skills-0-skill": skills["billing"].pk,
            "routing_skills-0-level": 3,
        },
    )

    assert response.status_code == 302
    assert AgentPresence.objects.get(agent=agent).skill_tokens == agent_tokens(
        {skills["billing"].pk: 3}
    )


def test_the_erlang_c_calculator_page_shows_the_agents_needed(admin_client):
    response = admin_client.get(
        "/admin/routing/queue/erlang-c/",
        {
            "calls_per_hour": 200,
            "aht_seconds": 180,
            "target_percent": 80,
            "target_seconds": 20,
        },
    )

    assert response.status_code == 200
    assert response.context["result"].agents == 14
    assert [row["agents"] for row in response.context["table"]] == [12, 13, 14, 15, 16, 17]


def test_a_queue_staffing_page_starts_from_the_queue_figures(admin_client, make_queue):
    queue = make_queue(default_handle_seconds=240, service_level_percent=90)

    response = admin_client.get(f"/admin/routing/queue/{queue.pk}/staffing/")

    assert response.status_code == 200
    assert response.context["form"].data["aht_seconds"] == 240.0
    assert response.context["form"].data["target_percent"] == 90
    assert response.context["result"].agents == 0


def test_the_calculator_pages_are_for_staff_only(cast, client_as):
    client = Client()
    client.force_login(cast.supervisor_a)

    assert client.get("/admin/routing/queue/erlang-c/").status_code == 302
