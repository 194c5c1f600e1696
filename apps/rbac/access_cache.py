"""A shared cache of each user's roles and model permissions, read once per API request.

Without it every request costs three queries (the user's groups, their permissions through the
groups, their own permissions) before the view does any work. The cache holds what Django's
ModelBackend would compute, so `user.has_perm` and the role checks answer exactly as uncached.

Invalidation is by generation: every entry records the generation it was computed under, and any
change to who is in which group, to a group's permissions, to a user's own permissions, or to a
group or permission itself sets a new generation (see signals.py), which retires every entry at
once. Such changes are rare next to API requests, so retiring everything costs little, and there is
no list of affected users to get wrong. The generation and the user's entry are read in one MGET.
The new generation is set at once and again after commit, so an entry computed from the
uncommitted-yet state of a concurrent request does not outlive the change.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import transaction

GENERATION_KEY = "rbac:access:generation"
USER_KEY = "rbac:access:user:{user_id}"
# Entries also expire, which bounds staleness should a change bypass the ORM (raw SQL, .update()).
ENTRY_TIMEOUT = 600


@dataclass(frozen=True)
class UserAccess:
    role_names: frozenset[str]
    user_permissions: frozenset[str]
    group_permissions: frozenset[str]


def _dotted(permissions: Any) -> frozenset[str]:
    return frozenset(
        f"{app_label}.{codename}"
        for app_label, codename in permissions.values_list("content_type__app_label", "codename")
    )


def _access_from_database(user: Any) -> UserAccess:
    # The same sets ModelBackend builds (user_permissions, permissions through the groups).
    return UserAccess(
        role_names=frozenset(user.groups.values_list("name", flat=True)),
        user_permissions=_dotted(Permission.objects.filter(user=user)),
        group_permissions=_dotted(Permission.objects.filter(group__user=user)),
    )


def user_access(user: Any) -> UserAccess:
    """Return the user's role names and model permissions, from the cache when it is current."""
    key = USER_KEY.format(user_id=user.pk)
    found = cache.get_many([GENERATION_KEY, key])
    generation = found.get(GENERATION_KEY)
    entry = found.get(key)
    if generation is not None and entry is not None and entry[0] == generation:
        return entry[1]
    access = _access_from_database(user)
    if generation is None:
        # No generation yet (or it was evicted): start one; entries of any earlier one are dead.
        generation = secrets.token_hex(8)
        if not cache.add(GENERATION_KEY, generation, timeout=None):
            return access  # another process started one first; cache next time
    cache.set(key, (generation, access), timeout=ENTRY_TIMEOUT)
    return access


def user_access_prime(user: Any) -> None:
    """Load the user's roles and permissions onto the user object for this request.

    Sets the attributes ModelBackend and rbac.services read, so `has_perm` and the role checks that
    follow cost no query. Anonymous and inactive users are left alone: every check refuses them.
    """
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return
    if hasattr(user, "_role_names"):
        return  # primed already in this request
    access = user_access(user)
    user._role_names = set(access.role_names)
    if user.is_superuser:
        # has_perm grants them everything before asking a backend; ModelBackend's sets for a
        # superuser are every permission there is, which this cache does not hold.
        return
    user._user_perm_cache = set(access.user_permissions)
    user._group_perm_cache = set(access.group_permissions)
    user._perm_cache = {*access.user_permissions, *access.group_permissions}


def access_cache_invalidate() -> None:
    """Retire every cached entry: now, and once more when the current transaction commits."""
    _new_generation()
    transaction.on_commit(_new_generation)


def _new_generation() -> None:
    cache.set(GENERATION_KEY, secrets.token_hex(8), timeout=None)
