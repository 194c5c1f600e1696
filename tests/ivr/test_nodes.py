"""Every node kind, driven through /freeswitch/httapi/ as FreeSWITCH would drive it."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from apps.ivr.documents import INPUT_NAME, VOICEMAIL_NAME
from apps.ivr.engine import COLLECT_BINDS, MENU_BIND
from apps.ivr.models import CallbackRequest, IvrPath, IvrStep, Voicemail
from tests.ivr.conftest import MENU_FLOW, call, make_flow, variables_of, work_tags

pytestmark = pytest.mark.django_db


def _steps(*events: str) -> list[tuple[str, str, str]]:
    return list(IvrStep.objects.order_by("seq").values_list("node", "event", "detail"))


def test_play_steps_run_in_the_same_document_as_the_next_wait(fs_http):
    make_flow(
        {
            "start": ("play", {"prompt": "welcome", "next": "menu"}),
            "menu": ("menu", {"prompt": "main", "options": {"1": "q"}, "on_failure": "q"}),
            "q": ("queue", {"queue": "sales"}),
        }
    )

    turns, _final, _session = call(fs_http, ["1"])

    tags = work_tags(turns[0].body)
    assert [name for name, _ in tags] == ["playback", "playback"]
    assert "name" not in tags[0][1]
    assert "binds" not in tags[0][1]
    assert tags[1][1]["binds"] == MENU_BIND
    assert len(turns) == 3  # menu, queue, exiting: no request for the play step


def test_menu_timeout_replays_the_menu_after_the_timeout_prompt(fs_http):
    make_flow(MENU_FLOW)

    turns, _final, _session = call(fs_http, ["", "1"])

    # The timeout sent no input field at all; the answer plays "silence" then the menu again
    assert INPUT_NAME not in turns[1].request.field_map
    assert [(name, attrs.get("binds")) for name, attrs in work_tags(turns[1].body)] == [
        ("playback", None),
        ("playback", MENU_BIND),
    ]
    assert variables_of(turns[2].body)["cc_queue"] == "sales"
    assert ("start", "timeout", "") in _steps()


def test_an_invalid_key_is_told_apart_from_silence(fs_http):
    make_flow(MENU_FLOW)

    turns, _final, _session = call(fs_http, ["9", "2"])

    assert turns[1].request.field_map[INPUT_NAME] == "9"
    assert ("start", "invalid", "9") in _steps()
    assert variables_of(turns[2].body)["cc_queue"] == "billing"


def test_retries_spent_take_the_failure_branch(fs_http):
    make_flow(MENU_FLOW)  # retries=1: one replay, then on_failure -> bye (hang up)

    turns, final, _session = call(fs_http, ["", ""])

    assert final.end == "hangup"
    assert work_tags(turns[2].body)[-1] == ("hangup", {"cause": "NORMAL_CLEARING"})
    assert ("start", "failed", "timeout") in _steps()
    assert IvrPath.objects.get().outcome == "hung_up"


ORDER_FLOW = {
    "start": (
        "collect",
        {
            "prompt": "order",
            "variable": "order_number",
            "min_length": 10,
            "max_length": 10,
            "pattern": "[1-9][0-9]{9}",
            "next": "q",
            "on_failure": "q",
            "retries": 2,
            "invalid_prompt": "invalid",
        },
    ),
    "q": ("queue", {"queue": "support"}),
}


def test_collect_binds_any_digits_with_hash_as_terminator(fs_http):
    make_flow(ORDER_FLOW)

    turns, _final, _session = call(fs_http, ["1234567890#"])

    tags = work_tags(turns[0].body)
    assert tags[0][1]["binds"] == "|".join(COLLECT_BINDS)
    assert tags[0][1]["terminators"] == "#"
    assert turns[1].request.field_map[INPUT_NAME] == "1234567890"
    assert ("start", "input", "1234567890") in _steps()


@pytest.mark.parametrize("first", ["12345#", "0234567890#", "12345678901#"])
def test_collect_refuses_wrong_length_or_pattern_then_accepts(fs_http, first):
    make_flow(ORDER_FLOW)

    turns, _final, _session = call(fs_http, [first, "9876543210"])

    assert ("start", "invalid", first.rstrip("#")) in _steps()
    assert ("start", "input", "9876543210") in _steps()
    assert variables_of(turns[2].body)["cc_queue"] == "support"


def test_sensitive_digits_are_masked_in_the_path(fs_http):
    make_flow({**ORDER_FLOW, "start": ("collect", {**ORDER_FLOW["start"][1], "sensitive": True})})

    call(fs_http, ["1234567890#"])

    assert ("start", "input", "••••••••••") in _steps()


CUSTOMER_FLOW = {
    "start": ("lookup_customer", {"next_found": "vip", "next_not_found": "q"}),
    "vip": ("set", {"priority": 9, "next": "q"}),
    "q": ("queue", {"queue": "sales"}),
}


def test_a_known_caller_is_identified_with_their_tier(fs_http):
    from apps.customers.services import IdentityInput, customer_create

    customer = customer_create(
        actor=None,
        identities=[IdentityInput("phone", "13812345678")],
        name="Li Wei",
        vip_tier="gold",
    )
    make_flow(CUSTOMER_FLOW)

    turns, _final, _session = call(fs_http, [], caller_number="13812345678")

    assert variables_of(turns[0].body) == {
        "cc_language": "en",
        "cc_ivr_path": str(IvrPath.objects.get().pk),
        "cc_queue": "sales",
        "cc_priority": "9",
        "cc_tier": "gold",
        "cc_customer_id": str(customer.pk),
    }


def test_an_unknown_caller_takes_the_not_found_branch(fs_http):
    make_flow(CUSTOMER_FLOW)

    turns, _final, _session = call(fs_http, [])

    assert "cc_customer_id" not in variables_of(turns[0].body)
    assert ("start", "branch", "not found") in _steps()


class _LookupServer:
    """A loopback HTTP server standing for a CRM's lookup endpoint."""

    def __init__(self, *, status=200, body=b"{}", delay=0.0):
        self.queries: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.queries.append(parse_qs(urlsplit(self.path).query))
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/lookup"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _lookup_flow(url: str, timeout_ms: int = 1000) -> dict:
    return {
        "start": (
            "lookup_http",
            {
                "url": url,
                "timeout_ms": timeout_ms,
                "next": "q",
                "on_failure": "fallback",
                "assign": {"tier": "customer.tier", "priority": "priority", "queue": "route"},
            },
        ),
        "q": ("queue", {"queue": "sales"}),
        "fallback": ("queue", {"queue": "support"}),
    }


