"""The mod_httapi emulation reproduces the captured FreeSWITCH behaviour request by request.

The tester, the bench and the simulator trust this emulation, so it is checked against the
captures: fed the documents the fixture server answered and the caller's keys, it must produce
the very requests FreeSWITCH sent next (same fields, same order, same values) and end where
FreeSWITCH ended.
"""

from __future__ import annotations

import pytest

from apps.ivr.fs_emulator import (
    Bind,
    CallerScript,
    HttapiProfile,
    HttapiSession,
    dmachine_collect,
    fs_form_encode,
    parse_app_data,
)
from tests.ivr.conftest import load_capture

FIXTURE_PROFILE = HttapiProfile(
    name="fx_post",
    url="http://127.0.0.1:8090/ivr",
    method="POST",
    app_list=frozenset({"info", "hangup", "set", "log"}),
    dial=True,
)


def _session_for(capture: str, method: str = "POST") -> tuple[HttapiSession, list[dict]]:
    records = load_capture(capture)
    first = dict(records[0]["fields"])
    profile = HttapiProfile(
        **{**FIXTURE_PROFILE.__dict__, "name": first["httapi_profile"], "method": method}
    )
    session = HttapiSession(
        session_id=first["session_id"],
        caller=[(k, v) for k, v in records[0]["fields"] if k.startswith("Caller-")],
        app_data=f"{{httapi_profile={first['httapi_profile']},url={first['url']}}}",
        profile=profile,
        hostname=first["hostname"],
    )
    return session, records


@pytest.mark.parametrize(("capture", "method"), [("1_ivr_post", "POST"), ("2_ivr_get", "GET")])
def test_the_main_call_is_reproduced_request_by_request(capture, method):
    # Given the captured call: keys 1 2 # at the first menu, then 2
    session, records = _session_for(capture, method)
    script = CallerScript(inputs=["12#", "2"])

    produced = []
    for record in records[:-1]:
        request = session.next_request()
        produced.append(request)
        answered = record["answered"]
        result = session.handle_response(
            status=answered["status"],
            content_type=answered["content_type"],
            body=answered["body"].encode(),
            script=script,
        )
    exiting = session.exiting_request()
    produced.append(exiting)

    # Then each request equals the captured one: fields, their order, and the encoded body
    for request, record in zip(produced, records, strict=True):
        assert request.fields == [tuple(pair) for pair in record["fields"]]
        assert request.url.endswith(record["path"])
        assert request.method == method
        encoded = record["raw_body"] if method == "POST" else record["query_string"]
        assert request.encoded() == encoded
    # The document hung up the call and set the variables FreeSWITCH set
    assert result.end == "hangup"
    assert session.channel_variables == {"fx_httapi_menu": "main", "fx_httapi_result": "choice-2"}


@pytest.mark.parametrize(
    ("capture", "end", "reason_start"),
    [
        ("e0_http_500", "error", "Received HTTP response: 500."),
        ("e3_not_xml", "error", "No instructions found in result!"),
        ("e4_wrong_content_type", "error", "Received unsupported content-type text/html"),
        ("e5_unsupported_tag_getDigits", "error", "Unsupported Tag: [getDigits]"),
        ("e6_execute_not_permitted", "hangup", "Permission Denied!"),
        ("e7_answer_tag", "break", "answer ends the application"),
        ("e8_no_work_tag", "error", "No instructions found in result!"),
        ("e9_empty_body", "error", "No instructions found in result!"),
    ],
)
def test_error_answers_end_the_application_as_freeswitch_did(capture, end, reason_start):
    session, records = _session_for(capture)
    result = None
    for record in records[:-1]:
        session.next_request()
        answered = record["answered"]
        body = answered["body"].encode()
        result = session.handle_response(
            status=answered["status"],
            content_type=answered["content_type"],
            body=body,
            script=CallerScript(),
        )
    exiting = session.exiting_request()

    assert result is not None
    assert (result.end, result.reason) == (end, reason_start)
    # The final request always carries exiting=true (and a param set by a <work>-less document)
    assert exiting.fields == [tuple(pair) for pair in records[-1]["fields"]]
    if capture == "e6_execute_not_permitted":
        assert result.hangup_cause == "DESTINATION_OUT_OF_ORDER"


