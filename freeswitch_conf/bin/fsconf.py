#!/usr/bin/env python3
"""Operator tool for the suite's FreeSWITCH configuration (Python 3.11+, standard library only).

    fsconf.py secrets [--conf-dir DIR] [--esl-host HOST] [--suite-env FILE] [--force]
        Generate the Event Socket password and the suite's HTTP credentials, write them to
        DIR/local/secrets.xml (mode 0600) and print the matching settings for the suite.
    fsconf.py check [--conf-dir DIR] [--core-var NAME=VALUE ...]
        Assemble the configuration the way FreeSWITCH's preprocessor does, with this process's
        environment, and report whether FreeSWITCH would accept it. Exit status 1 if not.

The preprocessor model follows src/switch_xml.c of FreeSWITCH 1.10: line-based, the X-PRE-PROCESS
commands set, env-set and include (glob, relative to the including file's directory), the
comment form <!--#set "name=value"-->, and $${name} expansion of global variables before a line
is interpreted. Commands that run programs (exec, exec-set) or query STUN (stun-set) are not
modelled: this tree does not use them and a checker must not run them.
"""

from __future__ import annotations

import argparse
import glob
import io
import json
import os
import re
import secrets
import socket
import string
import sys
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

CONF_DIR = Path(__file__).resolve().parent.parent
ROOT_FILE = "freeswitch.xml"
MAX_INCLUDE_DEPTH = 100

# Passwords end up in X-PRE-PROCESS attributes, XML attribute values and curl's user:password, so
# they are limited to characters that need no quoting anywhere (the URL-safe set).
SECRET_ALPHABET = frozenset(string.ascii_letters + string.digits + "-_.~")
MIN_SECRET_LENGTH = 16
SECRET_VARIABLES = ("esl_password", "suite_http_password")

# vars.xml turns an empty or well-known secret into a closing tag that cannot match.
REFUSAL_PATTERN = re.compile(r"</(FATAL_[A-Za-z0-9_]+)>")

# Commands that run programs or query the network; FreeSWITCH supports them, this model does not.
UNMODELLED_COMMANDS = frozenset({"exec", "exec-set", "stun-set"})

# Where the Debian/Ubuntu packages of FreeSWITCH 1.10 put things; FreeSWITCH computes these (and
# local_ip_v4, hostname) itself before it reads the configuration.
PACKAGE_CORE_VARS: dict[str, str] = {
    "base_dir": "/usr",
    "conf_dir": "/etc/freeswitch",
    "log_dir": "/var/log/freeswitch",
    "run_dir": "/var/run/freeswitch",
    "db_dir": "/var/lib/freeswitch/db",
    "mod_dir": "/usr/lib/freeswitch/mod",
    "certs_dir": "/etc/freeswitch/tls",
    "sounds_dir": "/usr/share/freeswitch/sounds",
    "recordings_dir": "/var/lib/freeswitch/recordings",
    "storage_dir": "/var/lib/freeswitch/storage",
    "cache_dir": "/var/cache/freeswitch",
}


class ConfigRefusedError(ValueError):
    """The assembled document carries a refusal marker: FreeSWITCH would not start."""

    def __init__(self, markers: Sequence[str]) -> None:
        self.markers = list(markers)
        super().__init__("FreeSWITCH would refuse this configuration: " + ", ".join(self.markers))


class UnsupportedDirectiveError(ValueError):
    """A preprocessor command this model does not run (exec, exec-set, stun-set, unknown)."""


@dataclass
class RenderResult:
    """The preprocessed document, the global variables it left behind and what could not be read."""

    text: str
    variables: dict[str, str]
    unreadable: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def _find_end_brace(text: str, start: int) -> int | None:
    """Return the index of the '}' closing the '{' at start (switch_find_end_paren)."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return None


def expand_globals(line: str, variables: Mapping[str, str]) -> str:
    """Replace every $${name} in line by the global variable's value; unknown names become ''."""
    if "$${" not in line:
        return line
    out: list[str] = []
    index = 0
    while index < len(line):
        if line.startswith("$${", index):
            end = _find_end_brace(line, index + 2)
            if end is not None:
                out.append(variables.get(line[index + 3 : end], ""))
                index = end + 1
                continue
        out.append(line[index])
        index += 1
    return "".join(out)


