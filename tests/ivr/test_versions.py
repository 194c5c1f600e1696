"""Versions: drafts until published, one live version, retired ones restorable."""

from __future__ import annotations

import pytest

from apps.core.errors import Conflict
from apps.ivr import services
from apps.ivr.models import FlowNode, FlowVersion
from tests.ivr.conftest import MENU_FLOW, make_flow

pytestmark = pytest.mark.django_db


def test_publishing_a_draft_retires_the_live_version_and_freezes_the_flow_settings():
    flow = make_flow(MENU_FLOW, fallback_queue="sales")
    v1 = flow.live_version
    draft = services.flow_version_create_draft(actor=None, flow=flow, source=v1)
    flow.fallback_queue = "support"
    flow.save()

    services.flow_version_publish(actor=None, version=draft)

    flow.refresh_from_db()
    v1.refresh_from_db()
    assert (flow.live_version_id, v1.status) == (draft.pk, FlowVersion.Status.RETIRED)
    assert draft.number == 2
    assert FlowVersion.objects.get(pk=draft.pk).flow_settings == {
        "languages": ["en"],
        "fallback_queue": "support",
    }
    assert v1.flow_settings == {"languages": ["en"], "fallback_queue": "sales"}


def test_published_versions_cannot_change_or_be_published_again():
    flow = make_flow(MENU_FLOW)
    node = FlowNode.objects.get(version=flow.live_version, key="sales")

    with pytest.raises(Conflict):
        services.node_config_save(node=node, config={"queue": "billing"})
    with pytest.raises(Conflict):
        services.flow_version_publish(actor=None, version=flow.live_version)

    node.refresh_from_db()
    assert node.config == {"queue": "sales", "prompt": "hold"}


def test_restoring_a_retired_version_copies_it_into_a_new_draft_that_can_go_live():
    flow = make_flow(MENU_FLOW)
    v1 = flow.live_version
    v2 = services.flow_version_create_draft(actor=None, flow=flow, source=v1)
    FlowNode.objects.filter(version=v2, key="sales").update(config={"queue": "support"})
    services.flow_version_publish(actor=None, version=v2)

    restored = services.flow_version_restore(actor=None, version=v1)
    services.flow_version_publish(actor=None, version=restored)

    flow.refresh_from_db()
    assert (restored.number, restored.restored_from_id) == (3, v1.pk)
    assert flow.live_version_id == restored.pk
    assert FlowNode.objects.get(version=restored, key="sales").config == {
        "queue": "sales",
        "prompt": "hold",
    }
    assert sorted(FlowNode.objects.filter(version=restored).values_list("key", flat=True)) == [
        "billing",
        "bye",
        "sales",
        "start",
    ]
