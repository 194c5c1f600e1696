"""Domain errors raised by services and access checks.

Mapped to HTTP in one place: apps.core.api.errors.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of the errors a service raises on purpose. `code` is stable and machine-readable."""

    code = "error"
    http_status = 400

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFound(DomainError):
    """The object does not exist or the actor may not know it exists (same answer for both)."""

    code = "not_found"
    http_status = 404


class Forbidden(DomainError):
    code = "permission_denied"
    http_status = 403


class InvalidInput(DomainError):
    code = "invalid"
    http_status = 400


class Conflict(DomainError):
    """The action does not fit the object's current state (e.g. an illegal transition)."""

    code = "conflict"
    http_status = 409


class ServiceUnavailable(DomainError):
    code = "unavailable"
    http_status = 503