def _quoted_after(text: str, keyword: str) -> tuple[str | None, str]:
    """Find keyword (any case), then '=', then a quoted value; return it and the text after it."""
    at = text.lower().find(keyword)
    equals = text.find("=", at) if at >= 0 else -1
    quote = text.find('"', equals) if equals >= 0 else -1
    if quote < 0:
        return None, ""
    end = text.find('"', quote + 1)
    if end < 0:
        return text[quote + 1 :], ""
    return text[quote + 1 : end], text[end + 1 :]


def _split_assignment(data: str) -> tuple[str, str] | None:
    """Split name=value at the first '=', trimming spaces around it as the set command does."""
    if "=" not in data:
        return None
    name, value = data.split("=", 1)
    return name.rstrip(" "), value.lstrip(" ")


class _Preprocessor:
    def __init__(self, environ: Mapping[str, str], variables: dict[str, str]) -> None:
        self.environ = environ
        self.variables = variables
        self.out = io.StringIO()
        self.unreadable: list[str] = []
        self.ignored: list[str] = []
        self.files: list[Path] = []

    def run_command(self, command: str, data: str, cwd: Path, depth: int, *, form: str) -> None:
        name = command.lower()
        if name in UNMODELLED_COMMANDS:
            raise UnsupportedDirectiveError(f"preprocessor command {command!r} is not modelled")
        if name == "set":
            assignment = _split_assignment(data)
            if assignment:
                self.variables[assignment[0]] = assignment[1]
        elif name == "env-set" and form == "X-PRE-PROCESS":
            key, sep, reference = data.partition("=")
            # Only "name=$ENV" is honoured; an unset environment variable changes nothing.
            if sep and reference.startswith("$") and reference[1:] in self.environ:
                self.variables[key] = self.environ[reference[1:]]
        elif name == "include":
            self.include(cwd, data, depth + 1)
        elif name != "comment":
            # FreeSWITCH ignores unknown commands silently; keep them so that a typo shows.
            self.ignored.append(f"{form} {command}")

    def include(self, cwd: Path, pattern: str, depth: int) -> None:
        full = pattern if pattern.startswith("/") else str(cwd / pattern)
        # glob(3) with GLOB_NOCHECK: no match means the pattern itself, which then fails to open.
        for match in sorted(glob.glob(full)) or [full]:
            self.run_file(Path(match), depth)

    def run_file(self, path: Path, depth: int) -> None:
        if depth > MAX_INCLUDE_DEPTH:
            self.unreadable.append(f"{path} (include depth over {MAX_INCLUDE_DEPTH})")
            return
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            self.unreadable.append(str(path))
            return
        self.files.append(path)
        in_comment_command = False
        cwd = path.parent
        for raw in io.StringIO(text, newline="\n"):
            line = expand_globals(raw, self.variables)
            # Lines with these markers are dropped whole, so that files validate on their own.
            if "<include>" in raw or "</include>" in raw or "<?" in raw:
                continue
            if in_comment_command:
                if "-->" not in raw:
                    continue
                in_comment_command = False
                line = raw[raw.index("-->") + 3 :]
            marker = line.lower().find("x-pre-process")
            if marker >= 0:
                # A directive line is consumed whole; a mention without '<' before it drops it too.
                if marker > 0 and line[marker - 1] == "<":
                    self._directive(line[marker:], cwd, depth)
                continue
            start = line.find("<!--#")
            if start >= 0:
                in_comment_command = self._comment_command(line, start, cwd, depth)
                continue
            self.out.write(line)

    def _directive(self, tag: str, cwd: Path, depth: int) -> None:
        closing = tag.find("/>")
        if closing >= 0:
            tag = tag[:closing]
        command, rest = _quoted_after(tag, "cmd")
        if command is None:
            return
        data, _ = _quoted_after(rest, "data")
        if data is not None:
            self.run_command(command, data, cwd, depth, form="X-PRE-PROCESS")

    def _comment_command(self, line: str, start: int, cwd: Path, depth: int) -> bool:
        self.out.write(line[:start])
        body = line[start + 5 :]
        closing = body.find("-->")
        unfinished = closing < 0
        if not unfinished:
            self.out.write(body[closing + 3 :])
            body = body[:closing]
        body = body.split("\r", 1)[0].split("\n", 1)[0]
        command, sep, argument = body.partition(" ")
        if sep:
            first = argument.find('"')
            second = argument.find('"', first + 1) if first >= 0 else -1
            if second >= 0:
                argument = argument[first + 1 : second]
            self.run_command(command, argument, cwd, depth, form="<!--#")
        return unfinished


