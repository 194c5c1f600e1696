"""The call's state travels signed with the call: tampering, replay on another call, expiry,
the per-call document budget, the step limit and versions changing under a running call."""

from __future__ import annotations

import json

import pytest
from django.core import signing

from apps.ivr import services
from apps.ivr.documents import STATE_PARAM
from apps.ivr.engine import STATE_SALT, state_load
from apps.ivr.fs_emulator import CallerScript
from apps.ivr.models import FlowNode, IvrPath, IvrStep
from tests.ivr.conftest import MENU_FLOW, call, make_flow, new_session, variables_of, work_tags

pytestmark = pytest.mark.django_db


def _first_turn(fs_http, **kwargs):
    session = new_session(**kwargs)
    request = session.next_request()
    status, content_type, body = fs_http(request)
    session.handle_response(
        status=status, content_type=content_type, body=body, script=CallerScript(["1"])
    )
    return session


def _send_with_state(fs_http, session, token: str):
    session.params[STATE_PARAM] = token
    return fs_http(session.next_request())


def test_a_tampered_state_is_refused_and_the_caller_goes_to_the_safe_destination(fs_http):
    make_flow(MENU_FLOW)
    session = _first_turn(fs_http)
    token = session.params[STATE_PARAM]
    payload = signing.loads(token, salt=STATE_SALT)
    steps_before = IvrStep.objects.count()
    # The caller (or anyone between) rewrites the state: claim the billing node already chosen
    forged = signing.dumps({**payload, "n": "billing"}, salt="guessed-salt")
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")

    for bad in (forged, tampered, "not-a-token"):
        status, content_type, body = _send_with_state(fs_http, session, bad)

        assert (status, content_type) == (200, "text/xml; charset=utf-8")
        assert [name for name, _ in work_tags(body)] == ["break"]
        assert variables_of(body) == {}
    assert IvrStep.objects.count() == steps_before
    assert IvrPath.objects.get().outcome == "in_progress"


def test_a_state_from_another_call_is_refused(fs_http):
    make_flow(MENU_FLOW)
    session = _first_turn(fs_http)
    other = new_session()
    other.session_id = "00000000-0000-0000-0000-000000000000"

    status, _content_type, body = _send_with_state(fs_http, other, session.params[STATE_PARAM])

    assert status == 200
    assert [name for name, _ in work_tags(body)] == ["break"]
    with pytest.raises(Exception, match="another call"):
        state_load(session.params[STATE_PARAM], other.session_id)


def test_an_expired_state_is_refused(fs_http, settings):
    make_flow(MENU_FLOW)
    session = _first_turn(fs_http)
    settings.IVR_STATE_MAX_AGE = -1

    _status, _content_type, body = _send_with_state(fs_http, session, session.params[STATE_PARAM])

    assert [name for name, _ in work_tags(body)] == ["break"]


def test_the_call_is_parked_before_the_1_mib_budget_can_run_out(fs_http, settings):
    # Given a tiny budget standing for the 1 MiB one, and a caller who never answers
    settings.IVR_DOCUMENT_BUDGET = 4000
    settings.IVR_BUDGET_RESERVE = 1000
    make_flow(
        {**MENU_FLOW, "start": ("menu", {**MENU_FLOW["start"][1], "retries": 5})},
        fallback_queue="support",
    )

    turns, final, session = call(fs_http, [""] * 6)

    # Then every document fitted, and the last one parked the caller in the fallback queue
    assert session.received_bytes - len(turns[-1].body) <= 4000
    assert final.end == "break"
    assert variables_of(turns[-2].body)["cc_queue"] == "support"
    assert IvrPath.objects.get().outcome == "fallback"
    assert IvrStep.objects.filter(event="error", detail="document budget").exists()


def test_the_budget_in_the_state_counts_every_document_sent(fs_http):
    make_flow(MENU_FLOW)

    turns, _final, session = call(fs_http, ["", "", ""])

    last_state = state_load(turns[-2].request.field_map[STATE_PARAM], session.session_id)
    sent_before_last = sum(len(turn.body) for turn in turns[:-2])
    assert last_state.budget == sent_before_last


def test_a_call_stops_after_the_step_limit(fs_http, settings):
    settings.IVR_MAX_STEPS = 2
    make_flow({**MENU_FLOW, "start": ("menu", {**MENU_FLOW["start"][1], "retries": 5})})

    turns, final, _session = call(fs_http, ["", "", "", ""])

    assert final.end == "break"
    # The first document, two more steps, then the limit parks the caller; and exiting
    assert len(turns) == 5
    assert IvrPath.objects.get().outcome == "fallback"


def test_a_call_in_progress_keeps_its_version_after_a_new_one_is_published(fs_http):
    # Given a call waiting at the menu of version 1
    flow = make_flow(MENU_FLOW)
    session = _first_turn(fs_http)
    v1 = flow.live_version

    # When version 2 (billing -> support) goes live
    draft = services.flow_version_create_draft(actor=None, flow=flow, source=v1)
    FlowNode.objects.filter(version=draft, key="billing").update(config={"queue": "support"})
    services.flow_version_publish(actor=None, version=draft)

    # Then the running call still gets version 1's billing queue, a new call version 2's
    session._one_time("cc_input", "2")
    session._one_time("input_type", "dtmf")
    _status, _ct, body = fs_http(session.next_request())
    assert variables_of(body)["cc_queue"] == "billing"
    turns, _final, _new = call(fs_http, ["2"], capture="2_ivr_get")
    assert variables_of(turns[1].body)["cc_queue"] == "support"
    paths = dict(IvrPath.objects.values_list("version__number", "queue"))
    assert paths == {1: "billing", 2: "support"}


def test_collected_digits_travel_encrypted_in_the_state(fs_http):
    # Given a flow that collects an order number, then plays a message before asking again
    make_flow(
        {
            "start": (
                "collect",
                {
                    "prompt": "order",
                    "variable": "order_number",
                    "min_length": 10,
                    "max_length": 10,
                    "next": "menu",
                    "on_failure": "menu",
                },
            ),
            "menu": ("menu", {"prompt": "main", "options": {"1": "q"}, "on_failure": "q"}),
            "q": ("queue", {"queue": "sales"}),
        }
    )

    turns, _final, session = call(fs_http, ["1234567890#", "1"])

    # The token FreeSWITCH carries is signed and readable base64, but the digits are not in it
    token = turns[2].request.field_map[STATE_PARAM]
    payload = signing.loads(token, salt=STATE_SALT)
    assert "1234567890" not in json.dumps(payload)
    assert state_load(token, session.session_id).vars == {"order_number": "1234567890"}
    # The caller and the number are taken from FreeSWITCH's own fields, not from the token
    assert "5551000" not in json.dumps(payload)
