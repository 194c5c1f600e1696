"""Replaying what FreeSWITCH 1.10.12 really sends (shared/fixtures/httapi) to /freeswitch/httapi/.

The captured requests are sent with their exact headers and bodies; a whole call is then driven
request by request, each document checked before FreeSWITCH's behaviour (as emulated from the
same captures) produces the next request.
"""

from __future__ import annotations

import pytest

from apps.ivr.documents import INPUT_NAME, STATE_PARAM
from apps.ivr.engine import MENU_BIND
from apps.ivr.models import IvrPath, IvrStep
from tests.ivr.conftest import (
    DID,
    MENU_FLOW,
    auth_header,
    call,
    load_capture,
    make_flow,
    parse,
    variables_of,
    work_tags,
)

pytestmark = pytest.mark.django_db


def _send_captured(client, record: dict, *, authorization: str | None):
    """Send a captured request byte for byte (method, path, query or body, headers)."""
    headers = dict(record["headers"])
    extra = {
        "HTTP_USER_AGENT": headers["User-Agent"],
        "HTTP_ACCEPT": headers["Accept"],
        "HTTP_COOKIE": headers["Cookie"],
    }
    if authorization:
        extra["HTTP_AUTHORIZATION"] = authorization
    if record["method"] == "POST":
        return client.generic(
            "POST",
            "/freeswitch/httapi/",
            data=record["raw_body"].encode(),
            content_type=headers["Content-Type"],
            **extra,
        )
    return client.generic("GET", "/freeswitch/httapi/?" + record["query_string"], **extra)


@pytest.mark.parametrize("capture", ["1_ivr_post", "2_ivr_get", "4_ivr_post_extended"])
def test_the_captured_first_request_starts_the_flow_of_the_dialled_number(client, capture):
    # Given the flow answers the number the captured call dialled (5508 / 5509 / 5521)
    record = load_capture(capture)[0]
    dialled = dict(record["fields"])["Caller-Destination-Number"]
    make_flow(MENU_FLOW, did=dialled)

    # When FreeSWITCH's very first request arrives as captured (GET query or POST body)
    response = _send_captured(client, record, authorization=auth_header())

    # Then the answer is a text/xml work document playing the menu and binding any single key
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    tags = work_tags(response.content)
    assert [name for name, _attrs in tags] == ["playback"]
    assert tags[0][1]["name"] == INPUT_NAME
    assert tags[0][1]["binds"] == MENU_BIND
    assert tags[0][1]["input-timeout"] == "4000"
    assert parse(response.content).find("params").find(STATE_PARAM).text
    path = IvrPath.objects.get(call_uuid=record["session_id"])
    assert path.did == dialled
    assert path.caller_number == "5551000"
    assert variables_of(response.content) == {"cc_language": "en", "cc_ivr_path": str(path.pk)}


def test_a_number_without_a_flow_gets_break_so_the_dialplan_continues(client):
    record = load_capture("1_ivr_post")[0]

    response = _send_captured(client, record, authorization=auth_header())

    assert response.status_code == 200
    assert [name for name, _attrs in work_tags(response.content)] == ["break"]
    assert not IvrPath.objects.exists()