def test_an_external_lookup_sets_the_call_attributes(fs_http):
    answer = json.dumps({"customer": {"tier": "vip"}, "priority": 8}).encode()
    with _LookupServer(body=answer) as server:
        make_flow(_lookup_flow(server.url))
        turns, _final, _session = call(fs_http, [])

    assert server.queries[0]["caller"] == ["5551000"]
    assert server.queries[0]["did"] == ["4001234567"]
    variables = variables_of(turns[0].body)
    assert (variables["cc_tier"], variables["cc_priority"], variables["cc_queue"]) == (
        "vip",
        "8",
        "sales",
    )


@pytest.mark.parametrize(
    ("status", "body", "delay"),
    [(200, b"{}", 1.0), (500, b"{}", 0.0), (200, b"<html>", 0.0), (200, b"[1, 2]", 0.0)],
    ids=["timeout", "http-500", "not-json", "not-an-object"],
)
def test_a_failing_lookup_takes_the_fallback_branch(fs_http, status, body, delay):
    with _LookupServer(status=status, body=body, delay=delay) as server:
        make_flow(_lookup_flow(server.url, timeout_ms=300))
        turns, _final, _session = call(fs_http, [])

    assert variables_of(turns[0].body)["cc_queue"] == "support"
    assert IvrStep.objects.filter(
        node="start", event="branch", detail__startswith="failed"
    ).exists()


def test_a_lookup_that_cannot_connect_takes_the_fallback_branch(fs_http):
    with _LookupServer() as server:
        url = server.url
    make_flow(_lookup_flow(url))  # the server is gone: connection refused

    turns, _final, _session = call(fs_http, [])

    assert variables_of(turns[0].body)["cc_queue"] == "support"


