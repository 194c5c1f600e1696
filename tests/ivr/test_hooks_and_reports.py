"""The dialplan hook, signed prompt recordings, the abandon report API, the screen-pop summary,
business hours and language through the tester, and the demo flow."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.ivr import demo
from apps.ivr.dialplan import httapi_entry_for_did
from apps.ivr.fs_emulator import short_wav
from apps.ivr.models import IvrPath, IvrStep, Prompt, PromptVariant
from apps.ivr.prompts import prompt_url, prompts_resolve
from apps.ivr.selectors import ivr_path_summary
from apps.ivr.services import prompt_variant_render
from apps.ivr.tester import flow_test_run
from apps.routing.models import BusinessHours
from tests.ivr.conftest import DID, MENU_FLOW, auth_header, call, make_flow, parse, work_tags

pytestmark = pytest.mark.django_db


def test_the_dialplan_hook_gives_the_httapi_entry_of_a_number_with_a_live_flow():
    make_flow(MENU_FLOW, fallback_queue="sales")

    url = "${suite_base_url}/freeswitch/httapi/"
    assert httapi_entry_for_did("+" + DID) == {
        "application": "httapi",
        "data": "{httapi_profile=default,cc_did=4001234567,url=" + url + "}",
        "params": {"httapi_profile": "default", "cc_did": "4001234567", "url": url},
        "flow": "Test flow",
        "language": "en",
        "fallback_queue": "sales",
    }
    assert httapi_entry_for_did("999") is None


def test_telephonys_dialplan_puts_the_ivr_before_the_safe_destination(client):
    # Given the flow on the number, and FreeSWITCH asking mod_xml_curl's dialplan question
    make_flow(MENU_FLOW, fallback_queue="sales")
    fields = {
        "section": "dialplan",
        "Caller-Destination-Number": DID,
        "Caller-Context": "public",
        "Hunt-Context": "public",
    }

    response = client.post("/freeswitch/xml/dialplan/", fields, HTTP_AUTHORIZATION=auth_header())

    # Then: default queue, language, answer, httapi to the suite, and park after it
    actions = [
        (a.get("application"), a.get("data")) for a in parse(response.content).iter("action")
    ]
    assert actions == [
        ("set", "cc_did=4001234567"),
        ("set", "cc_queue=sales"),
        ("set", "cc_language=en"),
        ("answer", None),
        ("httapi", "{url=${suite_base_url}/freeswitch/httapi/}"),
        ("park", None),
    ]


def test_a_number_whose_flow_has_no_live_version_gets_no_ivr():
    make_flow(MENU_FLOW, publish=False)

    assert httapi_entry_for_did(DID) is None


def _recorded_prompt() -> PromptVariant:
    prompt = Prompt.objects.create(name="welcome")
    variant = PromptVariant.objects.create(
        prompt=prompt, language="en", upload=SimpleUploadedFile("w.wav", short_wav(200))
    )
    return prompt_variant_render(variant=variant)


def test_a_recorded_prompt_is_played_from_its_signed_url(client):
    variant = _recorded_prompt()
    url = prompt_url(prompts_resolve(["welcome"], "en", "en")["welcome"], "http://testserver")

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert b"".join(response.streaming_content) == variant.audio_8k.open("rb").read()
    assert client.get(url.replace(".wav", "x.wav")).status_code == 404  # bad signature
    assert client.get(url, REMOTE_ADDR="192.0.2.9").status_code == 404  # not FreeSWITCH


def test_the_menu_plays_the_recording_url(fs_http):
    _recorded_prompt()
    make_flow(
        {"start": ("play", {"prompt": "welcome", "next": "q"}), "q": ("queue", {"queue": "sales"})},
        prompts=False,
    )

    turns, _final, _session = call(fs_http, [])

    file = work_tags(turns[0].body)[0][1]["file"]
    assert file.startswith("http://testserver/freeswitch/httapi/prompts/")
    assert file.endswith(".wav")


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("agent", 403),
        ("crm", 403),
        ("qa", 200),
        ("supervisor", 200),
        ("admin", 200),
    ],
)
def test_the_abandon_report_api_is_for_supervisors_qa_and_admins(cast, client_as, who, status):
    flow = make_flow(MENU_FLOW)
    IvrPath.objects.create(
        call_uuid="a", flow=flow, started_at=timezone.now(), outcome="abandoned", last_node="start"
    )
    IvrPath.objects.create(
        call_uuid="b", flow=flow, started_at=timezone.now(), outcome="queued", last_node="sales"
    )
    user = {
        "anonymous": None,
        "agent": cast.agent_a1.user,
        "crm": cast.crm,
        "qa": cast.qa,
        "supervisor": cast.supervisor_a,
        "admin": cast.admin,
    }[who]

    response = client_as(user).get("/api/v1/ivr/reports/abandon-points/")

    assert response.status_code == status
    if status == 200:
        assert response.json()["results"] == [
            {
                "flow_id": flow.pk,
                "flow": "Test flow",
                "node": "start",
                "abandoned": 1,
                "calls": 2,
                "share": 0.5,
            }
        ]


def test_the_screen_pop_summary_shows_the_path_of_a_call(fs_http):
    make_flow(MENU_FLOW)
    _turns, _final, session = call(fs_http, ["9", "1"])
    path = IvrPath.objects.get()

    summary = ivr_path_summary(path_ref=str(path.pk))

    assert summary == ivr_path_summary(path_ref=session.session_id)
    assert (summary["flow"], summary["outcome"], summary["queue"], summary["choices"]) == (
        "Test flow",
        "queued",
        "sales",
        ["1"],
    )
    assert [step["event"] for step in summary["steps"]] == [
        "enter",
        "invalid",
        "input",
        "enter",
        "exit",
    ]
    assert ivr_path_summary(path_ref="unknown") is None


HOURS_FLOW = {
    "start": (
        "hours",
        {
            "schedule": "office",
            "next_open": "open",
            "next_closed": "closed",
            "next_holiday": "holiday",
        },
    ),
    "open": ("queue", {"queue": "sales"}),
    "closed": ("voicemail", {"prompt": "closed", "next": "bye"}),
    "holiday": ("hangup", {"prompt": "holiday"}),
    "bye": ("hangup", {}),
}


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (dt.datetime(2026, 11, 23, 1, 30, tzinfo=dt.UTC), "open"),  # Mon 09:30 in Shanghai
        (dt.datetime(2026, 11, 23, 10, 30, tzinfo=dt.UTC), "closed"),  # Mon 18:30 in Shanghai
        (dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC), "closed"),  # Saturday
        (dt.datetime(2026, 12, 31, 17, 0, tzinfo=dt.UTC), "holiday"),  # 1 Jan 01:00 in Shanghai
    ],
)
def test_business_hours_and_holidays_in_the_schedule_time_zone(when, expected):
    calendar = BusinessHours.objects.create(name="office", timezone="Asia/Shanghai")
    for weekday in range(5):
        calendar.intervals.create(weekday=weekday, opens=dt.time(9), closes=dt.time(12))
        calendar.intervals.create(weekday=weekday, opens=dt.time(13), closes=dt.time(18))
    calendar.holidays.create(date=dt.date(2027, 1, 1), name="New Year")
    flow = make_flow(HOURS_FLOW)

    run = flow_test_run(
        version_id=flow.live_version_id,
        caller_number="13800138000",
        when=when,
        inputs=["hangup"],
        did=DID,
    )

    assert [e.node for e in run.events if e.event == "enter"][1] == expected


def test_the_language_choice_switches_the_prompts_and_cc_language():
    flow = make_flow(
        {
            "start": (
                "language",
                {"prompt": "choose", "options": {"1": "zh-hans", "2": "en"}, "next": "menu"},
            ),
            "menu": ("menu", {"prompt": "main", "options": {"1": "q"}, "on_failure": "q"}),
            "q": ("queue", {"queue": "sales"}),
        },
        default_language="zh-hans",
        languages=("zh-hans", "en"),
    )

    run = flow_test_run(
        version_id=flow.live_version_id,
        caller_number="1",
        when=timezone.now(),
        inputs=["2", "1"],
        did=DID,
    )

    assert [(p.name, p.language) for p in run.prompts] == [("choose", "zh-hans"), ("main", "en")]
    assert run.channel_variables["cc_language"] == "en"


def test_the_demo_seeds_a_live_flow_that_routes_by_language_and_department():
    first = demo.seed()
    again = demo.seed()

    assert first[-1] == again[-1]
    flow = demo.Flow.objects.get(name=demo.DEMO_FLOW)
    assert flow.live_version.number == 1
    for keys, queue, language in (
        (["1", "2"], "after_sales", "zh-hans"),
        (["2", "3"], "billing", "en"),
        (["2", "1"], "sales", "en"),
    ):
        run = flow_test_run(
            version_id=flow.live_version_id,
            caller_number="13800138000",
            when=timezone.now(),
            inputs=keys,
            did=demo.DEMO_DID,
        )
        assert (
            run.outcome,
            run.channel_variables["cc_queue"],
            run.channel_variables["cc_language"],
        ) == ("queued", queue, language)
    assert not IvrStep.objects.exists()