def test_the_1_mib_budget_is_cumulative_over_the_call():
    session, _records = _session_for("e11_cumulative_1MiB_limit")
    document = b'<document type="xml/freeswitch-httapi"><work><pause milliseconds="200"/></work>'
    document += b"<!--" + b"x" * (121389 - len(document) - 18) + b"--></document>"
    assert len(document) == 121389

    ends = []
    for _ in range(9):
        session.next_request()
        ends.append(
            session.handle_response(
                status=200, content_type="text/xml", body=document, script=CallerScript()
            ).end
        )

    assert ends == ["next"] * 8 + ["error"]
    assert session.received_bytes == 9 * 121389


def test_a_truncated_document_runs_what_was_parsed():
    session, records = _session_for("e2_malformed_truncated")
    session.next_request()
    answered = records[0]["answered"]

    result = session.handle_response(
        status=200, content_type="text/xml", body=answered["body"].encode(), script=CallerScript()
    )

    assert result.end == "next"
    assert [(a.tag, a.detail) for a in result.actions] == [
        ("playback", "tone_stream://%(500,0,600)"),
        ("log", ""),
    ]


def test_no_input_without_error_file_sends_no_digit_field_and_plays_loops_plus_one():
    session, records = _session_for("n1_no_input_no_error_file")
    session.next_request()
    answered = records[0]["answered"]

    result = session.handle_response(
        status=200,
        content_type="text/xml",
        body=answered["body"].encode(),
        script=CallerScript([""]),
    )
    request = session.next_request()

    assert [a.tag for a in result.actions] == ["playback", "playback"]
    assert request.fields == [tuple(pair) for pair in records[1]["fields"]]


def test_a_key_no_bind_can_match_is_rejected_at_once_and_posted_invalid_with_error_file():
    session, records = _session_for("n2_no_match_with_error_file")
    session.next_request()
    answered = records[0]["answered"]

    result = session.handle_response(
        status=200,
        content_type="text/xml",
        body=answered["body"].encode(),
        script=CallerScript(["1"]),
    )
    request = session.next_request()

    assert [a.detail for a in result.actions] == [
        "tone_stream://%(500,500,440);loops=2",
        "tone_stream://%(100,100,300);loops=2",
    ]
    assert request.fields == [tuple(pair) for pair in records[1]["fields"]]


@pytest.mark.parametrize(
    ("binds", "typed", "terminators", "expected"),
    [
        (["~^[0-9*#]$"], "7", "", ("~^[0-9*#]$", "7")),
        (["~^[0-9*#]$"], "", "", None),
        (["1", "2"], "2", "", ("2", "2")),
        (["1", "2"], "5", "", None),  # can never match: rejected at once
        (["1", "12"], "1", "", ("1", "1")),  # both: the digit timeout decides for the exact one
        (["~\\d{1,4}#"], "12#", "", ("~\\d{1,4}#", "12#")),
        (["~^[0-9*]+#$", "~^[0-9*]+$"], "1234#", "#", ("~^[0-9*]+#$", "1234")),
        (["~^[0-9*]+#$", "~^[0-9*]+$"], "1234", "#", ("~^[0-9*]+$", "1234")),
        (["~^[0-9*]+#$", "~^[0-9*]+$"], "#", "#", None),
    ],
)
def test_the_digit_machine_matches_like_switch_ivr_dmachine(binds, typed, terminators, expected):
    result = dmachine_collect([Bind(b) for b in binds], typed, terminators)

    assert (None if result is None else (result[0].pattern, result[1])) == expected


def test_app_data_params_and_freeswitch_url_encoding():
    assert parse_app_data("{httapi_profile=default,cc_did=4001234567}") == {
        "httapi_profile": "default",
        "cc_did": "4001234567",
    }
    assert fs_form_encode([("url", "http://127.0.0.1:8090/ivr"), ("n", "fx caller@x")]) == (
        "url=http%3A//127.0.0.1%3A8090/ivr&n=fx%20caller%40x"
    )