def render_config(
    conf_dir: Path, *, environ: Mapping[str, str], core_vars: Mapping[str, str]
) -> RenderResult:
    """Preprocess conf_dir/freeswitch.xml as FreeSWITCH does, starting from the core variables."""
    variables = dict(core_vars)
    variables.setdefault("conf_dir", str(conf_dir))
    preprocessor = _Preprocessor(environ, variables)
    preprocessor.run_file(conf_dir / ROOT_FILE, 0)
    return RenderResult(
        text=preprocessor.out.getvalue(),
        variables=variables,
        unreadable=preprocessor.unreadable,
        ignored=preprocessor.ignored,
        files=preprocessor.files,
    )


def parse_rendered(result: RenderResult) -> ET.Element:
    """Return the document's root element; raise ConfigRefusedError or ET.ParseError."""
    markers = REFUSAL_PATTERN.findall(result.text)
    if markers:
        raise ConfigRefusedError(markers)
    # The text is this tree's own configuration, assembled locally: not untrusted input.
    return ET.fromstring(result.text)  # noqa: S314


def configuration_section(root: ET.Element, name: str) -> ET.Element | None:
    """Return the <configuration name=...> element of the configuration section, if any."""
    return root.find(f"./section[@name='configuration']/configuration[@name='{name}']")


def secret_problems(name: str, value: str) -> list[str]:
    """Describe what makes value unusable as the secret called name (empty list if nothing)."""
    problems = []
    if len(value) < MIN_SECRET_LENGTH:
        problems.append(f"{name} is shorter than {MIN_SECRET_LENGTH} characters")
    bad = sorted(set(value) - SECRET_ALPHABET)
    if bad:
        problems.append(f"{name} contains characters outside [A-Za-z0-9._~-]: {''.join(bad)!r}")
    return problems


@dataclass(frozen=True)
class CheckReport:
    """Outcome of check_config: blocking problems, notes, and the effective values (masked)."""

    problems: list[str]
    notes: list[str]
    settings: dict[str, str]


SUMMARY_VARIABLES = (
    "local_ip_v4",
    "domain",
    "external_ip",
    "esl_listen_ip",
    "esl_listen_port",
    "esl_allowed_cidrs",
    "esl_password",
    "suite_base_url",
    "suite_http_username",
    "suite_http_password",
    "suite_tls_verify",
    "carrier_cidrs",
    "agent_cidrs",
    "tls_cert_dir",
)


def check_config(
    conf_dir: Path, *, environ: Mapping[str, str], core_vars: Mapping[str, str]
) -> CheckReport:
    """Assemble the configuration and list what would stop FreeSWITCH or the suite from working."""
    result = render_config(conf_dir, environ=environ, core_vars=core_vars)
    problems: list[str] = []
    notes = [f"could not read {item} (FreeSWITCH logs the same)" for item in result.unreadable]
    try:
        parse_rendered(result)
    except ConfigRefusedError as error:
        problems.extend(f"refused: {marker}" for marker in error.markers)
    except ET.ParseError as error:
        problems.append(f"the assembled document is not well-formed XML: {error}")
    for name in SECRET_VARIABLES:
        value = result.variables.get(name, "")
        if value:
            problems.extend(secret_problems(name, value))
    base_url = result.variables.get("suite_base_url", "")
    if not re.fullmatch(r"https?://[^/\s]+(/[^\s]*[^/\s])?", base_url):
        problems.append(
            f"suite_base_url must be http(s)://host[/path] without a final '/': {base_url!r}"
        )
    if base_url.startswith("https://") and result.variables.get("suite_tls_verify") != "true":
        notes.append("suite_tls_verify is not true: the suite's certificate is not verified")
    notes.extend(f"FreeSWITCH ignores the unknown command {item}" for item in result.ignored)
    settings = {}
    for name in SUMMARY_VARIABLES:
        value = result.variables.get(name, "")
        settings[name] = "********" if value and name in SECRET_VARIABLES else value
    return CheckReport(problems=problems, notes=notes, settings=settings)


@dataclass(frozen=True)
class Secrets:
    """The secrets shared by FreeSWITCH and the suite."""

    esl_password: str
    xml_username: str
    xml_password: str


def new_secret() -> str:
    """Return a random secret of 32 URL-safe characters (192 bits)."""
    return secrets.token_urlsafe(24)


def generate_secrets(xml_username: str = "freeswitch") -> Secrets:
    """Return fresh random secrets for the Event Socket and the suite's HTTP endpoints."""
    return Secrets(esl_password=new_secret(), xml_username=xml_username, xml_password=new_secret())


