"""An emulation of FreeSWITCH's mod_httapi client, built from the captures and mod_httapi.c.

The admin flow tester, the tests, the bench and the simulator's httapi step all use it, so a flow
is exercised the way FreeSWITCH runs it:

* requests carry `session_id`, the app-data params, `hostname`, the Caller-* fields, persistent
  params from <params> (a re-set param moves to the end), then one-time fields: input under the
  playback's `name` with `input_type`, getVariable values, `exiting=true` on the final request;
  values are url-encoded as switch_url_encode does (`:` -> %3A, `/` kept);
* only HTTP 200 with a content type containing text/xml is used; anything else, an empty body,
  a body that is not XML, no <work> or no known tag ends the application; truncated XML runs what
  was parsed; responses count against a cumulative 1 MiB per call;
* <playback>/<speak>/<say>/<pause> with <bind> children collect digits through an emulation of
  switch_ivr_dmachine (exact and `~regex` binds, terminators, a digit that can match nothing is
  rejected at once); `loops=N` plays N+1 times; error-file and `<name>=invalid` only with an
  error-file; `strip` cuts the result at the first stripped character;
* <execute> runs only allow-listed applications and never data with `$` (else the call is hung up
  with DESTINATION_OUT_OF_ORDER); <answer/>, <preAnswer/>, <ringReady/> end the application.

It has no Django dependency: callers do the HTTP (or call the engine directly).
"""

from __future__ import annotations

import io
import re
import wave
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field

MAX_RESPONSE_BYTES = 1024 * 1024
DMACHINE_MAX_DIGITS = 255
END_TAGS = {"answer", "preAnswer", "ringReady"}
PLAY_TAGS = {"playback", "speak", "say", "pause", "vmName"}
GO_ON_TAGS = {"log", "continue", "getVariable", "voicemail", "sms", "recordCall"}
# switch_utils.h SWITCH_URL_UNSAFE; bytes outside printable ASCII are encoded as well.
_URL_UNSAFE = set('\r\n #%&+:;<=>?@[\\]^`{|}"')

# Caller-* fields in the order FreeSWITCH sends them (fixture 1_ivr_post_requests.json).
CALLER_FIELDS = (
    "Caller-Direction",
    "Caller-Logical-Direction",
    "Caller-Username",
    "Caller-Dialplan",
    "Caller-Caller-ID-Name",
    "Caller-Caller-ID-Number",
    "Caller-Orig-Caller-ID-Name",
    "Caller-Orig-Caller-ID-Number",
    "Caller-Network-Addr",
    "Caller-ANI",
    "Caller-Destination-Number",
    "Caller-Unique-ID",
    "Caller-Source",
    "Caller-Context",
    "Caller-Channel-Name",
    "Caller-Profile-Index",
    "Caller-Profile-Created-Time",
    "Caller-Channel-Created-Time",
    "Caller-Channel-Answered-Time",
    "Caller-Channel-Progress-Time",
    "Caller-Channel-Progress-Media-Time",
    "Caller-Channel-Hangup-Time",
    "Caller-Channel-Transfer-Time",
    "Caller-Channel-Resurrect-Time",
    "Caller-Channel-Bridged-Time",
    "Caller-Channel-Last-Hold",
    "Caller-Channel-Hold-Accum",
    "Caller-Screen-Bit",
    "Caller-Privacy-Hide-Name",
    "Caller-Privacy-Hide-Number",
)


def fs_url_encode(value: str) -> str:
    """Encode like switch_url_encode: unsafe characters and non-printable bytes as %XX."""
    out = []
    for byte in value.encode():
        char = chr(byte)
        if byte < 0x20 or byte > 0x7E or char in _URL_UNSAFE:
            out.append(f"%{byte:02X}")
        else:
            out.append(char)
    return "".join(out)


def fs_form_encode(fields: list[tuple[str, str]]) -> str:
    return "&".join(f"{fs_url_encode(name)}={fs_url_encode(value)}" for name, value in fields)


