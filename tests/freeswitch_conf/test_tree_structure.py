"""The tree assembles into one well-formed FreeSWITCH document with everything its modules need."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.freeswitch_conf.support import (
    CONF_DIR,
    configuration,
    document,
    params,
    parse_file,
    pristine_conf_dir,
    render,
    tree_files,
)

DIRECTIVE_LINE = re.compile(r'^\s*<X-PRE-PROCESS cmd="(set|env-set|include)" data="([^"]*)"/>\s*$')
COMMENT_DIRECTIVE_LINE = re.compile(r'^\s*<!--#set "[^"]*"-->\s*$')
COMMENT = re.compile(r"<!--(?!#)(.*?)-->", re.DOTALL)

# Modules the suite relies on, and the configuration each one reads (None: it reads none).
EXPECTED_MODULES = {
    "mod_console": "console.conf",
    "mod_logfile": "logfile.conf",
    "mod_xml_curl": "xml_curl.conf",
    "mod_event_socket": "event_socket.conf",
    "mod_sofia": "sofia.conf",
    "mod_loopback": None,
    "mod_commands": None,
    "mod_dptools": None,
    "mod_httapi": "httapi.conf",
    "mod_dialplan_xml": None,
    "mod_opus": "opus.conf",
    "mod_sndfile": None,
    "mod_native_file": None,
    "mod_tone_stream": None,
    "mod_local_stream": "local_stream.conf",
    "mod_say_en": None,
    "mod_say_zh": None,
}
CRITICAL_MODULES = {
    "mod_xml_curl",
    "mod_event_socket",
    "mod_sofia",
    "mod_commands",
    "mod_dptools",
    "mod_httapi",
    "mod_dialplan_xml",
}


@pytest.mark.parametrize("path", tree_files(), ids=lambda p: str(p.relative_to(CONF_DIR)))
def test_every_file_is_well_formed_xml_on_its_own(path):
    assert parse_file(path).tag


@pytest.mark.parametrize("path", tree_files(), ids=lambda p: str(p.relative_to(CONF_DIR)))
def test_preprocessor_directives_stand_alone_on_their_lines(path):
    # Then every line the preprocessor acts on is a complete directive and nothing else
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if "x-pre-process" in line.lower():
            match = DIRECTIVE_LINE.match(line)
            assert match, f"{path.name}:{number}: {line}"
            # FreeSWITCH cuts a directive at its first "/>", so data must not contain one
            assert "/>" not in match.group(2), f"{path.name}:{number}: {line}"
        if "<!--#" in line:
            assert COMMENT_DIRECTIVE_LINE.match(line), f"{path.name}:{number}: {line}"


@pytest.mark.parametrize("path", tree_files(), ids=lambda p: str(p.relative_to(CONF_DIR)))
def test_comments_carry_nothing_the_preprocessor_would_act_on(path):
    for body in COMMENT.findall(path.read_text(encoding="utf-8")):
        for token in ("X-PRE-PROCESS", "<include>", "</include>", "<?", "$${"):
            assert token not in body, f"{path.name}: {token!r} in a comment"


def test_the_assembled_document_is_well_formed_and_complete():
    # When the tree is assembled with the secrets set
    result = render()
    root = document()
    # Then every file was read, no command was ignored, and the only missing include is the
    # operator's local/*.xml (none in the repository)
    assert result.ignored == []
    assert result.unreadable == [str(pristine_conf_dir() / "local" / "*.xml")]
    assert root.tag == "document"
    assert [section.get("name") for section in root.findall("section")] == [
        "configuration",
        "dialplan",
        "directory",
    ]


def test_the_assembled_document_passes_xmllint():
    xmllint = shutil.which("xmllint")
    if xmllint is None:
        pytest.skip("xmllint is not installed (apt-get install libxml2-utils)")
    completed = subprocess.run(
        [xmllint, "--noout", "-"], input=render().text, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr


def test_every_global_variable_used_is_defined():
    # Given the names used as $${name} anywhere in the tree
    used = set()
    for path in tree_files():
        used.update(re.findall(r"\$\$\{([^}]+)\}", path.read_text(encoding="utf-8")))
    # When the tree is assembled
    variables = render().variables
    # Then each one has a value, except the refusal names that only exist when refusing
    undefined = {
        name for name in used if not variables.get(name) and not name.startswith("refuse_")
    }
    assert undefined == set()


def test_modules_are_exactly_the_ones_the_suite_needs():
    modules = configuration(document(), "modules.conf").findall("./modules/load")
    assert [module.get("module") for module in modules] == list(EXPECTED_MODULES)
    assert {m.get("module") for m in modules if m.get("critical") == "true"} == CRITICAL_MODULES


def test_xml_curl_is_loaded_before_sofia_so_every_lookup_can_use_it():
    names = [m.get("module") for m in configuration(document(), "modules.conf").iter("load")]
    assert names.index("mod_xml_curl") < names.index("mod_sofia")


def test_every_module_that_reads_a_configuration_has_one():
    root = document()
    for module, section in EXPECTED_MODULES.items():
        if section is not None:
            assert configuration(root, section) is not None, module
    present = {
        c.get("name") for c in root.findall("./section[@name='configuration']/configuration")
    }
    expected = {section for section in EXPECTED_MODULES.values() if section} | {
        "modules.conf",
        "switch.conf",
        "acl.conf",
    }
    assert present == expected


def test_core_limits_and_rtp_range_come_from_variables():
    settings = params(configuration(document(), "switch.conf"))
    assert settings["max-sessions"] == ["1000"]
    assert settings["sessions-per-second"] == ["30"]
    assert settings["rtp-start-port"] == ["16384"]
    assert settings["rtp-end-port"] == ["32768"]
    assert settings["loglevel"] == ["info"]


def test_hold_music_is_a_local_stream_called_moh():
    root = document()
    streams = configuration(root, "local_stream.conf").findall("directory")
    assert [(d.get("name"), d.get("path")) for d in streams] == [
        ("moh", "/usr/share/freeswitch/sounds/music/8000")
    ]
    assert params(streams[0])["rate"] == ["8000"]
    assert render().variables["hold_music"] == "local_stream://moh"


def test_opus_uses_constant_bit_rate_because_browser_media_is_encrypted():
    assert params(configuration(document(), "opus.conf"))["use-vbr"] == ["0"]
