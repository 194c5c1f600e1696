"""Static fallbacks never leave a caller in dead air, and the documented suite answers fit them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.freeswitch_conf.support import CONF_DIR, FIXTURES, SECRETS_ENV, document, parse_file

EXAMPLES = CONF_DIR / "examples"


def _actions(extension: ET.Element) -> list[tuple[str, str]]:
    return [
        (action.get("application"), action.get("data", "")) for action in extension.iter("action")
    ]


def _context(root: ET.Element, name: str) -> ET.Element:
    context = root.find(f"./section[@name='dialplan']/context[@name='{name}']")
    assert context is not None, name
    return context


def test_only_the_public_and_default_contexts_exist_each_catching_every_number():
    root = document()
    contexts = root.findall("./section[@name='dialplan']/context")
    assert sorted(context.get("name") for context in contexts) == ["default", "public"]
    for context in contexts:
        conditions = context.findall("./extension/condition")
        assert [(c.get("field"), c.get("expression")) for c in conditions] == [
            ("destination_number", "^.*$")
        ]


def test_inbound_calls_without_the_suite_hear_a_message_then_wait_parked_with_music():
    # Given the fallback settings in the environment
    root = document(
        SECRETS_ENV
        | {
            "FREESWITCH_FALLBACK_MESSAGE": "/srv/prompts/sorry.wav",
            "FREESWITCH_FALLBACK_QUEUE": "overflow",
            "FREESWITCH_FALLBACK_HOLD_SECONDS": "240",
        }
    )
    # Then the public context answers, apologises, and parks in that queue with bounded music
    assert _actions(_context(root, "public")) == [
        ("set", "cc_fallback=suite_dialplan_unavailable"),
        ("set", "cc_queue=overflow"),
        ("answer", ""),
        ("sleep", "500"),
        ("playback", "/srv/prompts/sorry.wav"),
        ("set", "playback_timeout_sec=240"),
        ("set", "park_timeout=240:NORMAL_TEMPORARY_FAILURE"),
        ("sched_broadcast", "+0 local_stream://moh aleg"),
        ("park", ""),
    ]


def test_the_default_fallback_message_needs_no_sound_files():
    actions = _actions(_context(document(), "public"))
    assert ("playback", "tone_stream://%(400,200,480,620);loops=3") in actions


def test_agent_calls_without_the_suite_hear_the_message_and_end():
    assert _actions(_context(document(), "default")) == [
        ("set", "cc_fallback=suite_dialplan_unavailable"),
        ("answer", ""),
        ("playback", "tone_stream://%(400,200,480,620);loops=3"),
        ("hangup", "NORMAL_TEMPORARY_FAILURE"),
    ]


def test_the_static_directory_has_the_sip_domain_and_no_users():
    root = document(SECRETS_ENV | {"FREESWITCH_SIP_DOMAIN": "pbx.example.com"})
    domains = root.findall("./section[@name='directory']/domain")
    assert [domain.get("name") for domain in domains] == ["pbx.example.com"]
    assert list(root.find("./section[@name='directory']").iter("user")) == []
    dial_string = domains[0].find("./params/param[@name='dial-string']").get("value")
    assert "${sofia_contact(*/${dialed_user}@${dialed_domain})}" in dial_string


def test_the_documented_dialplan_answer_runs_httapi_then_always_parks_with_music():
    # Given the documented shape of /freeswitch/xml/dialplan/'s answer
    root = parse_file(EXAMPLES / "suite-dialplan-response.xml")
    context = root.find("./section[@name='dialplan']/context[@name='public']")
    applications = [app for app, _ in _actions(context)]
    # Then httapi (on the default profile) comes before the safe destination, which ends parked
    httapi = applications.index("httapi")
    data = dict(_actions(context))["httapi"]
    assert data.startswith("{httapi_profile=default,url=https://")
    assert data.split("url=", 1)[1].split("?", 1)[0].endswith("/freeswitch/httapi/")
    assert applications[httapi + 1 :] == ["set", "set", "sched_broadcast", "park"]
    assert "answer" in applications[:httapi]


def test_the_documented_directory_answer_has_what_freeswitch_checks_digests_with():
    root = parse_file(EXAMPLES / "suite-directory-response.xml")
    user = root.find("./section[@name='directory']/domain/groups/group/users/user")
    assert user.get("id") == "1000"
    assert [param.get("name") for param in user.iter("param")] == ["password"]
    assert user.find("./variables/variable[@name='user_context']").get("value") == "default"


def test_the_documented_answers_have_the_shape_freeswitch_accepted_in_the_fixtures():
    # Given the documents the real FreeSWITCH accepted in the xml_curl capture
    notes = (FIXTURES / "esl" / "g_xml_curl.md").read_text(encoding="utf-8")
    assert '<document type="freeswitch/xml">' in notes
    assert '<result status="not found" />' in notes
    # Then ours use the same document type and not-found form
    for name in ("suite-dialplan-response.xml", "suite-directory-response.xml"):
        assert parse_file(EXAMPLES / name).attrib == {"type": "freeswitch/xml"}
    not_found = parse_file(EXAMPLES / "suite-not-found-response.xml")
    assert not_found.find("./section[@name='result']/result").get("status") == "not found"