def caller_fields(
    *,
    uuid: str,
    caller_number: str,
    destination: str,
    caller_name: str = "",
    network_addr: str = "127.0.0.1",
    created_us: int = 0,
    context: str = "public",
) -> list[tuple[str, str]]:
    """Return the 30 Caller-* fields of an answered inbound sofia channel."""
    values = {
        "Caller-Direction": "inbound",
        "Caller-Logical-Direction": "inbound",
        "Caller-Username": caller_number,
        "Caller-Dialplan": "XML",
        "Caller-Caller-ID-Name": caller_name or caller_number,
        "Caller-Caller-ID-Number": caller_number,
        "Caller-Orig-Caller-ID-Name": caller_name or caller_number,
        "Caller-Orig-Caller-ID-Number": caller_number,
        "Caller-Network-Addr": network_addr,
        "Caller-ANI": caller_number,
        "Caller-Destination-Number": destination,
        "Caller-Unique-ID": uuid,
        "Caller-Source": "mod_sofia",
        "Caller-Context": context,
        "Caller-Channel-Name": f"sofia/internal/{caller_number}@{network_addr}:5060",
        "Caller-Profile-Index": "1",
        "Caller-Profile-Created-Time": str(created_us),
        "Caller-Channel-Created-Time": str(created_us),
        "Caller-Channel-Answered-Time": str(created_us),
        "Caller-Channel-Progress-Time": "0",
        "Caller-Channel-Progress-Media-Time": str(created_us),
        "Caller-Channel-Hangup-Time": "0",
        "Caller-Channel-Transfer-Time": "0",
        "Caller-Channel-Resurrect-Time": "0",
        "Caller-Channel-Bridged-Time": "0",
        "Caller-Channel-Last-Hold": "0",
        "Caller-Channel-Hold-Accum": "0",
        "Caller-Screen-Bit": "true",
        "Caller-Privacy-Hide-Name": "false",
        "Caller-Privacy-Hide-Number": "false",
    }
    return [(name, values[name]) for name in CALLER_FIELDS]


def parse_app_data(data: str) -> dict[str, str]:
    """Return the {name=value,...} params of httapi's application data."""
    match = re.match(r"^\s*\{(.*)\}", data or "")
    if match is None:
        return {}
    params: dict[str, str] = {}
    for item in match.group(1).split(","):
        name, _, value = item.partition("=")
        if name.strip():
            params[name.strip()] = value.strip()
    return params


# ---------------------------------------------------------------- profile


@dataclass(frozen=True)
class HttapiProfile:
    """The permissions of an httapi.conf.xml profile that shape what a document may do."""

    name: str = "default"
    url: str = ""
    method: str = "POST"
    set_params: bool = True
    set_vars: bool = True
    set_var_list: frozenset[str] | None = None  # None: any variable
    get_vars: bool = True
    get_var_list: frozenset[str] | None = None
    execute_apps: bool = True
    app_list: frozenset[str] = frozenset()
    expand_vars: bool = False
    dial: bool = False
    conference: bool = False

    @classmethod
    def from_conf(
        cls, text: str, name: str = "default", variables: dict[str, str] | None = None
    ) -> HttapiProfile:
        """Read one profile of an httapi.conf.xml (its $${vars} replaced from `variables`)."""
        for key, value in (variables or {}).items():
            text = text.replace(f"$${{{key}}}", value)
        root = ET.fromstring(text)  # noqa: S314 - our own configuration file
        for profile in root.iter("profile"):
            if profile.get("name") != name:
                continue
            params = {p.get("name"): p.get("value", "") for p in profile.iter("param")}
            options: dict[str, object] = {
                "name": name,
                "url": params.get("gateway-url", ""),
                # GET unless the profile says POST (README: default method).
                "method": (params.get("method") or "GET").upper(),
            }
            for permission in profile.iter("permission"):
                perm, value = permission.get("name", ""), _true(permission.get("value"))
                names = frozenset(
                    child.get("name", "")
                    for child in permission.iter()
                    if child.tag in ("variable", "application")
                )
                if perm == "set-params":
                    options["set_params"] = value
                elif perm == "set-vars":
                    options["set_vars"] = value
                    options["set_var_list"] = names or None
                elif perm == "get-vars":
                    options["get_vars"] = value
                    options["get_var_list"] = names or None
                elif perm == "execute-apps":
                    options["execute_apps"] = value
                    options["app_list"] = names
                elif perm == "expand-vars":
                    options["expand_vars"] = value
                elif perm == "dial":
                    options["dial"] = value
                elif perm == "conference":
                    options["conference"] = value
            return cls(**options)  # type: ignore[arg-type]
        raise ValueError(f"no httapi profile named {name}")


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in {"true", "yes", "on", "1", "enabled", "allow"}