def test_set_merges_skills_and_the_queue_node_adds_its_own(fs_http):
    make_flow(
        {
            "start": ("set", {"priority": 3, "skills": ["vip"], "tier": "gold", "next": "q"}),
            "q": ("queue", {"queue": "billing", "skills": ["billing"], "priority": 6}),
        }
    )

    turns, _final, _session = call(fs_http, [])

    variables = variables_of(turns[0].body)
    assert (variables["cc_priority"], variables["cc_skills"], variables["cc_tier"]) == (
        "6",
        "billing,vip",
        "gold",
    )


def test_a_callback_request_is_stored_and_the_flow_says_goodbye(fs_http):
    make_flow(
        {
            "start": (
                "callback",
                {"queue": "sales", "prompt": "callback-confirmed", "next": "bye"},
            ),
            "bye": ("hangup", {"prompt": "goodbye"}),
        }
    )

    _turns, final, _session = call(fs_http, [])

    request = CallbackRequest.objects.get()
    assert (request.number, request.queue, request.status) == ("5551000", "sales", "pending")
    assert final.end == "hangup"
    assert IvrPath.objects.get().outcome == "callback"


VOICEMAIL_FLOW = {
    "start": (
        "voicemail",
        {"prompt": "leave-message", "queue": "support", "max_seconds": 60, "next": "bye"},
    ),
    "bye": ("hangup", {"prompt": "goodbye"}),
}


def test_a_voicemail_is_recorded_and_uploaded_with_the_next_request(fs_http):
    make_flow(VOICEMAIL_FLOW)

    turns, final, _session = call(fs_http, ["#"])

    record = work_tags(turns[0].body)[-1]
    assert record[0] == "record"
    assert (record[1]["name"], record[1]["limit"], record[1]["binds"]) == (
        VOICEMAIL_NAME,
        "60",
        "#",
    )
    assert VOICEMAIL_NAME in turns[1].request.files
    voicemail = Voicemail.objects.get()
    assert (voicemail.queue, voicemail.caller_number) == ("support", "5551000")
    assert voicemail.size_bytes == len(turns[1].request.files[VOICEMAIL_NAME][1])
    assert final.end == "hangup"
    assert IvrPath.objects.get().outcome == "voicemail"


def test_a_caller_hanging_up_while_recording_still_leaves_the_voicemail(fs_http):
    make_flow(VOICEMAIL_FLOW)

    turns, final, _session = call(fs_http, ["hangup"])

    assert final.end == "hangup"
    assert VOICEMAIL_NAME in turns[-1].request.files  # attached to the exiting request
    assert Voicemail.objects.get().queue == "support"
    assert IvrPath.objects.get().outcome == "voicemail"


TRANSFERS: list[tuple[str, str]] = []


def record_transfer(*, call_uuid: str, destination: str) -> bool:
    TRANSFERS.append((call_uuid, destination))
    return True


TRANSFER_FLOW = {
    "start": ("transfer", {"number": "+861012345678", "prompt": "transferring", "on_failure": "q"}),
    "q": ("queue", {"queue": "sales"}),
}


def test_a_transfer_is_requested_and_the_caller_waits_in_httapi(fs_http, settings):
    settings.IVR_TRANSFER_HANDLER = "tests.ivr.test_nodes.record_transfer"
    settings.IVR_TRANSFER_WAIT_MS = 6000
    TRANSFERS.clear()
    make_flow(TRANSFER_FLOW)

    turns, _final, session = call(fs_http, [])

    assert [(session.session_id, "+861012345678")] == TRANSFERS
    assert [name for name, _ in work_tags(turns[0].body)] == ["playback", "pause"]
    assert work_tags(turns[0].body)[1][1] == {"milliseconds": "6000"}
    # Asked again after the pause: the transfer did not happen, the failure branch runs
    assert variables_of(turns[1].body)["cc_queue"] == "sales"
    assert ("start", "failed", "transfer did not happen") in _steps()


