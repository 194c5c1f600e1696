"""The IVR's settings, each with its default; read through these helpers so tests can override them.

Keys (all optional, set in callcenter/settings/freeswitch.py or by override_settings):
IVR_LANGUAGES              [(code, name)] callers may choose; default: the suite's LANGUAGES.
IVR_HTTAPI_PROFILE         httapi.conf.xml profile the dialplan names ("default").
IVR_HTTAPI_URL             URL FreeSWITCH asks ("" = the profile's gateway-url).
IVR_MENU_DEPTH_LIMIT       menus a caller may pass through to reach any node (3).
IVR_STATE_MAX_AGE          seconds a call's signed state stays valid (6 h).
IVR_DOCUMENT_BUDGET        mod_httapi's per-call response budget in bytes (1 MiB, cumulative).
IVR_BUDGET_RESERVE         bytes kept back for the closing document (16 KiB).
IVR_MAX_STEPS              documents one call may fetch before it is parked (300).
IVR_LOOKUP_TIMEOUT_MS      ceiling of an external lookup's timeout (2500; httapi waits 5 s).
IVR_LOOKUP_ALLOWED_PREFIXES URL prefixes external lookups may call ([] = any http/https URL).
IVR_PROMPT_SAMPLE_RATE     8000 or 16000: which conversion FreeSWITCH is sent.
IVR_DID_CACHE_SECONDS      how long a process reuses a number's live version (5; publishing
                           clears it in the publishing process at once).
IVR_PROMPT_CACHE_SECONDS   how long a process reuses a published flow's prompt lookup (30).
IVR_PROMPT_BASE_URL        base URL FreeSWITCH fetches prompts from ("" = the URL it called).
IVR_TTS_COMMAND            argv to synthesise text, with {voice} {output} {text}; None = espeak-ng
                           when installed, [] = never.
IVR_TTS_VOICES             language -> voice of that command.
IVR_FS_TTS_ENGINE / _VOICE FreeSWITCH TTS module for text-only prompts ("" = play a tone).
IVR_SPEECH_ASR_ENGINE      FreeSWITCH ASR engine for speech nodes ("" = DTMF only).
IVR_SPEECH_ASR_GRAMMAR     grammar passed with it.
IVR_TRANSFER_WAIT_MS       how long a transferring caller waits before the flow gives up (8000).
IVR_TRANSFER_HANDLER       dotted path of `(call_uuid=, destination=) -> bool` asking telephony
                           to transfer over ESL (default: a telephony "transfer" call command;
                           "" = transfers take the failure branch).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "IVR_HTTAPI_PROFILE": "default",
    "IVR_HTTAPI_URL": "",
    "IVR_MENU_DEPTH_LIMIT": 3,
    "IVR_STATE_MAX_AGE": 6 * 3600,
    "IVR_DOCUMENT_BUDGET": 1024 * 1024,
    "IVR_BUDGET_RESERVE": 16 * 1024,
    "IVR_MAX_STEPS": 300,
    "IVR_LOOKUP_TIMEOUT_MS": 2500,
    "IVR_LOOKUP_ALLOWED_PREFIXES": [],
    "IVR_PROMPT_SAMPLE_RATE": 8000,
    "IVR_PROMPT_BASE_URL": "",
    "IVR_PROMPT_CACHE_SECONDS": 30,
    "IVR_DID_CACHE_SECONDS": 5,
    "IVR_TTS_COMMAND": None,
    "IVR_TTS_VOICES": {"en": "en", "zh-hans": "cmn"},
    "IVR_FS_TTS_ENGINE": "",
    "IVR_FS_TTS_VOICE": "",
    "IVR_SPEECH_ASR_ENGINE": "",
    "IVR_SPEECH_ASR_GRAMMAR": "",
    "IVR_TRANSFER_WAIT_MS": 8000,
    "IVR_TRANSFER_HANDLER": "apps.ivr.transfer.telephony_transfer",
}


def ivr_setting(name: str) -> Any:
    """Return the IVR setting, or its default."""
    return getattr(settings, name, DEFAULTS[name])


def ivr_language_choices() -> list[tuple[str, str]]:
    """Return the languages callers may use, as (code, name) choices."""
    return list(getattr(settings, "IVR_LANGUAGES", settings.LANGUAGES))


def ivr_language_codes() -> set[str]:
    return {code for code, _name in ivr_language_choices()}