# ---------------------------------------------------------------- digit machine


@dataclass(frozen=True)
class Bind:
    pattern: str
    action: str | None = None
    strip: str | None = None

    @property
    def is_regex(self) -> bool:
        return self.pattern.startswith("~")


def _check_match(  # noqa: PLR0912 - mirrors switch_ivr_dmachine_check_match
    binds: list[Bind], digits: str, terminators: str, is_timeout: bool, max_len: int
) -> tuple[str, Bind | None, str]:
    """switch_ivr_dmachine_check_match: return (kind, binding, digits after terminators)."""
    if not digits or not binds:
        return "none", None, digits
    rmatch: dict[int, bool] = {}
    pmatches = ematches = rmatches = 0
    for index, bound in enumerate(binds):
        if bound.is_regex:
            rmatch[index] = re.search(bound.pattern[1:], digits) is not None
            rmatches += 1
            pmatches += 1
        elif bound.pattern.startswith(digits):
            pmatches += 1
            ematches = 1
    for terminator in terminators:
        if terminator in digits:
            digits = digits[: digits.rindex(terminator)]
            is_timeout = True
            break
    best, exact, partial, both = "none", None, None, None
    for index, bound in enumerate(binds):
        if bound.is_regex:
            if rmatch[index]:
                if is_timeout or len(binds) == 1:
                    best, exact = "exact", bound
                    break
                best = "partial"
            continue
        pmatch = bound.pattern.startswith(digits)
        if (
            exact is None
            and pmatch
            and (((pmatches == 1 or ematches == 1) and not rmatches) or is_timeout)
            and bound.pattern == digits
        ):
            best, exact = "exact", bound
            if len(digits) == max_len:
                break
        if not (both and partial) and len(bound.pattern) != len(digits) and pmatch:
            if exact is not None:
                best, both = "both", bound
            else:
                best, partial = "partial", bound
        if both and exact and partial:
            break
    if not pmatches:
        best = "never"
    chosen = None
    if is_timeout and both is not None:
        chosen = exact or both
    if best == "exact" and exact is not None:
        chosen = exact
    if chosen is not None:
        return "exact", chosen, digits
    return best, None, digits


def dmachine_collect(
    binds: list[Bind], typed: str, terminators: str = ""
) -> tuple[Bind, str] | None:
    """Feed the typed keys one by one, then let the digit timeout expire.

    Return (binding, matched digits) or None for a no-match (none typed counts as no input).
    """
    bound, digits, _used = dmachine_feed(binds, typed, terminators)
    return None if bound is None else (bound, digits)


def dmachine_feed(  # noqa: PLR0911
    binds: list[Bind], typed: str, terminators: str = ""
) -> tuple[Bind | None, str, int]:
    """Like dmachine_collect, also returning how many of the typed keys were used."""
    max_len = (
        DMACHINE_MAX_DIGITS
        if any(b.is_regex for b in binds)
        else max((len(b.pattern) for b in binds), default=0)
    )
    digits = ""
    for used, key in enumerate(typed, start=1):
        if len(digits) >= max_len:
            return None, "", used - 1
        digits += key
        kind, bound, cut = _check_match(binds, digits, terminators, False, max_len)
        if kind == "never":
            return None, "", used  # switch_ivr_dmachine_ping: NEVER counts as a timeout
        if kind == "exact" and bound is not None:
            return bound, cut, used
        if kind == "none" and len(digits) == max_len:
            return None, "", used
    if not digits:
        return None, "", 0
    kind, bound, cut = _check_match(binds, digits, terminators, True, max_len)
    if kind == "exact" and bound is not None:
        return bound, cut, len(typed)
    return None, "", len(typed)


# ---------------------------------------------------------------- caller and results


