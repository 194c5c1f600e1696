"""Is this HTTP request really from one of our FreeSWITCH nodes?

Basic auth with FREESWITCH_XML_USERNAME / FREESWITCH_XML_PASSWORD (the httapi profile's
gateway-credentials) and a source address in FREESWITCH_XML_ALLOWED_IPS (addresses or networks).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest


@lru_cache(maxsize=32)
def _networks(
    entries: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    return tuple(networks)


def freeswitch_address_allowed(address: str | None) -> bool:
    """Return True when the address is in FREESWITCH_XML_ALLOWED_IPS."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped  # type: ignore[union-attr]
    allowed = tuple(settings.FREESWITCH_XML_ALLOWED_IPS)
    return any(ip in network for network in _networks(allowed))


def freeswitch_credentials_valid(request: HttpRequest) -> bool:
    """Return True when the request carries the configured basic-auth credentials."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    username, separator, password = decoded.partition(":")
    if not separator:
        return False
    expected_user = str(settings.FREESWITCH_XML_USERNAME or "")
    expected_password = str(settings.FREESWITCH_XML_PASSWORD or "")
    # Compare both in constant time, always, so timing tells nothing about which one failed.
    user_ok = hmac.compare_digest(username.encode(), expected_user.encode())
    password_ok = hmac.compare_digest(password.encode(), expected_password.encode())
    return user_ok and password_ok and bool(expected_password)


def freeswitch_request_allowed(request: HttpRequest) -> bool:
    """Return True for a request from an allowed address with the right credentials."""
    return freeswitch_address_allowed(request.META.get("REMOTE_ADDR")) and (
        freeswitch_credentials_valid(request)
    )
