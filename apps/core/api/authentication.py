"""DRF authentication that also names the user as the actor of the request's audit entries."""

from typing import Any

from rest_framework.authentication import SessionAuthentication, TokenAuthentication

from apps.audit.registry import bind_audit_actor


class AuditedTokenAuthentication(TokenAuthentication):
    def authenticate(self, request: Any) -> Any:
        result = super().authenticate(request)
        if result is not None:
            bind_audit_actor(result[0])
        return result


class AuditedSessionAuthentication(SessionAuthentication):
    def authenticate(self, request: Any) -> Any:
        result = super().authenticate(request)
        if result is not None:
            bind_audit_actor(result[0])
        return result
