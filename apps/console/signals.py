"""Transport housekeeping: close console sockets when a session ends or an account is disabled.

No domain logic here; the consumers also re-check periodically, so a missed signal (an update
made with queryset.update) only delays the closing.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_save

from apps.accounts.models import Agent, User
from apps.console import services


def on_user_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Close the consoles of the browser session that logged out."""
    if user is None or getattr(user, "pk", None) is None:
        return
    session = getattr(request, "session", None)
    services.console_sessions_close(
        user_id=user.pk,
        reason="logged_out",
        session_key=getattr(session, "session_key", None),
    )


def on_user_saved(sender: Any, instance: User, **kwargs: Any) -> None:
    """Close every console of a user whose account was disabled."""
    if not instance.is_active:
        user_id = instance.pk
        transaction.on_commit(
            lambda: services.console_sessions_close(user_id=user_id, reason="disabled")
        )


def on_agent_saved(sender: Any, instance: Agent, **kwargs: Any) -> None:
    """Close the consoles of an agent who was deactivated."""
    if not instance.is_active:
        user_id = instance.user_id
        transaction.on_commit(
            lambda: services.console_sessions_close(user_id=user_id, reason="agent_disabled")
        )


def connect() -> None:
    """Connect the receivers (from ConsoleConfig.ready)."""
    user_logged_out.connect(on_user_logged_out, dispatch_uid="console-logged-out")
    post_save.connect(on_user_saved, sender=User, dispatch_uid="console-user-saved")
    post_save.connect(on_agent_saved, sender=Agent, dispatch_uid="console-agent-saved")
