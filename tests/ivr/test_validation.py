"""What keeps a version from being published, each problem naming its node."""

from __future__ import annotations

import pytest

from apps.ivr import services
from apps.ivr.models import FlowVersion, Prompt, PromptVariant
from apps.routing.models import BusinessHours
from tests.ivr.conftest import MENU_FLOW, make_flow

pytestmark = pytest.mark.django_db


def _problems(nodes, **kwargs) -> list[str]:
    flow = make_flow(nodes, publish=False, did=None, **kwargs)
    version = flow.versions.get()
    return services.flow_version_validate(version).messages()


def test_the_menu_flow_is_valid():
    assert _problems(MENU_FLOW) == []


def test_an_unreachable_node_is_named():
    assert _problems({**MENU_FLOW, "orphan": ("hangup", {})}) == [
        "orphan: No caller can reach this node."
    ]


def test_every_option_must_lead_to_an_existing_node():
    menu = dict(MENU_FLOW["start"][1], options={"1": "sales", "2": "nowhere", "3": ""})

    assert _problems({**MENU_FLOW, "start": ("menu", menu)}) == [
        "start: options[2] leads to nowhere, which does not exist.",
        "start: options[3] leads nowhere.",
        "billing: No caller can reach this node.",
    ]


def test_a_loop_with_no_way_out_of_the_flow_is_refused():
    nodes = {
        "start": ("menu", {"prompt": "main", "options": {"1": "again"}, "on_failure": "again"}),
        "again": ("play", {"prompt": "hold", "next": "start"}),
    }

    assert _problems(nodes) == [
        "again: Callers here are caught in a loop with no way out of the flow.",
        "start: Callers here are caught in a loop with no way out of the flow.",
    ]


def test_steps_that_loop_without_waiting_for_the_caller_are_impossible_to_publish():
    nodes = {
        "start": ("lookup_customer", {"next_found": "q", "next_not_found": "retry"}),
        "retry": ("set", {"priority": 1, "next": "start"}),
        "q": ("queue", {"queue": "sales"}),
    }

    assert _problems(nodes) == [
        "retry: These steps loop without waiting for the caller: retry → start → retry."
    ]


def test_a_loop_through_a_menu_waits_for_the_caller_and_is_fine():
    nodes = {
        "start": (
            "menu",
            {"prompt": "main", "options": {"1": "q", "9": "start"}, "on_failure": "q"},
        ),
        "q": ("queue", {"queue": "sales"}),
    }

    assert _problems(nodes) == []


def test_every_prompt_needs_every_language_of_the_flow():
    flow_nodes = {
        "start": ("play", {"prompt": "welcome", "next": "q"}),
        "q": ("queue", {"queue": "sales"}),
    }
    prompt = Prompt.objects.create(name="welcome")
    PromptVariant.objects.create(prompt=prompt, language="en", text="Welcome")
    PromptVariant.objects.create(prompt=prompt, language="zh-hans", text="")

    problems = _problems(flow_nodes, languages=("en", "zh-hans"), prompts=False)

    assert problems == ["start: Prompt welcome has no zh-hans version."]


def test_a_missing_prompt_is_named():
    nodes = {
        "start": ("play", {"prompt": "ghost", "next": "q"}),
        "q": ("queue", {"queue": "sales"}),
    }

    assert _problems(nodes, prompts=False) == ["start: Prompt ghost does not exist."]


def test_menus_deeper_than_the_limit_are_refused(settings):
    def menu(target):
        return ("menu", {"prompt": "main", "options": {"1": target}, "on_failure": "q"})

    nodes = {
        "start": menu("m2"),
        "m2": menu("m3"),
        "m3": menu("m4"),
        "m4": menu("q"),
        "q": ("queue", {"queue": "sales"}),
    }

    assert _problems(nodes) == ["m4: This menu is 4 levels deep; the limit is 3."]
    settings.IVR_MENU_DEPTH_LIMIT = 4
    assert _problems(nodes, name="Deeper allowed") == []


def test_unknown_queues_schedules_and_bad_settings_are_named():
    BusinessHours.objects.create(name="office")
    nodes = {
        "start": (
            "hours",
            {"schedule": "weekend", "next_open": "collect", "next_closed": "collect"},
        ),
        "collect": (
            "collect",
            {
                "prompt": "order",
                "variable": "Order No",
                "min_length": 12,
                "max_length": 10,
                "pattern": "([",
                "next": "q",
                "on_failure": "q",
            },
        ),
        "q": ("queue", {"queue": "ghost-queue"}),
    }

    problems = _problems(nodes)

    assert problems == [
        "start: Schedule weekend does not exist.",
        "collect: Name the collected value (lower-case letters, digits, '_').",
        "collect: min_length is greater than max_length.",
        "collect: The pattern is not a valid regular expression: unterminated character set "
        "at position 1",
        "q: Queue ghost-queue does not exist.",
    ]


def test_an_invalid_version_cannot_be_published_and_nothing_changes():
    flow = make_flow({**MENU_FLOW, "orphan": ("hangup", {})}, publish=False)
    version = flow.versions.get()

    with pytest.raises(services.PublishRefused) as refused:
        services.flow_version_publish(actor=None, version=version)

    assert refused.value.problems == ["orphan: No caller can reach this node."]
    version.refresh_from_db()
    flow.refresh_from_db()
    assert version.status == FlowVersion.Status.DRAFT
    assert flow.live_version is None
