"""DRF permission classes tied to the roles. Object-level checks live in each app's access.py."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from apps.rbac.services import user_has_any_role


class IsStaffRole(BasePermission):
    """Any authenticated, active user holding one of the roles (the API's default)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return user_has_any_role(request.user)


class HasModelPermissions(IsStaffRole):
    """The role's model permissions for this action: `view.required_permissions[action]`.

    Views declare e.g. {"get": ["accounts.view_team"], "patch": ["accounts.change_agent"]};
    an action missing from the mapping is refused, so a new action is closed until declared.
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        action = getattr(view, "action", None) or request.method.lower()
        required = getattr(view, "required_permissions", {})
        if action not in required:
            return False
        return all(request.user.has_perm(perm) for perm in required[action])
