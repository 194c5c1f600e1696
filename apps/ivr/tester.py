"""The flow tester: run a version against a scripted caller with the live endpoint's engine.

The requests are built by the mod_httapi emulation (apps.ivr.fs_emulator) exactly as FreeSWITCH
would send them, answered by apps.ivr.engine.httapi_step, and the documents run by the same
emulation. Nothing is written: the effects are collected in memory.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.ivr.engine import (
    OUTCOME_TRANSFERRED,
    CallState,
    PromptPlay,
    StepEvent,
    StepInput,
    StepOutput,
    httapi_step,
)
from apps.ivr.fs_emulator import (
    CallerScript,
    DocumentResult,
    HttapiProfile,
    HttapiRequest,
    HttapiSession,
    caller_fields,
)
from apps.ivr.graph import Graph

TESTER_BASE_URL = "http://suite.invalid"
MAX_DOCUMENTS = 60


class DryRunEffects:
    """Collect what a live call would write, write nothing."""

    def __init__(self) -> None:
        self.callbacks: list[dict[str, str]] = []
        self.voicemails: list[dict[str, str]] = []
        self.transfers: list[str] = []

    def path_start(self, *, state: CallState, graph: Graph, now: dt.datetime) -> int | None:
        return None

    def path_record(
        self,
        *,
        state: CallState,
        events: list[StepEvent],
        ended_at: dt.datetime | None,
        outcome: str,
    ) -> None:
        return None

    def callback_create(self, *, state: CallState, number: str, queue: str) -> None:
        self.callbacks.append({"number": number, "queue": queue})

    def voicemail_store(self, *, state: CallState, upload: Any, queue: str) -> None:
        self.voicemails.append({"queue": queue, "name": getattr(upload, "name", "")})

    def transfer(self, *, state: CallState, destination: str) -> bool:
        self.transfers.append(destination)
        return True


@dataclass
class TesterTurn:
    request: HttapiRequest
    output: StepOutput
    result: DocumentResult | None


@dataclass
class TesterRun:
    turns: list[TesterTurn] = field(default_factory=list)
    events: list[StepEvent] = field(default_factory=list)
    prompts: list[PromptPlay] = field(default_factory=list)
    channel_variables: dict[str, str] = field(default_factory=dict)
    outcome: str = ""
    end: str = ""
    end_reason: str = ""
    inputs_left: int = 0
    effects: DryRunEffects = field(default_factory=DryRunEffects)

    @property
    def document_bytes(self) -> int:
        return sum(len(turn.output.document) for turn in self.turns)


def parse_keys(text: str) -> list[str]:
    """Return the caller's inputs: one per line (or comma); "-" or an empty entry is silence."""
    separator = "\n" if "\n" in text else ","
    entries = [entry.strip() for entry in text.split(separator)]
    while entries and entries[-1] == "":
        entries.pop()
    return ["" if entry == "-" else entry for entry in entries]


def flow_test_run(
    *, version_id: int, caller_number: str, when: dt.datetime, inputs: list[str], did: str = ""
) -> TesterRun:
    """Run the version for a caller at a moment with scripted inputs; report the path."""
    session_id = str(uuid.uuid4())
    session = HttapiSession(
        session_id=session_id,
        caller=caller_fields(
            uuid=session_id,
            caller_number=caller_number,
            destination=did or "0",
            created_us=int(when.timestamp() * 1e6),
        ),
        app_data="{httapi_profile=default" + (f",cc_did={did}" if did else "") + "}",
        profile=HttapiProfile(
            url=TESTER_BASE_URL + "/freeswitch/httapi/", app_list=frozenset({"sleep", "info"})
        ),
    )
    script = CallerScript(inputs=list(inputs))
    effects = DryRunEffects()
    run = TesterRun(effects=effects)
    for _index in range(MAX_DOCUMENTS):
        request = session.next_request()
        output = _answer(request, when, version_id, effects)
        result = session.handle_response(
            status=200, content_type="text/xml", body=output.document, script=script
        )
        run.turns.append(TesterTurn(request, output, result))
        run.events.extend(output.events)
        run.prompts.extend(output.prompts)
        run.outcome = output.outcome
        if output.outcome == OUTCOME_TRANSFERRED:
            run.end, run.end_reason = "transfer", ", ".join(effects.transfers)
            break
        if result.end != "next":
            run.end, run.end_reason = result.end, result.reason
            break
    else:
        run.end, run.end_reason = "error", "too many documents"
    exiting = session.exiting_request()
    output = _answer(exiting, when, version_id, effects)
    run.turns.append(TesterTurn(exiting, output, None))
    run.events.extend(output.events)
    if output.outcome:
        run.outcome = output.outcome
    run.channel_variables = dict(session.channel_variables)
    run.inputs_left = len(script.inputs) - script.position
    return run


def _answer(
    request: HttapiRequest, when: dt.datetime, version_id: int, effects: DryRunEffects
) -> StepOutput:
    files = {
        name: SimpleUploadedFile(filename, content, content_type="audio/wav")
        for name, (filename, content) in request.files.items()
    }
    step = StepInput(
        fields=request.field_map,
        files=files,
        now=when,
        base_url=TESTER_BASE_URL,
        version_override=version_id,
    )
    return httapi_step(step, effects)
