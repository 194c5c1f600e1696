"""bin/fsconf.py generates secrets the configuration accepts and checks an installation."""

from __future__ import annotations

import json
import os
import shutil
import stat

import pytest

from tests.freeswitch_conf.support import (
    CORE_VARS,
    configuration,
    fsconf,
    params,
    pristine_conf_dir,
)


@pytest.fixture
def conf(tmp_path):
    """Give a writable copy of the committed tree."""
    copy = tmp_path / "conf"
    shutil.copytree(pristine_conf_dir(), copy)
    return copy


def test_generated_secrets_are_long_url_safe_and_distinct():
    first, second = fsconf().generate_secrets(), fsconf().generate_secrets()
    for value in (first.esl_password, first.xml_password):
        assert len(value) == 32
        assert fsconf().secret_problems("x", value) == []
    assert first.esl_password != first.xml_password
    assert first.esl_password != second.esl_password
    assert first.xml_username == "freeswitch"


def test_secret_problems_name_short_values_and_unsafe_characters():
    assert fsconf().secret_problems("esl_password", 'short"') == [
        "esl_password is shorter than 16 characters",
        "esl_password contains characters outside [A-Za-z0-9._~-]: '\"'",
    ]


def test_the_secrets_command_writes_a_private_file_the_configuration_loads(conf, capsys):
    # When the operator generates secrets for a node the suite reaches at 10.0.0.5
    status = fsconf().main(["--conf-dir", str(conf), "secrets", "--esl-host", "10.0.0.5"])
    # Then local/secrets.xml exists, is private, and FreeSWITCH would load it without environment
    assert status == 0
    written = conf / "local" / "secrets.xml"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    result = fsconf().render_config(conf, environ={}, core_vars=CORE_VARS)
    root = fsconf().parse_rendered(result)
    # And the suite's settings printed carry the same secrets
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    nodes = json.loads(lines["FREESWITCH_NODES"].strip("'"))
    assert nodes == [
        {
            "name": "fs1",
            "host": "10.0.0.5",
            "port": 8021,
            "password": result.variables["esl_password"],
        }
    ]
    assert params(configuration(root, "event_socket.conf"))["password"] == [nodes[0]["password"]]
    assert lines["FREESWITCH_XML_USERNAME"] == "freeswitch"
    assert lines["FREESWITCH_XML_PASSWORD"] == result.variables["suite_http_password"]


def test_the_secrets_command_does_not_replace_existing_secrets_without_force(conf):
    assert fsconf().main(["--conf-dir", str(conf), "secrets"]) == 0
    first = (conf / "local" / "secrets.xml").read_text()
    assert fsconf().main(["--conf-dir", str(conf), "secrets"]) == 1
    assert (conf / "local" / "secrets.xml").read_text() == first
    assert fsconf().main(["--conf-dir", str(conf), "secrets", "--force"]) == 0
    assert (conf / "local" / "secrets.xml").read_text() != first


def test_the_suite_env_file_is_private_and_shell_readable(conf, tmp_path):
    target = tmp_path / "suite.env"
    args = ["--conf-dir", str(conf), "secrets", "--node-name", "fs2", "--suite-env", str(target)]
    assert fsconf().main(args) == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    text = target.read_text()
    assert text.startswith('FREESWITCH_NODES=\'[{"name": "fs2", "host": "127.0.0.1"')
    assert [line.split("=", 1)[0] for line in text.splitlines()] == [
        "FREESWITCH_NODES",
        "FREESWITCH_XML_USERNAME",
        "FREESWITCH_XML_PASSWORD",
    ]


def test_local_secrets_xml_rejects_values_that_would_break_the_configuration():
    bad = fsconf().Secrets(esl_password='a"b' * 8, xml_username="freeswitch", xml_password="x" * 20)
    with pytest.raises(ValueError, match="esl_password contains characters"):
        fsconf().local_secrets_xml(bad)


def test_check_reports_the_refusal_when_secrets_are_missing(conf):
    report = fsconf().check_config(conf, environ={}, core_vars=CORE_VARS)
    assert report.problems == [
        "refused: FATAL_esl_password_is_empty_or_a_known_default",
        "refused: FATAL_suite_http_password_is_empty_or_a_known_default",
    ]


def test_check_accepts_generated_secrets_and_masks_them(conf):
    assert fsconf().main(["--conf-dir", str(conf), "secrets"]) == 0
    report = fsconf().check_config(conf, environ={}, core_vars=CORE_VARS)
    assert report.problems == []
    assert report.notes == []
    assert report.settings["esl_password"] == "********"
    assert report.settings["suite_http_password"] == "********"
    assert report.settings["domain"] == "192.0.2.10"


def test_check_rejects_a_suite_url_with_a_trailing_slash(conf):
    assert fsconf().main(["--conf-dir", str(conf), "secrets"]) == 0
    report = fsconf().check_config(
        conf, environ={"FREESWITCH_SUITE_URL": "https://suite.example.com/"}, core_vars=CORE_VARS
    )
    assert report.problems == [
        "suite_base_url must be http(s)://host[/path] without a final '/': "
        "'https://suite.example.com/'"
    ]


def test_the_check_command_exits_non_zero_when_freeswitch_would_refuse(conf, capsys, monkeypatch):
    # Given a process environment without any FREESWITCH_* value
    for name in [name for name in os.environ if name.startswith("FREESWITCH_")]:
        monkeypatch.delenv(name)
    assert fsconf().main(["--conf-dir", str(conf), "check"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "NOT OK"
