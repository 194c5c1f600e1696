"""Writes of the IVR: versions (draft, publish, restore), prompt audio, and the paths of calls."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from typing import Any

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import Conflict, InvalidInput
from apps.ivr import audio, integrations
from apps.ivr.conf import ivr_setting
from apps.ivr.engine import CallState, StepEvent, live_versions_forget
from apps.ivr.graph import Graph, Report, ValidationContext, graph_from_version, validate_graph
from apps.ivr.models import (
    CallbackRequest,
    Flow,
    FlowNode,
    FlowVersion,
    IvrPath,
    IvrStep,
    Prompt,
    PromptVariant,
    Voicemail,
)
from apps.ivr.schedules import calendar_names

logger = logging.getLogger(__name__)
MAX_VOICEMAIL_BYTES = 20 * 1024 * 1024


class PublishRefused(InvalidInput):
    """The version has problems; `problems` lists them, each naming its node."""

    code = "flow_invalid"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            _("The version cannot be published: %(problems)s") % {"problems": "; ".join(problems)}
        )
        self.problems = problems


# ---------------------------------------------------------------- versions


def validation_context(graph: Graph) -> ValidationContext:
    """Gather what validation checks names against: prompts, schedules, queues."""
    prompts: dict[str, set[str]] = {
        name: set() for name in Prompt.objects.values_list("name", flat=True)
    }
    for name, language, text, audio_8k in PromptVariant.objects.values_list(
        "prompt__name", "language", "text", "audio_8k"
    ):
        if (text or "").strip() or audio_8k:
            prompts[name].add(language)
    return ValidationContext(
        languages=graph.languages,
        prompts=prompts,
        schedules=calendar_names(),
        queues=integrations.queue_slugs(),
        depth_limit=int(ivr_setting("IVR_MENU_DEPTH_LIMIT")),
    )


def flow_version_validate(version: FlowVersion) -> Report:
    """Return the problems that keep the version from being published."""
    graph = graph_from_version(version)
    return validate_graph(graph, validation_context(graph))


def _next_number(flow: Flow) -> int:
    return (flow.versions.aggregate(top=Max("number"))["top"] or 0) + 1


@transaction.atomic
def flow_version_create_draft(
    *, actor: Any, flow: Flow, source: FlowVersion | None = None, note: str = ""
) -> FlowVersion:
    """Create a draft of the flow, copying the nodes of `source` (or empty with a start node)."""
    flow = Flow.objects.select_for_update().get(pk=flow.pk)
    draft = FlowVersion.objects.create(
        flow=flow,
        number=_next_number(flow),
        entry_node=source.entry_node if source is not None else "start",
        note=note,
        created_by=actor if getattr(actor, "pk", None) else None,
        restored_from=source
        if source is not None and source.status != FlowVersion.Status.DRAFT
        else None,
    )
    if source is not None:
        FlowNode.objects.bulk_create(
            [
                FlowNode(
                    version=draft,
                    key=node.key,
                    kind=node.kind,
                    label=node.label,
                    config=node.config,
                    position=node.position,
                )
                for node in source.nodes.all()
            ]
        )
    return draft


@transaction.atomic
def flow_version_publish(*, actor: Any, version: FlowVersion) -> FlowVersion:
    """Make a valid draft the flow's live version; the previous live one is retired.

    Calls already in the flow keep running the version their state names.
    """
    version = FlowVersion.objects.select_for_update().select_related("flow").get(pk=version.pk)
    flow = Flow.objects.select_for_update().get(pk=version.flow_id)
    if version.status != FlowVersion.Status.DRAFT:
        raise Conflict(_("Only a draft can be published; restore this version as a draft first."))
    report = flow_version_validate(version)
    if not report.ok:
        raise PublishRefused(report.messages())
    previous = flow.live_version
    if previous is not None:
        previous.status = FlowVersion.Status.RETIRED
        previous.save(update_fields=["status", "updated_at"])
        # The one-to-one "live version" must be released before it names the new version.
        flow.live_version = None
        flow.save(update_fields=["live_version"])
    version.status = FlowVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = actor if getattr(actor, "pk", None) else None
    version.flow_settings = {
        "languages": flow.all_languages,
        "fallback_queue": flow.fallback_queue,
    }
    version.save()
    flow.live_version = version
    flow.save(update_fields=["live_version", "updated_at"])
    # Now, and once committed (a request in between may have cached the old answer).
    live_versions_forget()
    transaction.on_commit(live_versions_forget)
    return version


@transaction.atomic
def flow_version_restore(*, actor: Any, version: FlowVersion) -> FlowVersion:
    """Return a new draft holding a copy of an earlier version, ready to publish again."""
    return flow_version_create_draft(
        actor=actor,
        flow=version.flow,
        source=version,
        note=_("Restored from version %(number)s") % {"number": version.number},
    )


def node_config_save(*, node: FlowNode, config: dict[str, Any]) -> FlowNode:
    """Change a draft node's configuration; published versions never change."""
    if not node.version.is_editable:
        raise Conflict(_("Published versions cannot be changed; create a draft."))
    node.config = config
    node.save(update_fields=["config"])
    return node


# ---------------------------------------------------------------- prompts


