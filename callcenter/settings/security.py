"""Refuse insecure production values: secrets that are missing, too short or well-known defaults."""

import json
import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

# Passwords that ship as defaults somewhere in our stack or are commonly left in place.
KNOWN_DEFAULT_PASSWORDS = frozenset(
    {
        "",
        "clue con",
        "cluecon",
        "1234",
        "admin",
        "changeme",
        "password",
        "postgres",
        "secret",
        "demo",
        "sim-dev-only",
        "xml-dev-only",
        "demo-password",
    }
)


def is_default_password(value: str | None) -> bool:
    """Return True when the value is empty or a well-known default password."""
    return value is None or value.strip().lower() in KNOWN_DEFAULT_PASSWORDS


def assert_production_secrets() -> None:
    """Raise ImproperlyConfigured when a production secret is missing or a default."""
    problems: list[str] = []
    if len(os.environ.get("SECRET_KEY", "")) < 50:
        problems.append("SECRET_KEY must be at least 50 characters")
    for name in ("DATABASE_URL", "REDIS_URL"):
        url = os.environ.get(name, "")
        password = urlsplit(url).password
        if name == "DATABASE_URL" and is_default_password(password):
            problems.append(f"{name} has no password or a default one")
        if name == "REDIS_URL" and password is not None and is_default_password(password):
            problems.append(f"{name} has a default password")
    xml_password = os.environ.get("FREESWITCH_XML_PASSWORD")
    if is_default_password(xml_password):
        problems.append("FREESWITCH_XML_PASSWORD is missing or a default")
    for node in json.loads(os.environ.get("FREESWITCH_NODES", "[]") or "[]"):
        if is_default_password(str(node.get("password", ""))):
            problems.append(f"FreeSWITCH node {node.get('name')!r} has a default ESL password")
    if problems:
        raise ImproperlyConfigured("Insecure production settings: " + "; ".join(problems) + ".")
