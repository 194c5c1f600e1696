"""The demo IVR: language choice (1 中文 / 2 English), then sales / after-sales / billing.

Number 4001234567 answers with it. Known customers get a higher priority. Prompts are text in
both languages, synthesised to WAV when a TTS engine (espeak-ng) is installed.
"""

from __future__ import annotations

from django.db import transaction

from apps.core.errors import DomainError
from apps.ivr import services
from apps.ivr.audio import AudioError
from apps.ivr.models import Flow, FlowNode, InboundNumber, Prompt, PromptVariant

DEMO_DID = "4001234567"
DEMO_FLOW = "Demo hotline"
DEMO_QUEUES = ("sales", "after_sales", "billing")

PROMPTS: dict[str, dict[str, str]] = {
    "welcome-language": {
        "zh-hans": "欢迎致电。中文服务请按1。For English, press 2.",
        "en": "Welcome. 中文服务请按1。For English, press 2.",
    },
    "main-menu": {
        "zh-hans": "销售咨询请按1，售后服务请按2，账单问题请按3。",
        "en": "For sales, press 1. For after-sales service, press 2. For billing, press 3.",
    },
    "invalid-choice": {
        "zh-hans": "对不起，您的输入无效。",
        "en": "Sorry, that is not one of the choices.",
    },
    "no-input": {
        "zh-hans": "对不起，我们没有收到您的选择。",
        "en": "Sorry, we did not hear your choice.",
    },
    "please-hold": {
        "zh-hans": "正在为您接通，请稍候。",
        "en": "Please hold, an agent will be with you shortly.",
    },
}

NODES: list[tuple[str, str, dict]] = [
    (
        "start",
        "language",
        {
            "prompt": "welcome-language",
            "options": {"1": "zh-hans", "2": "en"},
            "next": "lookup",
            "timeout_prompt": "no-input",
            "invalid_prompt": "invalid-choice",
            "retries": 2,
        },
    ),
    ("lookup", "lookup_customer", {"next_found": "known", "next_not_found": "main"}),
    ("known", "set", {"priority": 5, "next": "main"}),
    (
        "main",
        "menu",
        {
            "prompt": "main-menu",
            "options": {"1": "q-sales", "2": "q-after-sales", "3": "q-billing"},
            "on_failure": "q-sales",
            "invalid_prompt": "invalid-choice",
            "timeout_prompt": "no-input",
            "retries": 2,
        },
    ),
    ("q-sales", "queue", {"queue": "sales", "prompt": "please-hold"}),
    ("q-after-sales", "queue", {"queue": "after_sales", "prompt": "please-hold"}),
    ("q-billing", "queue", {"queue": "billing", "prompt": "please-hold"}),
]


@transaction.atomic
def seed() -> list[str]:
    """Create the demo prompts, flow and number if missing and publish the flow."""
    lines: list[str] = []
    for name, texts in PROMPTS.items():
        prompt, _ = Prompt.objects.get_or_create(name=name)
        for language, text in texts.items():
            variant, created = PromptVariant.objects.get_or_create(
                prompt=prompt, language=language, defaults={"text": text}
            )
            if created:
                try:
                    services.prompt_variant_render(variant=variant)
                except AudioError as exc:
                    lines.append(f"  IVR prompt {name} [{language}] stays text-only: {exc}")
    flow, created = Flow.objects.get_or_create(
        name=DEMO_FLOW,
        defaults={
            "default_language": "zh-hans",
            "languages": ["zh-hans", "en"],
            "fallback_queue": "sales",
            "description": "Language, then sales / after-sales / billing.",
        },
    )
    if created or flow.live_version is None:
        draft = flow.versions.filter(status="draft").order_by("-number").first()
        if draft is None:
            draft = services.flow_version_create_draft(actor=None, flow=flow, note="demo")
        draft.nodes.all().delete()
        draft.entry_node = "start"
        draft.save(update_fields=["entry_node", "updated_at"])
        FlowNode.objects.bulk_create(
            [
                FlowNode(version=draft, key=key, kind=kind, config=config, position=index)
                for index, (key, kind, config) in enumerate(NODES)
            ]
        )
        try:
            services.flow_version_publish(actor=None, version=draft)
        except DomainError as exc:
            lines.append(f"  IVR demo flow left as a draft: {exc.message}")
    InboundNumber.objects.get_or_create(number=DEMO_DID, defaults={"flow": flow})
    live = Flow.objects.get(pk=flow.pk).live_version
    state = f"v{live.number} live" if live else "not published"
    lines.append(
        f"  IVR: {DEMO_DID} -> {DEMO_FLOW} ({state}; 1 中文 / 2 English, then "
        "1 sales / 2 after-sales / 3 billing)"
    )
    return lines
