"""The preprocessor model in bin/fsconf.py behaves like FreeSWITCH 1.10's (src/switch_xml.c)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.freeswitch_conf.support import fsconf


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _render(root: Path, environ: dict[str, str] | None = None, core: dict[str, str] | None = None):
    return fsconf().render_config(root, environ=environ or {}, core_vars=core or {})


def test_set_then_expand_replaces_global_variables_and_blanks_unknown_ones(tmp_path):
    # Given a root that sets a variable and uses it, plus one nobody set
    root = _tree(
        tmp_path,
        {
            "freeswitch.xml": '<X-PRE-PROCESS cmd="set" data="greeting = hello"/>\n'
            '<a v="$${greeting}" w="[$${nobody}]"/>\n',
        },
    )
    # When it is rendered
    result = _render(root)
    # Then the directive line is consumed and the values are substituted
    assert result.text == '<a v="hello" w="[]"/>\n'
    assert result.variables["greeting"] == "hello"


def test_env_set_copies_a_set_environment_variable_and_ignores_an_unset_one(tmp_path):
    # Given defaults overridden by env-set from two environment variables, one of them unset
    root = _tree(
        tmp_path,
        {
            "freeswitch.xml": '<X-PRE-PROCESS cmd="set" data="a=default-a"/>\n'
            '<X-PRE-PROCESS cmd="set" data="b=default-b"/>\n'
            '<X-PRE-PROCESS cmd="env-set" data="a=$ENV_A"/>\n'
            '<X-PRE-PROCESS cmd="env-set" data="b=$ENV_B"/>\n'
            '<x a="$${a}" b="$${b}"/>\n',
        },
    )
    # When rendered with only ENV_A in the environment
    result = _render(root, {"ENV_A": "from-env"})
    # Then a comes from the environment and b keeps its default
    assert result.text == '<x a="from-env" b="default-b"/>\n'


def test_env_set_with_an_empty_environment_variable_sets_an_empty_value(tmp_path):
    root = _tree(
        tmp_path,
        {
            "freeswitch.xml": '<X-PRE-PROCESS cmd="set" data="a=default"/>\n'
            '<X-PRE-PROCESS cmd="env-set" data="a=$ENV_A"/>\n'
            '<x a="$${a}"/>\n',
        },
    )
    result = _render(root, {"ENV_A": ""})
    assert result.text == '<x a=""/>\n'


def test_include_globs_relative_to_the_including_file_in_name_order(tmp_path):
    # Given a root including sub/*.xml, and a file there including ../other/*.xml
    root = _tree(
        tmp_path,
        {
            "freeswitch.xml": '<doc>\n<X-PRE-PROCESS cmd="include" data="sub/*.xml"/>\n</doc>\n',
            "sub/b.xml": "<b/>\n",
            "sub/a.xml": '<include>\n<a/>\n<X-PRE-PROCESS cmd="include" data="../other/*.xml"/>\n'
            "</include>\n",
            "other/c.xml": "<c/>\n",
            "sub/ignored.txt": "<not-xml/>\n",
        },
    )
    # When rendered
    result = _render(root)
    # Then files come in name order, nested includes resolve from the file's own directory,
    # and the <include> wrapper lines are dropped
    assert result.text == "<doc>\n<a/>\n<c/>\n<b/>\n</doc>\n"
    assert result.unreadable == []


def test_an_include_that_matches_nothing_is_reported_and_skipped(tmp_path):
    root = _tree(
        tmp_path,
        {
            "freeswitch.xml": "<doc>\n"
            '<X-PRE-PROCESS cmd="include" data="missing/*.xml"/>\n'
            "</doc>\n",
        },
    )
    result = _render(root)
    assert result.text == "<doc>\n</doc>\n"
    assert result.unreadable == [str(tmp_path / "missing" / "*.xml")]


def test_xml_declarations_are_dropped_and_text_beside_a_directive_is_lost(tmp_path):
    root = _tree(
        tmp_path,
        {
            "freeswitch.xml": '<?xml version="1.0"?>\n'
            '<doc><X-PRE-PROCESS cmd="set" data="x=1"/><lost/>\n'
            "<kept/></doc>\n",
        },
    )
    result = _render(root)
    assert result.text == "<kept/></doc>\n"


def test_a_directive_inside_a_comment_still_runs(tmp_path):
    # Given a directive an author believed commented out
    root = _tree(
        tmp_path,
        {
            "freeswitch.xml": '<!-- <X-PRE-PROCESS cmd="set" data="x=surprise"/> -->\n'
            '<doc x="$${x}"/>\n',
        },
    )
    result = _render(root)
    assert result.text == '<doc x="surprise"/>\n'


def test_a_line_naming_the_directive_without_a_tag_is_dropped(tmp_path):
    root = _tree(
        tmp_path,
        {
            "freeswitch.xml": "<doc>\nsee X-PRE-PROCESS in the manual\n<kept/>\n</doc>\n",
        },
    )
    result = _render(root)
    assert result.text == "<doc>\n<kept/>\n</doc>\n"


def test_the_comment_form_sets_a_value_that_may_contain_angle_brackets(tmp_path):
    # Given <!--#set "name=value"--> whose value is markup, and a line using it
    root = _tree(
        tmp_path,
        {
            "freeswitch.xml": '<doc>\n<!--#set "closer=</doc>"-->\n$${closer}\n',
        },
    )
    result = _render(root)
    # (the rest of the comment's line, here its newline, is kept)
    assert result.text == "<doc>\n\n</doc>\n"
    assert result.variables["closer"] == "</doc>"


def test_unknown_commands_are_recorded_and_program_commands_are_refused(tmp_path):
    root = _tree(
        tmp_path,
        {
            "freeswitch.xml": '<X-PRE-PROCESS cmd="env_set" data="a=$A"/>\n<doc/>\n',
        },
    )
    assert _render(root).ignored == ["X-PRE-PROCESS env_set"]

    (tmp_path / "freeswitch.xml").write_text(
        '<X-PRE-PROCESS cmd="exec-set" data="a=echo hi"/>\n<doc/>\n', encoding="utf-8"
    )
    with pytest.raises(fsconf().UnsupportedDirectiveError):
        _render(root)


def test_refusal_markers_are_reported_before_xml_parsing(tmp_path):
    root = _tree(tmp_path, {"freeswitch.xml": "<doc>\n</FATAL_demo>\n</doc>\n"})
    result = _render(root)
    with pytest.raises(fsconf().ConfigRefusedError) as raised:
        fsconf().parse_rendered(result)
    assert raised.value.markers == ["FATAL_demo"]
