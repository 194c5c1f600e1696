"""The one place that registers models with django-auditlog, and binds the API actor to it."""

from __future__ import annotations

from typing import Any

from auditlog.context import auditlog_value
from auditlog.registry import auditlog
from django.db.models import Model


def register_audited(model: type[Model], **options: Any) -> None:
    """Record every create, update and delete of the model (diffs, actor, address)."""
    auditlog.register(model, **options)


def bind_audit_actor(user: Any) -> None:
    """Make the authenticated API user the actor of this request's audit entries.

    AuditlogMiddleware runs before DRF authenticates a token, so it sees an anonymous user; the
    request's audit context is a dict we can complete once authentication succeeds.
    """
    try:
        context = auditlog_value.get()
    except LookupError:
        return
    if context.get("actor") is None:
        context["actor"] = user