@dataclass
class CallerScript:
    """What the caller does at each input opportunity, in order.

    An entry is the keys typed ("1", "1234567890#"), "" for silence, "say:<words>" for a
    spoken answer (heard only by a playback with ASR), or "hangup" to hang up then.
    With `stream=True` the inputs are one run of keys (a simulated call's planned digits):
    each prompt takes the keys its binds match and leaves the rest for the next prompt.
    """

    inputs: list[str] = field(default_factory=list)
    position: int = 0
    stream: bool = False

    @classmethod
    def from_keys(cls, keys: str) -> CallerScript:
        return cls(inputs=[keys] if keys else [], stream=True)

    def next_input(self) -> str:
        if self.position >= len(self.inputs):
            return ""
        value = self.inputs[self.position]
        self.position += 1
        return value

    def give_back(self, keys: str) -> None:
        """Return keys a prompt did not use (stream mode only: they go to the next prompt)."""
        if self.stream and keys:
            self.position -= 1
            self.inputs[self.position] = keys

    @property
    def exhausted(self) -> bool:
        return self.position >= len(self.inputs)


@dataclass
class Action:
    """One thing FreeSWITCH did while running a document."""

    tag: str
    detail: str = ""
    collected: str | None = None
    # How long FreeSWITCH waited for input after the prompt when none matched (input-timeout).
    waited_ms: int = 0


@dataclass
class HttapiRequest:
    method: str
    url: str
    fields: list[tuple[str, str]]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    @property
    def field_map(self) -> dict[str, str]:
        return dict(self.fields)

    def encoded(self) -> str:
        return fs_form_encode(self.fields)


@dataclass
class DocumentResult:
    actions: list[Action]
    # "next": ask for the next document; "break": httapi ends and the dialplan continues;
    # "hangup": the channel was hung up; "error": httapi ended on a bad answer (dialplan goes on).
    end: str
    reason: str = ""
    hangup_cause: str = ""


