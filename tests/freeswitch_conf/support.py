"""Helpers for the FreeSWITCH configuration tests: the tree, the operator tool, test inputs."""

from __future__ import annotations

import atexit
import importlib.util
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
CONF_DIR = REPO / "freeswitch_conf"
FIXTURES = REPO / ".." / "shared" / "fixtures"

ESL_PASSWORD = "esl-Test-Secret-0001"
XML_PASSWORD = "xml-Test-Secret-0002"
SECRETS_ENV: dict[str, str] = {
    "FREESWITCH_ESL_PASSWORD": ESL_PASSWORD,
    "FREESWITCH_XML_PASSWORD": XML_PASSWORD,
}
# What FreeSWITCH computes itself before reading the configuration.
CORE_VARS: dict[str, str] = {
    "local_ip_v4": "192.0.2.10",
    "hostname": "fs-test",
    "certs_dir": "/etc/freeswitch/tls",
    "sounds_dir": "/usr/share/freeswitch/sounds",
}


@cache
def fsconf() -> ModuleType:
    """Import freeswitch_conf/bin/fsconf.py (a script, not a package)."""
    path = CONF_DIR / "bin" / "fsconf.py"
    spec = importlib.util.spec_from_file_location("fsconf", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fsconf"] = module
    spec.loader.exec_module(module)
    return module


@cache
def pristine_conf_dir() -> Path:
    """Return a copy of the committed tree without operator files (a developer may have some)."""
    parent = Path(tempfile.mkdtemp(prefix="fsconf-test-"))
    atexit.register(shutil.rmtree, parent, True)
    target = parent / "conf"
    shutil.copytree(CONF_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    for operator_file in (target / "local").glob("*.xml"):
        operator_file.unlink()
    return target


def render(
    environ: Mapping[str, str] = SECRETS_ENV,
    *,
    conf_dir: Path | None = None,
    core_vars: Mapping[str, str] = CORE_VARS,
):
    """Preprocess the tree the way FreeSWITCH does and return fsconf.RenderResult."""
    directory = pristine_conf_dir() if conf_dir is None else conf_dir
    return fsconf().render_config(directory, environ=environ, core_vars=core_vars)


def parse_file(path: Path) -> ET.Element:
    """Parse one of the repository's own XML files (trusted input) and return its root."""
    return ET.parse(path).getroot()  # noqa: S314


def document(environ: Mapping[str, str] = SECRETS_ENV) -> ET.Element:
    """Return the root element FreeSWITCH would load with this environment."""
    return fsconf().parse_rendered(render(environ))


def configuration(root: ET.Element, name: str) -> ET.Element:
    """Return the <configuration name=name> element; fail if the tree has none."""
    found = fsconf().configuration_section(root, name)
    assert found is not None, f"no configuration section {name}"
    return found


def params(element: ET.Element) -> dict[str, list[str]]:
    """Map each <param name> under element to its values, in order (some names repeat)."""
    values: dict[str, list[str]] = {}
    for param in element.iter("param"):
        values.setdefault(param.get("name", ""), []).append(param.get("value", ""))
    return values


def sip_profile(root: ET.Element, name: str = "internal") -> ET.Element:
    """Return the sofia profile called name."""
    found = configuration(root, "sofia.conf").find(f"./profiles/profile[@name='{name}']")
    assert found is not None, f"no sofia profile {name}"
    return found


def tree_files(suffix: str = ".xml") -> list[Path]:
    """Every committed file of the tree with this suffix (operator files in local/ excluded)."""
    return sorted(
        path
        for path in CONF_DIR.rglob(f"*{suffix}")
        if path.is_file() and path.parent != CONF_DIR / "local"
    )
