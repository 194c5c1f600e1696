"""The IVR engine: one mod_httapi request in, one work document out.

The web process keeps nothing about a call between requests. Everything the next step needs (flow
version, waiting node, retries, language, the attributes gathered so far, the bytes of documents
already sent) travels in the `cc_state` param: signed, bound to the call's session id, and
returned by FreeSWITCH on every later request. A tampered, foreign or expired state is refused and
the caller is sent on to the dialplan's safe destination.

How FreeSWITCH behaves (shared/fixtures/httapi/README.md) shapes the documents:
* input is collected by <playback> with <bind> children and arrives once, on the next request,
  under the playback's name (INPUT_NAME) with input_type=dtmf; a timeout sends no field at all;
* a menu binds any single key (`~^[0-9*#]$`) so the suite, not FreeSWITCH, tells invalid keys
  from silence and can answer each differently;
* steps that need no caller input (play, lookups, hours, set) run in the same request, so a
  document ends either waiting for the caller or leaving the IVR: no tight request loops;
* responses count against a 1 MiB per-call budget; the state tracks it and the call is parked
  in the fallback queue before the budget could run out;
* leaving for a queue is <break/> after <variables> set the cc_* channel variables, so the
  dialplan parks the caller; FreeSWITCH sends one last request with exiting=true at hangup,
  which tells an abandoned call from a queued one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.core import signing

from apps.core.crypto import decrypt_text, encrypt_text
from apps.ivr import documents
from apps.ivr.conf import ivr_setting
from apps.ivr.documents import INPUT_NAME, STATE_PARAM, VOICEMAIL_NAME, bind, tag
from apps.ivr.graph import Graph, Node, graph_load
from apps.ivr.integrations import (
    LookupFailed,
    customer_find_by_phone,
    http_lookup,
    json_path,
)
from apps.ivr.prompts import ResolvedPrompt, prompt_play_attributes, prompts_resolve
from apps.ivr.schedules import CLOSED, HOLIDAY, OPEN, schedule_state

logger = logging.getLogger(__name__)

STATE_SALT = "ivr.httapi-state"
MENU_BIND = "~^[0-9*#]$"
# Any digits ended by "#" (cut by terminators) or by the inter-digit timeout; lengths and
# patterns are checked by the suite so a wrong entry is told apart from silence.
COLLECT_BINDS = ("~^[0-9*]+#$", "~^[0-9*]+$")
MAX_HOPS = 64
DEFAULT_TIMEOUT_MS = 5000
DEFAULT_RETRIES = 2
BUDGET_WIDTH = 7
RECORD_BEEP = "tone_stream://%(400,0,800)"

OUTCOME_IN_PROGRESS = "in_progress"
OUTCOME_QUEUED = "queued"
OUTCOME_TRANSFERRED = "transferred"
OUTCOME_CALLBACK = "callback"
OUTCOME_VOICEMAIL = "voicemail"
OUTCOME_HUNG_UP = "hung_up"
OUTCOME_ABANDONED = "abandoned"
OUTCOME_FALLBACK = "fallback"


class StateRefused(Exception):
    """The cc_state param is missing its signature, tampered with, expired or another call's."""


