"""Secrets come only from the environment or the operator's file; without them, no start."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.freeswitch_conf.support import (
    ESL_PASSWORD,
    SECRETS_ENV,
    XML_PASSWORD,
    configuration,
    fsconf,
    params,
    pristine_conf_dir,
    render,
    tree_files,
)

ESL_REFUSAL = "FATAL_esl_password_is_empty_or_a_known_default"
HTTP_REFUSAL = "FATAL_suite_http_password_is_empty_or_a_known_default"


def _refusals(environ: dict[str, str], conf_dir=None) -> list[str]:
    try:
        fsconf().parse_rendered(render(environ, conf_dir=conf_dir))
    except fsconf().ConfigRefusedError as refused:
        return refused.markers
    return []


def _local_copy(tmp_path, secrets_xml: str):
    copy = tmp_path / "conf"
    shutil.copytree(pristine_conf_dir(), copy)
    (copy / "local" / "secrets.xml").write_text(secrets_xml, encoding="utf-8")
    return copy


def test_with_no_secrets_at_all_freeswitch_refuses_to_start():
    assert _refusals({}) == [ESL_REFUSAL, HTTP_REFUSAL]


@pytest.mark.parametrize("password", ["", "ClueCon", "cluecon", "CLUECON", "sim-dev-only"])
def test_an_empty_or_well_known_esl_password_is_refused(password):
    environ = SECRETS_ENV | {"FREESWITCH_ESL_PASSWORD": password}
    assert _refusals(environ) == [ESL_REFUSAL]


@pytest.mark.parametrize("password", ["", "xml-dev-only"])
def test_an_empty_or_well_known_suite_http_password_is_refused(password):
    environ = SECRETS_ENV | {"FREESWITCH_XML_PASSWORD": password}
    assert _refusals(environ) == [HTTP_REFUSAL]


def test_the_refusal_breaks_the_document_where_freeswitch_parses_it():
    # Given no ESL password
    text = render({"FREESWITCH_XML_PASSWORD": XML_PASSWORD}).text
    # Then the marker is a closing tag inside <document>, which FreeSWITCH's parser rejects
    before, marker, _ = text.partition(f"</{ESL_REFUSAL}>")
    assert marker
    assert "<document" in before
    assert "</document>" not in before


def test_secrets_from_the_environment_reach_the_event_socket_and_the_http_clients():
    root = fsconf().parse_rendered(render(SECRETS_ENV))
    assert params(configuration(root, "event_socket.conf"))["password"] == [ESL_PASSWORD]
    credentials = f"freeswitch:{XML_PASSWORD}"
    assert params(configuration(root, "xml_curl.conf"))["gateway-credentials"] == [
        credentials,
        credentials,
    ]
    assert params(configuration(root, "httapi.conf"))["gateway-credentials"] == [credentials]


def test_secrets_from_the_operator_file_are_used_when_the_environment_has_none(tmp_path):
    # Given local/secrets.xml as bin/fsconf.py writes it
    values = fsconf().Secrets(
        esl_password="file-Esl-Secret-0003",
        xml_username="fsnode",
        xml_password="file-Xml-Secret-0004",
    )
    conf = _local_copy(tmp_path, fsconf().local_secrets_xml(values))
    # When assembled without any environment
    root = fsconf().parse_rendered(render({}, conf_dir=conf))
    # Then its values are used
    assert params(configuration(root, "event_socket.conf"))["password"] == ["file-Esl-Secret-0003"]
    assert params(configuration(root, "httapi.conf"))["gateway-credentials"] == [
        "fsnode:file-Xml-Secret-0004"
    ]


def test_the_environment_wins_over_the_operator_file(tmp_path):
    values = fsconf().Secrets(
        esl_password="file-Esl-Secret-0003",
        xml_username="fsnode",
        xml_password="file-Xml-Secret-0004",
    )
    conf = _local_copy(tmp_path, fsconf().local_secrets_xml(values))
    root = fsconf().parse_rendered(render({"FREESWITCH_ESL_PASSWORD": ESL_PASSWORD}, conf_dir=conf))
    assert params(configuration(root, "event_socket.conf"))["password"] == [ESL_PASSWORD]


def test_no_file_in_the_tree_assigns_a_stock_password():
    # ClueCon (mod_event_socket) and 1234 (vanilla default_password) may be named, never assigned
    assigned = re.compile(r'(=\s*|value=")(clue\s*con|1234)\b', re.IGNORECASE)
    for path in tree_files() + tree_files(".md") + tree_files(".py"):
        text = path.read_text(encoding="utf-8")
        assert not assigned.search(text), path.name
        assert "default_password" not in text, path.name


def test_every_secret_bearing_parameter_takes_its_value_from_a_variable():
    # Given the raw configuration files FreeSWITCH loads (examples are documentation only)
    secret_params = re.compile(
        r'<param name="(password|gateway-credentials|ssl-key-password)" value="([^"]*)"'
    )
    found = 0
    for path in tree_files():
        if path.parent.name == "examples":
            continue
        for name, value in secret_params.findall(path.read_text(encoding="utf-8")):
            found += 1
            # Then the value is made of variable references and separators only
            assert re.fullmatch(r"(\$\$\{[a-z_]+\}|:)+", value), f"{path.name}: {name}"
    assert found == 4
