"""Teach drf-spectacular our authentication classes (the stock schemes, same wire behaviour)."""

from drf_spectacular.authentication import SessionScheme, TokenScheme


class AuditedSessionScheme(SessionScheme):
    target_class = "apps.core.api.authentication.AuditedSessionAuthentication"


class AuditedTokenScheme(TokenScheme):
    target_class = "apps.core.api.authentication.AuditedTokenAuthentication"