@pytest.mark.parametrize(
    ("authorization", "address", "status"),
    [
        (None, "127.0.0.1", 401),
        ("Basic " + "d3Jvbmc6d3Jvbmc=", "127.0.0.1", 401),  # wrong:wrong
        ("valid", "192.0.2.2", 403),
        ("valid", "127.0.0.1", 200),
    ],
)
def test_only_freeswitch_with_its_credentials_and_address_is_answered(
    client, authorization, address, status
):
    make_flow(MENU_FLOW, did="5508")
    record = load_capture("1_ivr_post")[0]
    headers = {"HTTP_AUTHORIZATION": auth_header() if authorization == "valid" else authorization}
    headers = {key: value for key, value in headers.items() if value}

    response = client.generic(
        "POST",
        "/freeswitch/httapi/",
        data=record["raw_body"].encode(),
        content_type="application/x-www-form-urlencoded",
        REMOTE_ADDR=address,
        **headers,
    )

    assert response.status_code == status
    assert IvrPath.objects.exists() is (status == 200)


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_a_whole_call_step_by_step_ends_in_the_chosen_queue(fs_http, method):
    # Given the menu flow on the number
    make_flow(MENU_FLOW)

    # When the caller presses 2 at the menu
    turns, final, session = call(fs_http, ["2"], method=method)

    # Then: request 1 (no state) -> the menu; request 2 carries the key once -> the queue
    first, second, exiting = turns
    assert first.request.method == method
    assert "cc_state" not in first.request.field_map
    assert first.request.field_map["cc_did"] == DID
    assert second.request.field_map[INPUT_NAME] == "2"
    assert second.request.field_map["input_type"] == "dtmf"
    assert [name for name, _ in work_tags(second.body)] == ["break"]
    assert variables_of(second.body) == {
        "cc_language": "en",
        "cc_ivr_path": variables_of(first.body)["cc_ivr_path"],
        "cc_queue": "billing",
        "cc_priority": "7",
        "cc_skills": "billing",
    }
    # FreeSWITCH set the channel variables the dialplan and telephony read, and left httapi
    assert final.end == "break"
    assert session.channel_variables["cc_queue"] == "billing"
    # The digits were sent once: the exiting request does not repeat them
    assert INPUT_NAME not in exiting.request.field_map
    assert exiting.request.field_map["exiting"] == "true"
    path = IvrPath.objects.get()
    assert (path.outcome, path.last_node, path.queue) == ("queued", "billing", "billing")
    assert list(IvrStep.objects.filter(path=path).values_list("node", "event", "detail")) == [
        ("start", "enter", ""),
        ("start", "input", "2"),
        ("billing", "enter", ""),
        ("billing", "exit", "queued"),
    ]


def test_the_exiting_request_marks_a_caller_who_hung_up_at_the_menu_as_abandoned(fs_http):
    make_flow(MENU_FLOW)

    turns, final, _session = call(fs_http, ["hangup"])

    assert final.end == "hangup"
    assert turns[-1].request.field_map["exiting"] == "true"
    path = IvrPath.objects.get()
    assert (path.outcome, path.last_node) == ("abandoned", "start")
    assert path.ended_at is not None
    assert IvrStep.objects.filter(path=path).last().event == "hangup"


def test_the_exiting_request_after_a_queue_changes_nothing(fs_http):
    make_flow(MENU_FLOW)

    call(fs_http, ["1"])

    path = IvrPath.objects.get()
    assert path.outcome == "queued"
    assert not IvrStep.objects.filter(path=path, event="hangup").exists()


def test_an_unexpected_error_still_answers_a_document_that_lets_the_dialplan_go_on(
    client, monkeypatch
):
    # Given the engine breaks (a bug, the database gone)
    def broken(step, effects):
        raise RuntimeError("boom")

    monkeypatch.setattr("apps.ivr.views.httapi_step", broken)
    record = load_capture("1_ivr_post")[0]

    response = _send_captured(client, record, authorization=auth_header())

    # Then FreeSWITCH gets 200 text/xml with <break/>: httapi ends, the dialplan parks the caller
    assert (response.status_code, response["Content-Type"]) == (200, "text/xml; charset=utf-8")
    assert [name for name, _attrs in work_tags(response.content)] == ["break"]


def test_the_suite_only_answers_tags_the_httapi_profile_allows_without_execute(fs_http):
    # The profile allows few applications (freeswitch_conf httapi.conf.xml): the IVR sets its
    # results through <variables>, never <execute set>, and never dials or answers from httapi.
    make_flow(MENU_FLOW)
    allowed = {"playback", "speak", "pause", "record", "break", "hangup", "log"}

    for inputs in (["1"], ["", "9", "2"], ["", ""]):
        turns, _final, _session = call(fs_http, inputs)
        for turn in turns[:-1]:
            assert {name for name, _attrs in work_tags(turn.body)} <= allowed