@dataclass
class CallState:
    call: str
    flow: int
    version: int
    path: int | None = None
    node: str = ""
    timeouts: int = 0
    invalid: int = 0
    language: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, str] = field(default_factory=dict)
    steps: int = 0
    seq: int = 0
    budget: int = 0
    started_ms: int = 0
    outcome: str = ""
    ended: bool = False
    did: str = ""
    caller: str = ""

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "c": self.call,
            "f": self.flow,
            "v": self.version,
            "p": self.path,
            "n": self.node,
            "r": [self.timeouts, self.invalid],
            "l": self.language,
            "s": self.steps,
            "q": self.seq,
            "b": str(self.budget).zfill(BUDGET_WIDTH),
            "t": self.started_ms,
        }
        if self.attrs:
            payload["a"] = self.attrs
        if self.vars:
            # Collected entries (order numbers, account numbers...) pass through FreeSWITCH:
            # encrypted (AES-256-GCM), not only signed, so its logs never show them.
            payload["x"] = encrypt_text(json.dumps(self.vars, separators=(",", ":")))
        if self.outcome:
            payload["o"] = self.outcome
        if self.ended:
            payload["e"] = 1
        return payload

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> CallState:
        try:
            timeouts, invalid = payload["r"]
            return cls(
                call=str(payload["c"]),
                flow=int(payload["f"]),
                version=int(payload["v"]),
                path=payload.get("p"),
                node=str(payload.get("n", "")),
                timeouts=int(timeouts),
                invalid=int(invalid),
                language=str(payload.get("l", "")),
                attrs=dict(payload.get("a", {})),
                vars=_decrypt_vars(payload.get("x")),
                steps=int(payload.get("s", 0)),
                seq=int(payload.get("q", 0)),
                budget=int(payload.get("b", 0)),
                started_ms=int(payload.get("t", 0)),
                outcome=str(payload.get("o", "")),
                ended=bool(payload.get("e")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StateRefused("malformed state") from exc


def _decrypt_vars(blob: object) -> dict[str, str]:
    if not blob:
        return {}
    try:
        values = json.loads(decrypt_text(str(blob)))
    except Exception as exc:
        raise StateRefused("undecryptable state") from exc
    if not isinstance(values, dict):
        raise StateRefused("malformed state")
    return {str(name): str(value) for name, value in values.items()}


def caller_facts(fields: Mapping[str, str]) -> tuple[str, str]:
    """Return (caller number, dialled number) of a request: FreeSWITCH sends them every time."""
    caller = fields.get("Caller-Caller-ID-Number") or fields.get("Caller-ANI", "")
    did = fields.get("cc_did") or fields.get("Caller-Destination-Number", "")
    return caller, did


def state_sign(state: CallState) -> str:
    """Return the state as a signed, timestamped token (HMAC-SHA256 with SECRET_KEY)."""
    return signing.dumps(state.to_payload(), salt=STATE_SALT)


def state_load(token: str, session_id: str) -> CallState:
    """Return the state in the token if its signature holds and it belongs to this call."""
    try:
        payload = signing.loads(token, salt=STATE_SALT, max_age=ivr_setting("IVR_STATE_MAX_AGE"))
    except signing.BadSignature as exc:  # SignatureExpired is a BadSignature too
        raise StateRefused(str(exc)) from exc
    if not isinstance(payload, dict):
        raise StateRefused("malformed state")
    state = CallState.from_payload(payload)
    if not session_id or state.call != session_id:
        raise StateRefused("the state belongs to another call")
    return state


def state_load_for(fields: Mapping[str, str], token: str) -> CallState:
    """Return the request's state with the caller facts of the request filled in."""
    state = state_load(token, fields.get("session_id", ""))
    state.caller, state.did = caller_facts(fields)
    return state


@dataclass(frozen=True)
class StepEvent:
    node: str
    kind: str
    event: str
    detail: str
    elapsed_ms: int
    at: dt.datetime
    seq: int


@dataclass(frozen=True)
class PromptPlay:
    node: str
    name: str
    language: str
    text: str
    tag: str
    target: str  # the file URL, the TTS engine, or the fallback tone


class Effects(Protocol):
    """Everything the engine writes or asks of the outside world (the tester replaces it)."""

    def path_start(self, *, state: CallState, graph: Graph, now: dt.datetime) -> int | None: ...

    def path_record(
        self,
        *,
        state: CallState,
        events: list[StepEvent],
        ended_at: dt.datetime | None,
        outcome: str,
    ) -> None: ...

    def callback_create(self, *, state: CallState, number: str, queue: str) -> None: ...

    def voicemail_store(self, *, state: CallState, upload: Any, queue: str) -> None: ...

    def transfer(self, *, state: CallState, destination: str) -> bool: ...


@dataclass
class StepInput:
    fields: Mapping[str, str]
    now: dt.datetime
    base_url: str
    files: Mapping[str, Any] = field(default_factory=dict)
    # Only the admin tester may run a draft; FreeSWITCH's requests always run the live version.
    version_override: int | None = None


@dataclass
class StepOutput:
    document: bytes
    state: CallState | None = None
    events: list[StepEvent] = field(default_factory=list)
    prompts: list[PromptPlay] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    outcome: str = ""
    refused: str = ""
    note: str = ""


def now_ms(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


def httapi_step(step: StepInput, effects: Effects) -> StepOutput:
    """Answer one mod_httapi request with the next work document."""
    fields = step.fields
    session_id = fields.get("session_id", "")
    if fields.get("exiting") == "true":
        return _on_exiting(step, effects, session_id)
    token = fields.get(STATE_PARAM)
    if not token:
        return _on_first_request(step, effects, session_id)
    try:
        state = state_load_for(fields, token)
    except StateRefused as exc:
        logger.warning("httapi state refused for session %s: %s", session_id, exc)
        return StepOutput(
            document=documents.break_document(), refused=str(exc), outcome=OUTCOME_FALLBACK
        )
    try:
        graph = graph_load(state.version)
    except Exception:
        logger.exception("IVR version %s cannot be loaded", state.version)
        return StepOutput(document=documents.break_document(), outcome=OUTCOME_FALLBACK)
    run = Run(graph, state, step, effects)
    run.resume()
    return run.finish()


_LIVE_VERSIONS: dict[str, tuple[float, int | None]] = {}


def live_version_for_number(did: str) -> int | None:
    """Return the live version id of the flow answering a number (cached IVR_DID_CACHE_SECONDS).

    Publishing clears this process's cache at once; other processes see a new version within
    the cache delay (calls already in a flow keep theirs anyway).
    """
    from apps.ivr.models import InboundNumber

    ttl = float(ivr_setting("IVR_DID_CACHE_SECONDS"))
    cached = _LIVE_VERSIONS.get(did)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    rows = list(
        InboundNumber.objects.filter(number__in={did, did.lstrip("+")}, is_active=True).values_list(
            "flow__live_version_id", flat=True
        )[:1]
    )
    version_id = rows[0] if rows else None
    if ttl > 0:
        if len(_LIVE_VERSIONS) > 10000:
            _LIVE_VERSIONS.clear()
        _LIVE_VERSIONS[did] = (time.monotonic() + ttl, version_id)
    return version_id


def live_versions_forget() -> None:
    """Forget the cached number -> live version answers (after a publish or a number change)."""
    _LIVE_VERSIONS.clear()


def _on_first_request(step: StepInput, effects: Effects, session_id: str) -> StepOutput:
    from apps.ivr.models import FlowVersion

    fields = step.fields
    caller, did = caller_facts(fields)
    version_id = step.version_override
    if version_id is None:
        version_id = live_version_for_number(did)
    if version_id is None or not session_id:
        logger.warning("no live IVR flow for number %r (session %s)", did, session_id)
        return StepOutput(
            document=documents.break_document(), outcome=OUTCOME_FALLBACK, note="no flow"
        )
    try:
        graph = graph_load(version_id)
    except FlowVersion.DoesNotExist:
        return StepOutput(document=documents.break_document(), outcome=OUTCOME_FALLBACK)
    state = CallState(
        call=session_id,
        flow=graph.flow_id,
        version=graph.version_id,
        language=graph.default_language,
        started_ms=now_ms(step.now),
        did=did,
        caller=caller,
    )
    state.path = effects.path_start(state=state, graph=graph, now=step.now)
    run = Run(graph, state, step, effects)
    run.variables_dirty = True
    run.advance(graph.entry)
    return run.finish()


def _on_exiting(step: StepInput, effects: Effects, session_id: str) -> StepOutput:
    token = step.fields.get(STATE_PARAM)
    if not token:
        return StepOutput(document=documents.exit_ack_document())
    try:
        state = state_load_for(step.fields, token)
    except StateRefused as exc:
        return StepOutput(document=documents.exit_ack_document(), refused=str(exc))
    events: list[StepEvent] = []
    outcome = state.outcome
    upload = step.files.get(VOICEMAIL_NAME)
    if upload is not None and not state.outcome:
        # The caller hung up while recording: FreeSWITCH attaches the recording to this request.
        queue = str(state.vars.get("_vm_queue", ""))
        effects.voicemail_store(state=state, upload=upload, queue=queue)
        outcome = OUTCOME_VOICEMAIL
    if state.path is not None and not state.ended and outcome != OUTCOME_TRANSFERRED:
        state.seq += 1
        events.append(
            StepEvent(
                node=state.node,
                kind="",
                event="hangup",
                detail="",
                seq=state.seq,
                at=step.now,
                elapsed_ms=max(0, now_ms(step.now) - state.started_ms),
            )
        )
        final = outcome if outcome in (OUTCOME_CALLBACK, OUTCOME_VOICEMAIL) else OUTCOME_ABANDONED
        effects.path_record(state=state, events=events, ended_at=step.now, outcome=final)
        outcome = final
    return StepOutput(
        document=documents.exit_ack_document(), state=state, events=events, outcome=outcome
    )


class Run:
    """One request's worth of flow: resume the waiting node, then walk until the next wait."""

    def __init__(self, graph: Graph, state: CallState, step: StepInput, effects: Effects) -> None:
        self.graph = graph
        self.state = state
        self.step = step
        self.effects = effects
        self.work: list[str] = []
        self.events: list[StepEvent] = []
        self.prompts: list[PromptPlay] = []
        self.variables_dirty = False
        self.ended = False
        self.outcome = ""
        self._prompt_cache: dict[str, ResolvedPrompt] | None = None
        self._prompt_language = ""

    # ------------------------------------------------------------------ bookkeeping

    def event(self, node: Node | None, event: str, detail: str = "") -> None:
        self.state.seq += 1
        self.events.append(
            StepEvent(
                node=node.key if node else self.state.node,
                kind=node.kind if node else "",
                event=event,
                detail=detail[:200],
                seq=self.state.seq,
                at=self.step.now,
                elapsed_ms=max(0, now_ms(self.step.now) - self.state.started_ms),
            )
        )

    def set_attribute(self, name: str, value: Any) -> None:
        if value in (None, "", []):
            return
        if self.state.attrs.get(name) != value:
            self.state.attrs[name] = value
            self.variables_dirty = True

    def channel_variables(self) -> dict[str, str]:
        attrs = self.state.attrs
        variables = {
            "cc_language": self.state.language,
            "cc_ivr_path": str(self.state.path) if self.state.path is not None else "",
        }
        if attrs.get("queue"):
            variables["cc_queue"] = str(attrs["queue"])
        if attrs.get("priority") is not None:
            variables["cc_priority"] = str(attrs["priority"])
        if attrs.get("skills"):
            variables["cc_skills"] = ",".join(attrs["skills"])
        if attrs.get("tier"):
            variables["cc_tier"] = str(attrs["tier"])
        if attrs.get("customer_id"):
            variables["cc_customer_id"] = str(attrs["customer_id"])
        return {name: value for name, value in variables.items() if value}

    # ------------------------------------------------------------------ prompts

    def resolved(self, name: str) -> ResolvedPrompt | None:
        if self._prompt_cache is None or self._prompt_language != self.state.language:
            names = {
                prompt
                for node in self.graph.nodes.values()
                for _key, prompt, _required in node.prompt_names()
                if prompt
            }
            self._prompt_cache = prompts_resolve(
                names,
                self.state.language,
                self.graph.default_language,
                cache_key=self.graph.version_id if self.graph.is_published else None,
            )
            self._prompt_language = self.state.language
        return self._prompt_cache.get(name)

    def play_tag(
        self,
        node: Node,
        name: str,
        *,
        attributes: dict[str, object] | None = None,
        binds: tuple[str, ...] = (),
    ) -> str:
        prompt = self.resolved(name)
        if prompt is None:
            logger.error("IVR prompt %s missing (flow %s)", name, self.graph.flow_name)
        tag_name, play = prompt_play_attributes(prompt, self.step.base_url)
        self.prompts.append(
            PromptPlay(
                node=node.key,
                name=name,
                language=prompt.language if prompt else "",
                text=prompt.text if prompt else "",
                tag=tag_name,
                target=play.get("file") or play.get("engine", ""),
            )
        )
        return tag(tag_name, {**play, **(attributes or {})}, "".join(bind(b) for b in binds))

    def play(self, node: Node, name: str | None) -> None:
        if name:
            self.work.append(self.play_tag(node, name))

    # ------------------------------------------------------------------ walking

    def advance(self, key: str | None) -> None:
        hops = 0
        while key and not self.ended:
            hops += 1
            node = self.graph.node(key)
            if node is None or hops > MAX_HOPS:
                self.event(node, "error", "missing node" if node is None else "too many steps")
                self.exit_fallback()
                return
            self.event(node, "enter")
            handler = getattr(self, f"enter_{node.kind}", None)
            if handler is None:
                self.event(node, "error", f"unknown kind {node.kind}")
                self.exit_fallback()
                return
            key = handler(node)

    def resume(self) -> None:
        state = self.state
        state.steps += 1
        if state.steps > int(ivr_setting("IVR_MAX_STEPS")):
            self.event(None, "error", "step limit")
            self.exit_fallback()
            return
        if state.outcome == OUTCOME_TRANSFERRED:
            # Asked again after the transfer pause: the transfer did not happen.
            node = self.graph.node(state.node)
            state.outcome = ""
            state.node = ""
            target = node.config.get("on_failure") if node is not None else None
            self.event(node, "failed", "transfer did not happen")
            if target:
                self.advance(str(target))
            else:
                self.exit_fallback()
            return
        if state.ended:
            self.exit_fallback()
            return
        node = self.graph.node(state.node)
        if node is None:
            self.event(None, "error", "waiting node missing")
            self.exit_fallback()
            return
        handler = getattr(self, f"resume_{node.kind}", None)
        if handler is None:
            self.exit_fallback()
            return
        self.advance(handler(node))

    def finish(self) -> StepOutput:
        """Render the document, keep within the per-call budget, and record the path."""
        state = self.state
        # Final documents carry the state too: FreeSWITCH keeps sending the last params it got,
        # and the exiting=true request must tell a queued caller from one who hung up.
        state.ended = self.ended and state.outcome != OUTCOME_TRANSFERRED
        variables = self.channel_variables() if (self.variables_dirty or self.ended) else {}
        used = state.budget
        body = self._render(variables, self.work)
        limit = int(ivr_setting("IVR_DOCUMENT_BUDGET")) - int(ivr_setting("IVR_BUDGET_RESERVE"))
        if state.budget > limit:
            # Not enough budget left for another round: park the caller while we still can
            # (the reserve always leaves room for this small closing document).
            state.budget = used
            self.work = []
            self.prompts = []
            self.event(None, "error", "document budget")
            self.exit_fallback()
            state.ended = True
            variables = self.channel_variables()
            body = self._render(variables, self.work)
        # A transfer ends the IVR too, though its document still waits for a failed transfer.
        ended_at = self.step.now if self.ended else None
        self.effects.path_record(
            state=state,
            events=self.events,
            ended_at=ended_at,
            outcome=state.outcome or OUTCOME_IN_PROGRESS,
        )
        return StepOutput(
            document=body,
            state=state,
            events=self.events,
            prompts=self.prompts,
            variables=variables,
            outcome=state.outcome or OUTCOME_IN_PROGRESS,
        )

    def _render(self, variables: dict[str, str], work: list[str]) -> bytes:
        state = self.state
        used = state.budget
        # The state records the budget including this very document. The token has a fixed
        # width budget field, so its length does not depend on the value written into it.
        draft = documents.document(
            params={STATE_PARAM: state_sign(state)}, variables=variables, work=work
        )
        state.budget = used + len(draft)
        body = documents.document(
            params={STATE_PARAM: state_sign(state)}, variables=variables, work=work
        )
        state.budget = used + len(body)
        return body

    # ------------------------------------------------------------------ endings

    def end(self, node: Node | None, outcome: str, work_tail: list[str]) -> None:
        self.work.extend(work_tail)
        self.ended = True
        # A flow that took a callback or a voicemail and then says goodbye keeps that outcome.
        if not (
            outcome == OUTCOME_HUNG_UP
            and self.state.outcome in (OUTCOME_CALLBACK, OUTCOME_VOICEMAIL)
        ):
            self.state.outcome = outcome
        if node is not None:
            self.state.node = node.key
        self.event(node, "exit", outcome)

    def exit_fallback(self) -> None:
        """Leave httapi for the dialplan's safe destination (the flow's fallback queue, if set)."""
        if self.graph.fallback_queue:
            self.set_attribute("queue", self.graph.fallback_queue)
        self.ended = True
        self.state.outcome = OUTCOME_FALLBACK
        self.event(None, "exit", OUTCOME_FALLBACK)
        self.work.append(tag("break"))

    def wait(self, node: Node) -> None:
        if self.state.node != node.key:
            self.state.timeouts = self.state.invalid = 0
        self.state.node = node.key

    def retry(self, node: Node, reason: str) -> str | None:
        """Count a timeout or an invalid entry: re-prompt, or return the failure branch."""
        if reason == "timeout":
            self.event(node, "timeout")
            self.state.timeouts += 1
            count = self.state.timeouts
        else:
            self.state.invalid += 1
            count = self.state.invalid
        if count <= int(node.config.get("retries", DEFAULT_RETRIES)):
            self.play(
                node, node.config.get("timeout_prompt" if reason == "timeout" else "invalid_prompt")
            )
            self.prompt_for_input(node)
            return None
        self.event(node, "failed", reason)
        self.state.timeouts = self.state.invalid = 0
        self.state.node = ""
        # A language choice that fails goes on in the current (default) language.
        target = node.config.get("next" if node.kind == "language" else "on_failure")
        if not target:
            self.exit_fallback()
            return None
        return str(target)

    def input_of(self) -> tuple[str, str]:
        """Return (input_type, value) posted for the waiting node; ("", "") after a timeout."""
        fields = self.step.fields
        value = fields.get(INPUT_NAME)
        if value is None:
            return "", ""
        return fields.get("input_type", "dtmf"), value

    # ------------------------------------------------------------------ waiting nodes

    def prompt_for_input(self, node: Node) -> None:
        config = node.config
        timeout = int(config.get("timeout_ms", DEFAULT_TIMEOUT_MS))
        attributes: dict[str, object] = {"name": INPUT_NAME, "input-timeout": timeout}
        if node.kind == "collect":
            attributes["digit-timeout"] = int(config.get("digit_timeout_ms", 3000))
            attributes["terminators"] = "#"
            binds: tuple[str, ...] = COLLECT_BINDS
        else:
            attributes["digit-timeout"] = 1500
            binds = (MENU_BIND,)
        if node.kind == "speech" and ivr_setting("IVR_SPEECH_ASR_ENGINE"):
            prompt = self.resolved(str(config.get("prompt", "")))
            if prompt is not None and prompt.variant_id is not None:
                attributes["asr-engine"] = ivr_setting("IVR_SPEECH_ASR_ENGINE")
                attributes["asr-grammar"] = ivr_setting("IVR_SPEECH_ASR_GRAMMAR") or "default"
        self.work.append(
            self.play_tag(node, str(config.get("prompt", "")), attributes=attributes, binds=binds)
        )

    def enter_menu(self, node: Node) -> str | None:
        self.wait(node)
        self.prompt_for_input(node)
        return None

    enter_language = enter_menu
    enter_collect = enter_menu
    enter_speech = enter_menu

    def _choice(self, node: Node, mapping_key: str = "options") -> tuple[str, str | None]:
        """Return (outcome, value): ("timeout"|"invalid"|"chosen", mapped value)."""
        input_type, value = self.input_of()
        if not input_type:
            return "timeout", None
        if input_type == "invalid":
            self.event(node, "invalid")
            return "invalid", None
        options = node.config.get(mapping_key) or {}
        if value in options:
            self.event(node, "input", value)
            return "chosen", str(options[value])
        self.event(node, "invalid", value)
        return "invalid", None

    def resume_menu(self, node: Node) -> str | None:
        outcome, target = self._choice(node)
        if outcome == "chosen":
            self.state.node = ""
            return target
        return self.retry(node, outcome)

    def resume_language(self, node: Node) -> str | None:
        outcome, language = self._choice(node)
        if outcome == "chosen" and language:
            self.state.language = language
            self.variables_dirty = True
            self.state.node = ""
            return str(node.config["next"])
        return self.retry(node, outcome)

    def resume_collect(self, node: Node) -> str | None:
        input_type, value = self.input_of()
        if not input_type:
            return self.retry(node, "timeout")
        config = node.config
        digits = value.replace("#", "")
        low, high = int(config.get("min_length", 1)), int(config.get("max_length", 10))
        pattern = config.get("pattern")
        valid = (
            input_type == "dtmf"
            and low <= len(digits) <= high
            and digits.isdigit()
            and (not pattern or re.fullmatch(str(pattern), digits) is not None)
        )
        shown = "•" * len(digits) if config.get("sensitive") else digits
        if not valid:
            self.event(node, "invalid", shown)
            return self.retry(node, "invalid")
        self.event(node, "input", shown)
        self.state.vars[str(config["variable"])] = digits
        self.state.node = ""
        return str(config["next"])

    def resume_speech(self, node: Node) -> str | None:
        input_type, value = self.input_of()
        if input_type == "detected_speech":
            text = speech_text(value)
            intent = match_intent(text, node.config.get("intents") or {})
            if intent is not None:
                self.event(node, "input", f"{intent}: {text}"[:200])
                self.state.node = ""
                return str(node.config["intents"][intent]["next"])
            self.event(node, "invalid", text[:200])
            return self.retry(node, "invalid")
        return self.resume_menu(node)

    # ------------------------------------------------------------------ other nodes

    def enter_play(self, node: Node) -> str | None:
        self.play(node, node.config.get("prompt"))
        return str(node.config["next"])

    def enter_set(self, node: Node) -> str | None:
        config = node.config
        if config.get("priority") not in (None, ""):
            self.set_attribute("priority", int(config["priority"]))
        if config.get("skills"):
            merged = sorted({*self.state.attrs.get("skills", []), *config["skills"]})
            self.set_attribute("skills", merged)
        if config.get("tier"):
            self.set_attribute("tier", str(config["tier"]))
        self.event(node, "branch", ", ".join(f"{k}={v}" for k, v in self.state.attrs.items()))
        return str(config["next"])

    def enter_lookup_customer(self, node: Node) -> str | None:
        try:
            match = customer_find_by_phone(self.state.caller)
        except Exception:
            logger.exception("customer lookup failed")
            match = None
        if match is None:
            self.event(node, "branch", "not found")
            return str(node.config["next_not_found"])
        self.set_attribute("customer_id", match.customer_id)
        self.set_attribute("tier", match.tier)
        self.event(node, "branch", f"found {match.customer_id}")
        return str(node.config["next_found"])

    def enter_lookup_http(self, node: Node) -> str | None:
        config = node.config
        timeout = min(
            int(config.get("timeout_ms", 2000)), int(ivr_setting("IVR_LOOKUP_TIMEOUT_MS"))
        )
        params = {
            "caller": self.state.caller,
            "did": self.state.did,
            "language": self.state.language,
            "call": self.state.call,
            **{name: value for name, value in self.state.vars.items() if not name.startswith("_")},
        }
        started = time.monotonic()
        try:
            data = http_lookup(str(config["url"]), params, timeout)
        except LookupFailed as exc:
            self.event(node, "branch", f"failed: {exc}"[:200])
            return str(config["on_failure"])
        for attribute, path in (config.get("assign") or {}).items():
            value = json_path(data, str(path))
            if value is None:
                continue
            if attribute == "priority":
                try:
                    self.set_attribute("priority", max(0, min(100, int(value))))
                except (TypeError, ValueError):
                    continue
            elif attribute == "skills":
                items = value if isinstance(value, list) else str(value).split(",")
                self.set_attribute("skills", sorted({str(item).strip() for item in items if item}))
            elif attribute in ("queue", "tier", "customer_id"):
                self.set_attribute(attribute, str(value)[:64])
            else:
                self.state.vars[attribute] = str(value)[:64]
        elapsed = int((time.monotonic() - started) * 1000)
        self.event(node, "branch", f"ok in {elapsed} ms")
        return str(config["next"])

    def enter_hours(self, node: Node) -> str | None:
        state_now = schedule_state(str(node.config.get("schedule", "")), self.step.now)
        self.event(node, "branch", state_now or "no schedule")
        if state_now == OPEN:
            return str(node.config["next_open"])
        if state_now == HOLIDAY and node.config.get("next_holiday"):
            return str(node.config["next_holiday"])
        if state_now in (CLOSED, HOLIDAY):
            return str(node.config["next_closed"])
        return str(node.config["next_closed"])

    def enter_queue(self, node: Node) -> str | None:
        config = node.config
        self.set_attribute("queue", str(config["queue"]))
        if config.get("priority") not in (None, ""):
            self.set_attribute("priority", int(config["priority"]))
        if config.get("skills"):
            self.set_attribute(
                "skills", sorted({*self.state.attrs.get("skills", []), *config["skills"]})
            )
        self.play(node, config.get("prompt"))
        self.end(node, OUTCOME_QUEUED, [tag("break")])
        return None

    def enter_hangup(self, node: Node) -> str | None:
        self.play(node, node.config.get("prompt"))
        cause = str(node.config.get("cause") or "NORMAL_CLEARING")
        self.end(node, OUTCOME_HUNG_UP, [tag("hangup", {"cause": cause})])
        return None

    def enter_callback(self, node: Node) -> str | None:
        queue = str(node.config["queue"])
        self.effects.callback_create(state=self.state, number=self.state.caller, queue=queue)
        self.state.outcome = OUTCOME_CALLBACK
        self.set_attribute("queue", queue)
        self.play(node, node.config.get("prompt"))
        self.event(node, "branch", f"callback {self.state.caller} via {queue}")
        return str(node.config["next"])

    def enter_voicemail(self, node: Node) -> str | None:
        config = node.config
        self.wait(node)
        if config.get("queue"):
            self.state.vars["_vm_queue"] = str(config["queue"])
        self.play(node, config.get("prompt"))
        self.work.append(
            tag(
                "record",
                {
                    "file": "voicemail.wav",
                    "name": VOICEMAIL_NAME,
                    "beep-file": RECORD_BEEP,
                    "limit": int(config.get("max_seconds", 120)),
                    "silence-hits": 4,
                    "digit-timeout": 1000,
                },
                bind("#"),
            )
        )
        return None

    def resume_voicemail(self, node: Node) -> str | None:
        upload = self.step.files.get(VOICEMAIL_NAME)
        if upload is None:
            self.event(node, "timeout", "no recording")
        else:
            self.effects.voicemail_store(
                state=self.state, upload=upload, queue=str(node.config.get("queue", ""))
            )
            self.state.outcome = OUTCOME_VOICEMAIL
            self.event(node, "input", "recording")
        self.state.vars.pop("_vm_queue", None)
        self.state.node = ""
        return str(node.config["next"])

    def enter_transfer(self, node: Node) -> str | None:
        destination = str(node.config["number"])
        self.play(node, node.config.get("prompt"))
        if self.effects.transfer(state=self.state, destination=destination):
            # Stay in httapi while telephony moves the call; if we are asked again the transfer
            # did not happen and resume() takes the failure branch.
            self.state.node = node.key
            self.end(
                node,
                OUTCOME_TRANSFERRED,
                [tag("pause", {"milliseconds": int(ivr_setting("IVR_TRANSFER_WAIT_MS"))})],
            )
            return None
        self.event(node, "failed", "transfer unavailable")
        target = node.config.get("on_failure")
        if target:
            return str(target)
        self.exit_fallback()
        return None


def speech_text(result: str) -> str:
    """Return the words of an ASR result: NLSML's <input> text, or the result as it is."""
    match = re.search(r"<input[^>]*>(.*?)</input>", result, flags=re.S | re.I)
    text = match.group(1) if match else result
    return re.sub(r"<[^>]+>", " ", text).strip()


def match_intent(text: str, intents: Mapping[str, Any]) -> str | None:
    """Return the first intent one of whose keywords occurs in the text (case-insensitive)."""
    lowered = text.lower()
    for intent, spec in intents.items():
        for keyword in spec.get("keywords", []) if isinstance(spec, dict) else []:
            word = str(keyword).strip().lower()
            if word and word in lowered:
                return intent
    return None