@transaction.atomic
def prompt_variant_render(*, variant: PromptVariant) -> PromptVariant:
    """Produce the 8 and 16 kHz WAVs of a variant from its recording, else from its text.

    A text with no TTS engine installed stays text-only: FreeSWITCH speaks it with its own TTS
    engine if IVR_FS_TTS_ENGINE is set, else plays a tone (see prompts.FALLBACK_TONE).
    Raise AudioError when a recording cannot be converted.
    """
    source_bytes: bytes | None = None
    source_kind = PromptVariant.Source.TEXT
    if variant.upload:
        variant.upload.open("rb")
        try:
            source_bytes = variant.upload.read()
        finally:
            variant.upload.close()
        source_kind = PromptVariant.Source.UPLOAD
    elif variant.text.strip() and audio.tts_command() is not None:
        try:
            source_bytes = audio.synthesise(variant.text, variant.language)
            source_kind = PromptVariant.Source.TTS
        except audio.AudioError:
            logger.exception("TTS failed for prompt %s [%s]", variant.prompt.name, variant.language)
    for field_name in ("audio_8k", "audio_16k"):
        old = getattr(variant, field_name)
        if old:
            old.delete(save=False)
    if source_bytes is None:
        variant.source = PromptVariant.Source.TEXT
        variant.checksum = ""
        variant.duration_ms = 0
    else:
        low = audio.convert(source_bytes, 8000)
        high = audio.convert(source_bytes, 16000)
        checksum = hashlib.sha256(low.wav + high.wav).hexdigest()
        stem = f"ivr/prompts/{variant.prompt.name}-{variant.language}-{checksum[:12]}"
        variant.audio_8k.save(f"{stem}-8000.wav", ContentFile(low.wav), save=False)
        variant.audio_16k.save(f"{stem}-16000.wav", ContentFile(high.wav), save=False)
        variant.source = source_kind
        variant.checksum = checksum
        variant.duration_ms = low.duration_ms
    variant.save()
    return variant


# ---------------------------------------------------------------- paths of calls


class DbEffects:
    """The engine's side effects on a live call: paths, callbacks, voicemail, transfers.

    The path is written with as few round trips as possible (each IVR step must answer well
    within mod_httapi's timeout, p99 < 15 ms): one INSERT ... ON CONFLICT for a new path, then one
    statement per step that appends the step rows and updates the path together. The step rows
    are an append-only log; no transaction spans a request.
    """

    def path_start(self, *, state: CallState, graph: Graph, now: dt.datetime) -> int | None:
        path_table = IvrPath._meta.db_table
        with connection.cursor() as cursor:
            # A second httapi for the same call (the dialplan ran it again) continues its path.
            cursor.execute(
                f"INSERT INTO {path_table} (call_uuid, flow_id, version_id, did, caller_number, "  # noqa: S608 - table name from the model
                "language, started_at, outcome, last_node, queue, attributes) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, '', '', '{}'::jsonb) "
                "ON CONFLICT (call_uuid) DO UPDATE SET call_uuid = EXCLUDED.call_uuid "
                f"RETURNING id, (SELECT count(*) FROM {IvrStep._meta.db_table} s "
                f"WHERE s.path_id = {path_table}.id)",
                [
                    state.call,
                    graph.flow_id,
                    graph.version_id,
                    state.did[:32],
                    state.caller[:64],
                    state.language,
                    now,
                    IvrPath.Outcome.IN_PROGRESS,
                ],
            )
            path_id, steps = cursor.fetchone()
        state.seq = max(state.seq, int(steps))
        return int(path_id)

    def path_record(
        self,
        *,
        state: CallState,
        events: list[StepEvent],
        ended_at: dt.datetime | None,
        outcome: str,
    ) -> None:
        if state.path is None:
            return
        last = state.node or next((e.node for e in reversed(events) if e.node), "")
        update = (
            f"UPDATE {IvrPath._meta.db_table} SET outcome = %s, language = %s, queue = %s, "  # noqa: S608
            "attributes = %s::jsonb, last_node = COALESCE(NULLIF(%s, ''), last_node), "
            "ended_at = COALESCE(%s, ended_at) WHERE id = %s"
        )
        update_params = [
            outcome,
            state.language,
            str(state.attrs.get("queue", ""))[:64],
            json.dumps(state.attrs),
            last,
            ended_at,
            state.path,
        ]
        if not events:
            with connection.cursor() as cursor:
                cursor.execute(update, update_params)
            return
        rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(events))
        insert_params: list[Any] = []
        for event in events:
            insert_params += [
                state.path,
                event.seq,
                event.node,
                event.kind,
                event.event,
                event.detail,
                event.elapsed_ms,
                event.at,
            ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH appended AS (INSERT INTO {IvrStep._meta.db_table} "  # noqa: S608
                f"(path_id, seq, node, kind, event, detail, elapsed_ms, at) VALUES {rows}) "
                + update,
                insert_params + update_params,
            )

    def callback_create(self, *, state: CallState, number: str, queue: str) -> None:
        CallbackRequest.objects.get_or_create(
            call_uuid=state.call,
            defaults={
                "path_id": state.path,
                "number": number[:64],
                "queue": queue,
                "language": state.language,
                "customer_id": str(state.attrs.get("customer_id", "")),
            },
        )

    def voicemail_store(self, *, state: CallState, upload: Any, queue: str) -> None:
        size = getattr(upload, "size", 0) or 0
        if size > MAX_VOICEMAIL_BYTES or Voicemail.objects.filter(call_uuid=state.call).exists():
            return
        voicemail = Voicemail(
            path_id=state.path,
            call_uuid=state.call,
            caller_number=state.caller[:64],
            queue=queue,
            language=state.language,
            size_bytes=size,
        )
        voicemail.audio.save(f"{state.call}.wav", upload, save=False)
        voicemail.save()

    def transfer(self, *, state: CallState, destination: str) -> bool:
        return integrations.transfer_request(call_uuid=state.call, destination=destination)
