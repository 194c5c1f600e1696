"""Sensitive fields are AES-256-GCM encrypted at rest and masked for display."""

import pytest
from cryptography.exceptions import InvalidTag
from django.db import connection

from apps.core.crypto import decrypt_bytes, encrypt_bytes, mask_value

pytestmark = pytest.mark.django_db


def test_an_encrypted_field_is_ciphertext_in_the_database(cast):
    agent = cast.agent_a1
    agent.sip_password = "plain-secret-777"
    agent.save()

    with connection.cursor() as cursor:
        cursor.execute("SELECT sip_password FROM accounts_agent WHERE id = %s", [agent.pk])
        stored = cursor.fetchone()[0]

    assert stored.startswith("v1:")
    assert "plain-secret-777" not in stored
    agent.refresh_from_db()
    assert agent.sip_password == "plain-secret-777"


def test_encryption_is_randomised_and_tamper_evident():
    first = encrypt_bytes(b"recording bytes")
    second = encrypt_bytes(b"recording bytes")

    assert first != second
    assert decrypt_bytes(first) == b"recording bytes"
    tampered = first[:-1] + bytes([first[-1] ^ 1])
    with pytest.raises(InvalidTag):
        decrypt_bytes(tampered)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("6222021234567890", "************7890"),
        ("110101199003071234", "**************1234"),
        ("123", "***"),
        ("", ""),
    ],
)
def test_mask_keeps_only_the_last_four_characters(value, masked):
    assert mask_value(value) == masked
