"""Write access-log entries for sensitive reads."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

from apps.audit.models import AccessLog


def request_address(request: HttpRequest | None) -> tuple[str | None, str]:
    """Return (client address, user agent); the first X-Forwarded-For hop if proxied."""
    if request is None:
        return None, ""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    address = forwarded.split(",")[0].strip() if forwarded else request.META.get("REMOTE_ADDR")
    return address or None, request.META.get("HTTP_USER_AGENT", "")[:300]


def access_log_record(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    field: str = "",
    request: HttpRequest | None = None,
    detail: dict | None = None,
) -> AccessLog:
    """Record one sensitive read by the actor. Call it in the same transaction as the read."""
    address, user_agent = request_address(request)
    if target is not None:
        target_type = target._meta.label
        target_id = str(target.pk)
    return AccessLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_username=getattr(actor, "username", "") or "",
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_repr=str(target)[:200] if target is not None else "",
        field=field,
        remote_addr=address,
        user_agent=user_agent,
        detail=detail or {},
    )
