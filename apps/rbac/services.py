"""Create the roles and their permissions; grant object-level permissions."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from apps.rbac import roles
from apps.rbac.access_cache import user_access_prime


class UnknownPermission(Exception):
    pass


def _permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".", 1)
    try:
        return Permission.objects.get(content_type__app_label=app_label, codename=codename)
    except Permission.DoesNotExist as exc:
        raise UnknownPermission(f"Permission {dotted} does not exist (run migrate?)") from exc


@transaction.atomic
def roles_setup() -> dict[str, int]:
    """Create or update every role group with exactly its permissions; safe to run again.

    Return the number of permissions each role now holds.
    """
    counts: dict[str, int] = {}
    for role in roles.ALL_ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        if role == roles.ADMINISTRATOR:
            wanted = list(Permission.objects.all())
        else:
            wanted = [_permission(dotted) for dotted in sorted(roles.ROLE_PERMISSIONS[role])]
        group.permissions.set(wanted)
        counts[role] = len(wanted)
    return counts


def user_has_role(user: object, role: str) -> bool:
    """Return True when the user is active and in the role's group."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if not hasattr(user, "_role_names"):
        user_access_prime(user)
    return role in user._role_names  # type: ignore[attr-defined]


def user_is_admin(user: object) -> bool:
    """Return True for superusers and members of the Administrator role."""
    return bool(getattr(user, "is_superuser", False) and getattr(user, "is_active", False)) or (
        user_has_role(user, roles.ADMINISTRATOR)
    )


def user_has_any_role(user: object) -> bool:
    return user_is_admin(user) or any(user_has_role(user, role) for role in roles.ALL_ROLES)
