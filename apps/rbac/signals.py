"""Retire the cached roles and permissions (access_cache.py) whenever what they derive from changes.

Cache invalidation, not domain logic: groups and permissions also change through the admin and
roles_setup, so the model signals are the one place that sees every change made through the ORM.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_delete, post_save

from apps.rbac.access_cache import access_cache_invalidate

M2M_DONE = {"post_add", "post_remove", "post_clear"}


def _membership_or_grant_changed(sender: Any, action: str, **kwargs: Any) -> None:
    if action in M2M_DONE:
        access_cache_invalidate()


def _group_or_permission_changed(sender: Any, **kwargs: Any) -> None:
    # A renamed group is a different role; a deleted one takes its members' rows with it (a
    # cascade that sends no m2m_changed).
    access_cache_invalidate()


def connect() -> None:
    user_model = get_user_model()
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(
            _membership_or_grant_changed, sender=through, dispatch_uid=f"rbac-cache-{through}"
        )
    for model in (Group, Permission):
        for signal in (post_save, post_delete):
            signal.connect(
                _group_or_permission_changed,
                sender=model,
                dispatch_uid=f"rbac-cache-{model.__name__}-{id(signal)}",
            )