def test_without_a_transfer_handler_the_failure_branch_runs_at_once(fs_http, settings):
    settings.IVR_TRANSFER_HANDLER = ""
    make_flow(TRANSFER_FLOW)

    turns, _final, _session = call(fs_http, [])

    assert variables_of(turns[0].body)["cc_queue"] == "sales"
    assert ("start", "failed", "transfer unavailable") in _steps()


def test_the_default_transfer_handler_requests_a_telephony_transfer_command(fs_http, settings):
    from apps.telephony.models import CallCommand, FreeswitchNode

    FreeswitchNode.objects.create(
        name="fs-test", host="127.0.0.1", port=8021, password="x", enabled=True
    )
    make_flow(TRANSFER_FLOW)

    _turns, _final, session = call(fs_http, [])

    command = CallCommand.objects.get()
    assert (command.kind, command.params) == (
        "transfer",
        {"uuid": session.session_id, "destination": "+861012345678"},
    )


SPEECH_FLOW = {
    "start": (
        "speech",
        {
            "prompt": "how-can-we-help",
            "on_failure": "sales",
            "intents": {
                "billing": {"keywords": ["bill", "invoice", "账单"], "next": "billing"},
                "sales": {"keywords": ["buy", "price"], "next": "sales"},
            },
            "options": {"1": "sales", "2": "billing"},
        },
    ),
    "sales": ("queue", {"queue": "sales"}),
    "billing": ("queue", {"queue": "billing"}),
}


def test_speech_is_off_without_an_asr_engine_and_keys_still_work(fs_http, settings):
    settings.IVR_SPEECH_ASR_ENGINE = ""
    make_flow(SPEECH_FLOW)

    turns, _final, _session = call(fs_http, ["2"])

    assert "asr-engine" not in work_tags(turns[0].body)[0][1]
    assert variables_of(turns[1].body)["cc_queue"] == "billing"


def _flow_with_recorded_prompt(nodes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.ivr.fs_emulator import short_wav
    from apps.ivr.models import Prompt, PromptVariant
    from apps.ivr.services import prompt_variant_render

    prompt = Prompt.objects.create(name="how-can-we-help")
    variant = PromptVariant.objects.create(
        prompt=prompt, language="en", upload=SimpleUploadedFile("help.wav", short_wav(300))
    )
    prompt_variant_render(variant=variant)
    return make_flow(nodes)


def test_a_spoken_answer_is_matched_to_an_intent_by_keywords(fs_http, settings):
    settings.IVR_SPEECH_ASR_ENGINE = "unimrcp:asr"
    settings.IVR_SPEECH_ASR_GRAMMAR = "builtin:speech/transcribe"
    _flow_with_recorded_prompt(SPEECH_FLOW)

    turns, _final, _session = call(fs_http, ["say:I have a question about my invoice"])

    attributes = work_tags(turns[0].body)[0][1]
    assert (attributes["asr-engine"], attributes["asr-grammar"]) == (
        "unimrcp:asr",
        "builtin:speech/transcribe",
    )
    assert turns[1].request.field_map["input_type"] == "detected_speech"
    assert variables_of(turns[1].body)["cc_queue"] == "billing"
    assert IvrStep.objects.filter(event="input", detail__startswith="billing:").exists()


def test_an_unmatched_answer_is_invalid_and_keys_remain_the_fallback(fs_http, settings):
    settings.IVR_SPEECH_ASR_ENGINE = "unimrcp:asr"
    _flow_with_recorded_prompt(SPEECH_FLOW)

    turns, _final, _session = call(fs_http, ["say:hello there", "1"])

    assert IvrStep.objects.filter(event="invalid", detail="hello there").exists()
    assert variables_of(turns[2].body)["cc_queue"] == "sales"


def test_an_nlsml_result_is_read_for_its_words():
    from apps.ivr.engine import match_intent, speech_text

    result = (
        '<?xml version="1.0"?><result><interpretation confidence="90">'
        '<instance>x</instance><input mode="speech">我要查账单</input>'
        "</interpretation></result>"
    )

    assert speech_text(result) == "我要查账单"
    assert match_intent("我要查账单", SPEECH_FLOW["start"][1]["intents"]) == "billing"
