"""Turn prompt names into what FreeSWITCH plays: a recording URL, a TTS tag, or a tone.

Recordings are served by the suite at signed URLs (FreeSWITCH's http file cache keys on the URL,
which includes the audio's checksum, so a new recording is fetched at once and an unchanged one
is cached).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.core import signing
from django.urls import reverse

from apps.ivr.conf import ivr_setting

PROMPT_SALT = "ivr.prompt-url"
# Played for a text-only prompt when FreeSWITCH has no TTS engine configured: the caller at least
# hears that something is expected instead of silence.
FALLBACK_TONE = "tone_stream://%(300,100,440);loops=2"


@dataclass(frozen=True)
class ResolvedPrompt:
    name: str
    language: str
    text: str
    variant_id: int | None
    checksum: str


_CACHE: dict[tuple, tuple[float, dict[str, ResolvedPrompt]]] = {}
_CACHE_MAX = 512


def prompts_resolve(
    names: Iterable[str], language: str, default_language: str, *, cache_key: object = None
) -> dict[str, ResolvedPrompt]:
    """Return each named prompt in the language (or the flow's default when it lacks one).

    With a cache_key (a published version's id) the answer is kept IVR_PROMPT_CACHE_SECONDS in
    this process: a re-recorded prompt reaches running flows within that delay.
    """
    from apps.ivr.models import PromptVariant

    wanted = {name for name in names if name}
    if not wanted:
        return {}
    ttl = float(ivr_setting("IVR_PROMPT_CACHE_SECONDS"))
    key = (cache_key, language, default_language)
    if cache_key is not None and ttl > 0:
        cached = _CACHE.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
    languages = {language, default_language}
    rows = PromptVariant.objects.filter(
        prompt__name__in=wanted, language__in=languages
    ).values_list("id", "prompt__name", "language", "text", "checksum", "audio_8k")
    resolved: dict[str, ResolvedPrompt] = {}
    for variant_id, name, lang, text, checksum, audio in rows:
        current = resolved.get(name)
        if current is not None and current.language == language:
            continue
        resolved[name] = ResolvedPrompt(
            name=name,
            language=lang,
            text=text,
            variant_id=variant_id if audio else None,
            checksum=checksum if audio else "",
        )
    if cache_key is not None and ttl > 0:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[key] = (time.monotonic() + ttl, resolved)
    return resolved


def prompt_signature(variant_id: int, rate: int, checksum: str) -> str:
    return signing.Signer(salt=PROMPT_SALT).signature(f"{variant_id}:{rate}:{checksum}")[:22]


def prompt_url(prompt: ResolvedPrompt, base_url: str) -> str:
    """Return the signed URL FreeSWITCH fetches the recording from."""
    assert prompt.variant_id is not None
    rate = int(ivr_setting("IVR_PROMPT_SAMPLE_RATE"))
    checksum = prompt.checksum[:16]
    signature = prompt_signature(prompt.variant_id, rate, checksum)
    path = reverse(
        "ivr-prompt-audio",
        kwargs={
            "variant_id": prompt.variant_id,
            "rate": rate,
            "checksum": checksum,
            "signature": signature,
        },
    )
    base = (ivr_setting("IVR_PROMPT_BASE_URL") or base_url).rstrip("/")
    return base + path


def prompt_play_attributes(
    prompt: ResolvedPrompt | None, base_url: str
) -> tuple[str, dict[str, str]]:
    """Return (tag name, attributes) that make FreeSWITCH say the prompt."""
    if prompt is not None and prompt.variant_id is not None:
        return "playback", {"file": prompt_url(prompt, base_url)}
    engine = ivr_setting("IVR_FS_TTS_ENGINE")
    if prompt is not None and prompt.text and engine:
        attributes = {"engine": engine, "text": prompt.text}
        if ivr_setting("IVR_FS_TTS_VOICE"):
            attributes["voice"] = ivr_setting("IVR_FS_TTS_VOICE")
        return "speak", attributes
    return "playback", {"file": FALLBACK_TONE}