def short_wav(milliseconds: int = 500, rate: int = 8000) -> bytes:
    """Return a small WAV of silence (what a recording uploads in the emulation)."""
    output = io.BytesIO()
    with wave.open(output, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"\x00\x00" * (rate * milliseconds // 1000))
    return output.getvalue()


def _lenient_parse(body: bytes) -> ET.Element | None:
    """Parse as much of the XML as arrived, like switch_xml (truncated documents still run)."""
    parser = ET.XMLPullParser(events=("start",))
    root: ET.Element | None = None
    try:
        parser.feed(body)
        for _event, element in parser.read_events():
            if root is None:
                root = element
    except ET.ParseError:
        for _event, element in parser.read_events():
            if root is None:
                root = element
    return root


class HttapiSession:
    """One httapi application on one channel: builds requests and runs the documents answered."""

    def __init__(
        self,
        *,
        session_id: str,
        caller: list[tuple[str, str]],
        app_data: str = "",
        profile: HttapiProfile | None = None,
        hostname: str = "fs1",
    ) -> None:
        self.profile = profile or HttapiProfile()
        self.session_id = session_id
        app_params = parse_app_data(app_data)
        self.params: dict[str, str] = {}
        for name, value in app_params.items():
            self._param(name, value)
        self._param("hostname", hostname)
        for name, value in caller:
            self.params[name] = value
        if "url" not in self.params and self.profile.url:
            self._param("url", self.profile.url)
        self.one_time: dict[str, str] = {}
        self.files: dict[str, tuple[str, bytes]] = {}
        self.channel_variables: dict[str, str] = {}
        self.received_bytes = 0
        self.hung_up = False
        self.documents = 0

    def _param(self, name: str, value: str) -> None:
        # EF_UNIQ_HEADERS: setting a header again removes the old one and appends the new one.
        self.params.pop(name, None)
        self.params[name] = value

    def _one_time(self, name: str, value: str) -> None:
        self.one_time.pop(name, None)
        self.one_time[name] = value

    @property
    def url(self) -> str:
        return self.one_time.get("url") or self.params.get("url", "")

    def next_request(self) -> HttapiRequest:
        """Return the next request (one-time fields are sent once, then forgotten)."""
        merged = dict(self.params)
        for name, value in self.one_time.items():
            merged.pop(name, None)
            merged[name] = value
        fields = [("session_id", self.session_id), *merged.items()]
        request = HttapiRequest(
            method="POST" if self.files or self.profile.method == "POST" else "GET",
            url=self.url,
            fields=fields,
            files=dict(self.files),
        )
        self.one_time = {}
        self.files = {}
        return request

    def exiting_request(self) -> HttapiRequest:
        """Return the request FreeSWITCH sends once the channel has hung up."""
        self._one_time("exiting", "true")
        return self.next_request()

    def handle_response(  # noqa: PLR0912 - one exit per way httapi ends
        self, *, status: int, content_type: str, body: bytes, script: CallerScript
    ) -> DocumentResult:
        """Run an answer the way mod_httapi does and say what happens next."""
        self.documents += 1
        self.received_bytes += len(body)
        if self.received_bytes > MAX_RESPONSE_BYTES:
            return DocumentResult(
                [], "error", f"Oversized file detected [{self.received_bytes} bytes]"
            )
        if status != 200:
            return DocumentResult([], "error", f"Received HTTP response: {status}.")
        if "text/xml" not in (content_type or ""):
            return DocumentResult([], "error", f"Received unsupported content-type {content_type}")
        root = _lenient_parse(body) if body else None
        if root is None:
            return DocumentResult([], "error", "No instructions found in result!")
        if self.profile.set_params:
            for params in root.findall("params"):
                for child in params:
                    if child.text:
                        self._param(child.tag, child.text)
        if self.profile.set_vars:
            for variables in root.findall("variables"):
                for child in variables:
                    allowed = self.profile.set_var_list
                    if allowed is None or child.tag in allowed:
                        self.channel_variables[child.tag] = child.text or ""
        work = root.find("work")
        if work is None or len(work) == 0:
            return DocumentResult([], "error", "No instructions found in result!")
        return self._run_work(list(work), script)

    def _run_work(  # noqa: PLR0911, PLR0912, PLR0915 - one branch per mod_httapi tag
        self, tags: list[ET.Element], script: CallerScript
    ) -> DocumentResult:
        actions: list[Action] = []
        for element in tags:
            name = element.tag
            if element.get("action"):
                self._param("url", element.get("action", ""))
            if element.get("temp-action"):
                self._one_time("url", element.get("temp-action", ""))
            if name in PLAY_TAGS:
                result = self._play(element, script, actions)
                if result is not None:
                    return DocumentResult(actions, result[0], result[1], result[2])
            elif name == "record":
                self._record(element, script, actions)
                if self.hung_up:
                    return DocumentResult(actions, "hangup", "caller hung up", "NORMAL_CLEARING")
            elif name == "log":
                actions.append(Action("log", element.text or ""))
            elif name == "getVariable":
                variable = element.get("name", "")
                allowed = self.profile.get_var_list
                if not self.profile.get_vars or (allowed is not None and variable not in allowed):
                    return DocumentResult(
                        actions, "error", f"variable {variable} permission denied!"
                    )
                if variable in self.channel_variables:
                    if element.get("permanent") in ("true", "1", "yes"):
                        self._param(variable, self.channel_variables[variable])
                    else:
                        self._one_time(variable, self.channel_variables[variable])
                actions.append(Action("getVariable", variable))
            elif name == "execute":
                application = element.get("application", "")
                data = element.get("data") or element.text or ""
                allowed = self.profile.execute_apps and application in self.profile.app_list
                if not application or not allowed or (not self.profile.expand_vars and "$" in data):
                    actions.append(Action("execute", f"{application} denied"))
                    self.hung_up = True
                    return DocumentResult(
                        actions, "hangup", "Permission Denied!", "DESTINATION_OUT_OF_ORDER"
                    )
                if application in ("set", "export") and "=" in data:
                    variable, _, value = data.partition("=")
                    self.channel_variables[variable] = value
                actions.append(Action("execute", f"{application} {data}".strip()))
            elif name in GO_ON_TAGS:
                actions.append(Action(name, element.get("name", "")))
            elif name == "hangup":
                cause = element.get("cause") or (element.text or "").strip() or "NORMAL_CLEARING"
                actions.append(Action("hangup", cause))
                self.hung_up = True
                return DocumentResult(actions, "hangup", "hangup tag", cause)
            elif name == "break":
                actions.append(Action("break"))
                return DocumentResult(actions, "break", "break tag")
            elif name in END_TAGS:
                actions.append(Action(name))
                return DocumentResult(actions, "break", f"{name} ends the application")
            elif name in ("dial", "conference"):
                permitted = self.profile.dial if name == "dial" else self.profile.conference
                if not permitted:
                    self.hung_up = True
                    return DocumentResult(
                        actions, "hangup", "Permission Denied!", "DESTINATION_OUT_OF_ORDER"
                    )
                actions.append(Action(name, (element.text or "").strip()))
                return DocumentResult(actions, "break", f"{name} left httapi")
            else:
                return DocumentResult(actions, "error", f"Unsupported Tag: [{name}]")
        return DocumentResult(actions, "next")

    def _play(
        self, element: ET.Element, script: CallerScript, actions: list[Action]
    ) -> tuple[str, str, str] | None:
        """parse_playback: play, collect through binds; None means go on with the document."""
        name = element.get("name") or "dialed_digits"
        target = element.get("file") or element.get("text") or element.get("milliseconds") or ""
        binds = [
            Bind(pattern=(child.text or ""), action=child.get("action"), strip=child.get("strip"))
            for child in element.findall("bind")
        ]
        asr = bool(element.get("asr-engine") and element.get("asr-grammar"))
        loops_value = element.get("loops")
        loops = int(loops_value) if loops_value and loops_value.lstrip("-").isdigit() else 0
        error_file = element.get("error-file")
        terminators = element.get("terminators") or ""
        for _iteration in self._loop_range(loops):
            actions.append(Action(element.tag, target))
            if not binds and not asr:
                return None
            typed = script.next_input()
            if typed == "hangup":
                self.hung_up = True
                return ("hangup", "caller hung up", "NORMAL_CLEARING")
            if typed.startswith("say:"):
                if asr:
                    self._one_time(name, typed[4:])
                    self._one_time("input_type", "detected_speech")
                    actions[-1].collected = typed
                    return None
                typed = ""
            bound, digits, used = (
                dmachine_feed(binds, typed, terminators) if binds else (None, "", 0)
            )
            script.give_back(typed[used:])
            if bound is not None:
                for char in bound.strip or "":
                    if char in digits:
                        digits = digits[: digits.index(char)]
                self._one_time(name, digits)
                self._one_time("input_type", "dtmf")
                actions[-1].collected = digits
                action = bound.action or element.get("action")
                if action:
                    self._param("url", action)
                return None
            if not typed:
                timeout_value = element.get("input-timeout") or ""
                actions[-1].waited_ms = int(timeout_value) if timeout_value.isdigit() else 5000
            if error_file:
                actions.append(Action("playback", error_file))
                self._one_time(name, "invalid")
                self._one_time("input_type", "invalid")
        return None

    @staticmethod
    def _loop_range(loops: int) -> Iterator[int]:
        # do { ... } while (loops-- > 0): N+1 plays; a negative count loops "forever" (capped).
        count = 100 if loops < 0 else loops + 1
        yield from range(count)

    def _record(self, element: ET.Element, script: CallerScript, actions: list[Action]) -> None:
        name = element.get("name") or "attached_file"
        file_name = element.get("file") or "recording.wav"
        if element.get("beep-file"):
            actions.append(Action("playback", element.get("beep-file", "")))
        typed = script.next_input()
        actions.append(Action("record", f"{name} limit={element.get('limit', '0')}"))
        # The recording is attached to the next request (or to the exiting one after a hangup).
        self.files[name] = (file_name, short_wav())
        if typed == "hangup":
            self.hung_up = True


@dataclass
class DialogTurn:
    request: HttapiRequest
    status: int
    content_type: str
    body: bytes
    result: DocumentResult | None


def run_dialog(
    session: HttapiSession,
    script: CallerScript,
    fetch: object,
    *,
    max_documents: int = 200,
) -> tuple[list[DialogTurn], DocumentResult]:
    """Drive a whole httapi application: fetch(request) -> (status, content_type, body).

    Return every turn (the final `exiting=true` request included, whose answer is not parsed)
    and the result that ended the application.
    """
    turns: list[DialogTurn] = []
    final = DocumentResult([], "error", "too many documents")
    for _index in range(max_documents):
        request = session.next_request()
        status, content_type, body = fetch(request)  # type: ignore[operator]
        result = session.handle_response(
            status=status, content_type=content_type, body=body, script=script
        )
        turns.append(DialogTurn(request, status, content_type, body, result))
        if result.end != "next":
            final = result
            break
    exiting = session.exiting_request()
    status, content_type, body = fetch(exiting)  # type: ignore[operator]
    turns.append(DialogTurn(exiting, status, content_type, body, None))
    return turns, final
