"""AES-256-GCM encryption for sensitive fields and recordings at rest, and masking for display."""

from __future__ import annotations

import base64
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

_PREFIX = "v1:"
_NONCE_BYTES = 12


def _key() -> bytes:
    raw = settings.FIELD_ENCRYPTION_KEY
    if not raw:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set.")
    key = base64.urlsafe_b64decode(raw)
    if len(key) != 32:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must decode to 32 bytes (AES-256).")
    return key


def generate_key() -> str:
    """Return a new random AES-256 key, urlsafe base64, for FIELD_ENCRYPTION_KEY."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def encrypt_bytes(plaintext: bytes, *, associated_data: bytes | None = None) -> bytes:
    """Return nonce + ciphertext + tag for the plaintext."""
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(_key()).encrypt(nonce, plaintext, associated_data)


def decrypt_bytes(blob: bytes, *, associated_data: bytes | None = None) -> bytes:
    """Return the plaintext of a blob made by encrypt_bytes; raises InvalidTag when tampered."""
    return AESGCM(_key()).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], associated_data)


def encrypt_text(value: str) -> str:
    return _PREFIX + base64.urlsafe_b64encode(encrypt_bytes(value.encode())).decode()


def decrypt_text(value: str) -> str:
    if not value.startswith(_PREFIX):
        raise ValueError("Not an encrypted value.")
    return decrypt_bytes(base64.urlsafe_b64decode(value[len(_PREFIX) :])).decode()


def mask_value(value: str | None, *, keep_last: int = 4, mask_char: str = "*") -> str:
    """Return the value with all but its last characters masked ("************1234")."""
    if not value:
        return ""
    visible = value[-keep_last:] if keep_last and len(value) > keep_last else ""
    return mask_char * (len(value) - len(visible)) + visible


class EncryptedTextField(models.TextField):
    """A text field stored AES-256-GCM encrypted; Python code sees the plaintext.

    It cannot be searched or indexed by value: keep a separate hash or masked column where needed.
    """

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt_text(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(str(value))
