"""The operator README and the docs page describe the configuration as it is."""

from __future__ import annotations

import re

from tests.freeswitch_conf.support import CONF_DIR, REPO

README = CONF_DIR / "README.md"


def _env_settings() -> dict[str, str]:
    """Map each environment variable read by vars.xml to the global variable it sets."""
    text = (CONF_DIR / "vars.xml").read_text(encoding="utf-8")
    pairs = re.findall(r'cmd="env-set" data="([a-z_0-9]+)=\$([A-Z_]+)"', text)
    return {env: name for name, env in pairs}


def test_the_readme_documents_every_environment_variable_with_its_variable():
    # Given the README's settings table
    rows = re.findall(r"^\| `(FREESWITCH_[A-Z_]+)` \| `([a-z_0-9]+)` \|", README.read_text(), re.M)
    # Then it has exactly one row per variable vars.xml reads, naming the right global variable
    assert dict(rows) == _env_settings()
    assert len(rows) == len(_env_settings())


def test_the_readme_names_the_files_it_refers_to_and_they_exist():
    text = README.read_text(encoding="utf-8")
    named = re.findall(r"`((?:examples|local|bin|dialplan|autoload_configs)/[^`\s*]+)`", text)
    assert "examples/suite-dialplan-response.xml" in named
    # local/secrets.xml is the one file the operator generates (bin/fsconf.py secrets)
    for relative in set(named) - {"local/secrets.xml"}:
        assert (CONF_DIR / relative).exists(), relative


def test_the_docs_page_links_the_operator_readme():
    page = (REPO / "docs" / "freeswitch.md").read_text(encoding="utf-8")
    assert "](../freeswitch_conf/README.md)" in page
    assert (REPO / "docs" / "../freeswitch_conf/README.md").resolve() == README.resolve()
