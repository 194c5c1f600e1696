"""The admin: the flow tester runs the live engine, publishing and restoring, the abandon report,
prompt uploads; and who may use each view.

Who may: administrators (staff with every permission). Staff without the IVR permissions get
403; users who are not staff (supervisors, agents) are sent to the admin login.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from apps.ivr.fs_emulator import short_wav
from apps.ivr.models import FlowVersion, IvrPath, Prompt, PromptVariant
from tests.factories import UserFactory
from tests.ivr.conftest import MENU_FLOW, make_flow

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def staff_without_ivr(role_groups):
    return UserFactory(username="staff_plain", is_staff=True)


def _who(cast, staff_without_ivr, who):
    return {
        "anonymous": None,
        "agent": cast.agent_a1.user,
        "supervisor": cast.supervisor_a,
        "staff_without_ivr": staff_without_ivr,
        "admin": cast.admin,
    }[who]


MATRIX = [
    ("anonymous", 302),
    ("agent", 302),
    ("supervisor", 302),
    ("staff_without_ivr", 403),
    ("admin", 200),
]


@pytest.mark.parametrize(("who", "status"), MATRIX)
def test_the_flow_tester_is_for_administrators(cast, staff_without_ivr, who, status):
    flow = make_flow(MENU_FLOW)

    response = _client(_who(cast, staff_without_ivr, who)).get(f"/admin/ivr/flow/{flow.pk}/test/")

    assert response.status_code == status


def test_the_tester_shows_path_prompts_and_where_the_call_ends(cast):
    flow = make_flow(MENU_FLOW)
    form = {
        "version": str(flow.live_version_id),
        "caller_number": "13800138000",
        "did": "4001234567",
        "when": "2026-11-23T10:00",
        "keys": "9\n2",
    }

    response = _client(cast.admin).post(f"/admin/ivr/flow/{flow.pk}/test/", form)

    assert response.status_code == 200
    run = response.context["run"]
    assert (run.outcome, run.end) == ("queued", "break")
    assert run.channel_variables["cc_queue"] == "billing"
    assert [(e.node, e.event, e.detail) for e in run.events if e.event != "enter"] == [
        ("start", "invalid", "9"),
        ("start", "input", "2"),
        ("billing", "exit", "queued"),
    ]
    assert [(p.node, p.name, p.text) for p in run.prompts] == [
        ("start", "main", "main (en)"),
        ("start", "invalid", "invalid (en)"),
        ("start", "main", "main (en)"),
    ]
    assert b"billing" in response.content
    assert not IvrPath.objects.exists()  # the tester records nothing


def test_the_tester_runs_drafts_too(cast):
    flow = make_flow(MENU_FLOW, publish=False)
    draft = flow.versions.get()
    form = {
        "version": str(draft.pk),
        "caller_number": "13800138000",
        "did": "",
        "when": "2026-11-23T10:00",
        "keys": "-\n-",
    }

    response = _client(cast.admin).post(f"/admin/ivr/flow/{flow.pk}/test/", form)

    run = response.context["run"]
    assert (run.outcome, run.end) == ("hung_up", "hangup")
    assert [e.event for e in run.events if e.node == "start"] == [
        "enter",
        "timeout",
        "timeout",
        "failed",
    ]


@pytest.mark.parametrize(("who", "status"), MATRIX)
def test_publishing_is_for_administrators_and_refused_attempts_change_nothing(
    cast, staff_without_ivr, who, status
):
    flow = make_flow(MENU_FLOW, publish=False)
    draft = flow.versions.get()

    response = _client(_who(cast, staff_without_ivr, who)).post(
        f"/admin/ivr/flowversion/{draft.pk}/publish/"
    )

    draft.refresh_from_db()
    if status == 200:
        assert response.status_code == 302
        assert draft.status == FlowVersion.Status.PUBLISHED
    else:
        assert response.status_code == status
        assert draft.status == FlowVersion.Status.DRAFT


def test_publishing_an_invalid_draft_shows_the_problems(cast):
    flow = make_flow({**MENU_FLOW, "orphan": ("hangup", {})}, publish=False)
    draft = flow.versions.get()

    response = _client(cast.admin).post(f"/admin/ivr/flowversion/{draft.pk}/publish/", follow=True)

    assert "orphan: No caller can reach this node." in [
        str(message) for message in response.context["messages"]
    ]
    draft.refresh_from_db()
    assert draft.status == FlowVersion.Status.DRAFT


def test_restore_copies_a_version_into_a_new_draft(cast):
    flow = make_flow(MENU_FLOW)

    response = _client(cast.admin).post(f"/admin/ivr/flowversion/{flow.live_version_id}/restore/")

    draft = flow.versions.get(number=2)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/ivr/flowversion/{draft.pk}/change/"
    assert (draft.status, draft.restored_from_id) == ("draft", flow.live_version_id)


def test_a_published_version_page_is_read_only(cast):
    flow = make_flow(MENU_FLOW)
    url = f"/admin/ivr/flowversion/{flow.live_version_id}/change/"

    page = _client(cast.admin).get(url)
    post = _client(cast.admin).post(url, {"entry_node": "sales", "note": "changed"})

    assert page.status_code == 200
    assert "nodes-0-config" not in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert post.status_code == 403
    flow.live_version.refresh_from_db()
    assert (flow.live_version.entry_node, flow.live_version.note) == ("start", "")


def test_a_draft_page_lists_the_problems_to_fix(cast):
    flow = make_flow({**MENU_FLOW, "orphan": ("hangup", {})}, publish=False)

    page = _client(cast.admin).get(f"/admin/ivr/flowversion/{flow.versions.get().pk}/change/")

    assert "orphan: No caller can reach this node." in page.content.decode()
    assert 'name="nodes-0-config"' in page.content.decode()


@pytest.mark.parametrize(("who", "status"), MATRIX)
def test_where_callers_give_up_is_for_report_readers(cast, staff_without_ivr, who, status):
    flow = make_flow(MENU_FLOW)
    for index, node in enumerate(["start", "start", "billing"]):
        IvrPath.objects.create(
            call_uuid=f"c{index}",
            flow=flow,
            started_at=timezone.now(),
            outcome="abandoned",
            last_node=node,
        )

    response = _client(_who(cast, staff_without_ivr, who)).get("/admin/ivr/ivrpath/abandoned/")

    assert response.status_code == status
    if status == 200:
        assert [(row["node"], row["abandoned"]) for row in response.context["rows"]] == [
            ("start", 2),
            ("billing", 1),
        ]


def test_an_uploaded_recording_is_converted_for_freeswitch(cast):
    client = _client(cast.admin)
    data = {
        "name": "welcome",
        "description": "",
        "variants-TOTAL_FORMS": "1",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
        "variants-0-language": "en",
        "variants-0-text": "Welcome",
        "variants-0-upload": SimpleUploadedFile("welcome.wav", short_wav(400, rate=44100)),
    }

    response = client.post("/admin/ivr/prompt/add/", data)

    assert response.status_code == 302
    variant = PromptVariant.objects.get(prompt=Prompt.objects.get(name="welcome"))
    assert (variant.source, variant.duration_ms) == ("upload", 400)
    assert variant.audio_8k.name.endswith("-8000.wav")
    assert variant.audio_16k.name.endswith("-16000.wav")
