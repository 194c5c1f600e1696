"""The mod_httapi endpoint and the prompt recordings FreeSWITCH plays: thin adapters."""

from __future__ import annotations

import hmac
import logging

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.ivr import documents
from apps.ivr.engine import StepInput, httapi_step
from apps.ivr.models import PromptVariant
from apps.ivr.prompts import prompt_signature
from apps.ivr.services import DbEffects
from apps.telephony.freeswitch_auth import freeswitch_address_allowed, freeswitch_only

logger = logging.getLogger(__name__)


def request_fields(request: HttpRequest) -> dict[str, str]:
    """Return mod_httapi's fields: the query string, then the body (GET or POST profiles).

    A field sent twice keeps its last value, as FreeSWITCH's one-time params replace earlier ones.
    """
    fields = request.GET.dict()
    if request.method == "POST":
        fields.update(request.POST.dict())
    return fields


@csrf_exempt
@require_http_methods(["GET", "POST"])
@freeswitch_only
def httapi_view(request: HttpRequest) -> HttpResponse:
    """Answer one mod_httapi request with a work document (text/xml)."""
    step = StepInput(
        fields=request_fields(request),
        files=request.FILES,
        now=timezone.now(),
        base_url=request.build_absolute_uri("/").rstrip("/"),
    )
    try:
        # No request-wide transaction: the path is an append-only log written in one statement
        # per step, and callbacks, voicemail and transfer requests commit on their own.
        body = httapi_step(step, DbEffects()).document
    except Exception:
        logger.exception("httapi step failed for session %s", step.fields.get("session_id"))
        body = documents.break_document()
    return HttpResponse(body, content_type=documents.CONTENT_TYPE)


@require_http_methods(["GET", "HEAD"])
def prompt_audio_view(
    request: HttpRequest, variant_id: int, rate: int, checksum: str, signature: str
) -> FileResponse:
    """Serve a prompt's converted recording to FreeSWITCH (signed URL, allowed addresses)."""
    if not freeswitch_address_allowed(request.META.get("REMOTE_ADDR")):
        raise Http404
    expected = prompt_signature(variant_id, rate, checksum)
    if not hmac.compare_digest(expected, signature):
        raise Http404
    variant = PromptVariant.objects.filter(pk=variant_id).first()
    if variant is None or variant.checksum[:16] != checksum:
        raise Http404
    audio = variant.audio_8k if rate == 8000 else variant.audio_16k if rate == 16000 else None
    if not audio:
        raise Http404
    return FileResponse(audio.open("rb"), content_type="audio/wav")