def local_secrets_xml(values: Secrets) -> str:
    """Render the local/secrets.xml that vars.xml includes."""
    for name, value in (
        ("esl_password", values.esl_password),
        ("suite_http_password", values.xml_password),
    ):
        problems = secret_problems(name, value)
        if problems:
            raise ValueError("; ".join(problems))
    if not values.xml_username or set(values.xml_username) - SECRET_ALPHABET:
        raise ValueError(f"xml username must be non-empty URL-safe text: {values.xml_username!r}")
    return (
        "<include>\n"
        "  <!-- Written by bin/fsconf.py secrets. Keep private (mode 0600, owner freeswitch). -->\n"
        f'  <X-PRE-PROCESS cmd="set" data="esl_password={values.esl_password}"/>\n'
        f'  <X-PRE-PROCESS cmd="set" data="suite_http_username={values.xml_username}"/>\n'
        f'  <X-PRE-PROCESS cmd="set" data="suite_http_password={values.xml_password}"/>\n'
        "</include>\n"
    )


def suite_env(values: Secrets, *, node_name: str, host: str, port: int) -> str:
    """Render the suite's environment lines (FREESWITCH_NODES and the XML credentials)."""
    nodes = [{"name": node_name, "host": host, "port": port, "password": values.esl_password}]
    return (
        f"FREESWITCH_NODES='{json.dumps(nodes)}'\n"
        f"FREESWITCH_XML_USERNAME={values.xml_username}\n"
        f"FREESWITCH_XML_PASSWORD={values.xml_password}\n"
    )


def write_private_file(path: Path, text: str, *, overwrite: bool) -> None:
    """Write text to path readable by its owner only; refuse to replace a file unless overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    descriptor = os.open(path, flags, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def _core_vars(overrides: Sequence[str], conf_dir: Path) -> dict[str, str]:
    core = dict(PACKAGE_CORE_VARS)
    core["conf_dir"] = str(conf_dir)
    core["hostname"] = socket.gethostname()
    core["local_ip_v4"] = "127.0.0.1"
    for item in overrides:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--core-var expects NAME=VALUE, got {item!r}")
        core[name] = value
    return core


def _command_secrets(args: argparse.Namespace) -> int:
    values = generate_secrets(args.xml_username)
    target = args.conf_dir / "local" / "secrets.xml"
    try:
        write_private_file(target, local_secrets_xml(values), overwrite=args.force)
    except FileExistsError:
        print(
            f"{target} exists; pass --force to replace it (the suite must then be updated too)",
            file=sys.stderr,
        )
        return 1
    env_text = suite_env(values, node_name=args.node_name, host=args.esl_host, port=args.esl_port)
    print(f"wrote {target} (mode 0600); make it readable by the FreeSWITCH user", file=sys.stderr)
    if args.suite_env:
        write_private_file(args.suite_env, env_text, overwrite=args.force)
        print(f"wrote the suite's settings to {args.suite_env} (mode 0600)", file=sys.stderr)
    else:
        sys.stdout.write(env_text)
    return 0


def _command_check(args: argparse.Namespace) -> int:
    report = check_config(
        args.conf_dir, environ=os.environ, core_vars=_core_vars(args.core_var, args.conf_dir)
    )
    for name, value in report.settings.items():
        print(f"{name:20} {value}")
    for note in report.notes:
        print(f"note: {note}")
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    print("OK: FreeSWITCH would accept this configuration" if not report.problems else "NOT OK")
    return 1 if report.problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conf-dir", type=Path, default=CONF_DIR)
    commands = parser.add_subparsers(dest="command", required=True)

    make = commands.add_parser(
        "secrets", help="generate local/secrets.xml and the suite's settings"
    )
    make.add_argument("--esl-host", default="127.0.0.1", help="address the suite connects to")
    make.add_argument("--esl-port", type=int, default=8021)
    make.add_argument("--node-name", default="fs1")
    make.add_argument("--xml-username", default="freeswitch")
    make.add_argument("--suite-env", type=Path, help="write the suite's settings here (0600)")
    make.add_argument("--force", action="store_true", help="replace existing files")
    make.set_defaults(handler=_command_secrets)

    check = commands.add_parser("check", help="assemble the configuration and report problems")
    check.add_argument(
        "--core-var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a variable FreeSWITCH computes itself (local_ip_v4, certs_dir, ...)",
    )
    check.set_defaults(handler=_command_check)

    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
