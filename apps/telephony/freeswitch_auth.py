"""Is this HTTP request really from one of our FreeSWITCH nodes?

The one check for every endpoint FreeSWITCH calls (mod_xml_curl, mod_httapi, prompt audio): a
source address in FREESWITCH_XML_ALLOWED_IPS (addresses or networks) and basic auth with
FREESWITCH_XML_USERNAME / FREESWITCH_XML_PASSWORD (xml_curl's and the httapi profile's
gateway-credentials).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import logging
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

REALM = "freeswitch-xml"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=32)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
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
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    allowed = tuple(settings.FREESWITCH_XML_ALLOWED_IPS)
    return any(ip in network for network in _networks(allowed))


def freeswitch_credentials_valid(request: HttpRequest) -> bool:
    """Return True when the request carries the configured basic-auth credentials."""
    scheme, _, encoded = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    username, separator, password = decoded.partition(":")
    expected_user = str(settings.FREESWITCH_XML_USERNAME or "")
    expected_password = str(settings.FREESWITCH_XML_PASSWORD or "")
    # Compare both in constant time, always, so timing tells nothing about which one failed.
    user_ok = hmac.compare_digest(username.encode(), expected_user.encode())
    password_ok = hmac.compare_digest(password.encode(), expected_password.encode())
    return bool(separator) and user_ok and password_ok and bool(expected_password)


def freeswitch_refusal(request: HttpRequest) -> HttpResponse | None:
    """Return the refusal for a request not from FreeSWITCH (403 address, 401 credentials).

    None means the request may be served.
    """
    # REMOTE_ADDR only: FreeSWITCH connects directly; a forwarded-for header could be forged.
    address = request.META.get("REMOTE_ADDR")
    if not freeswitch_address_allowed(address):
        logger.warning("FreeSWITCH request to %s refused: address %s", request.path, address)
        return HttpResponse("forbidden", status=403, content_type="text/plain")
    if not freeswitch_credentials_valid(request):
        logger.warning(
            "FreeSWITCH request to %s refused: credentials from %s", request.path, address
        )
        response = HttpResponse("unauthorized", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = f'Basic realm="{REALM}"'
        return response
    return None


def freeswitch_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorate a view so that only FreeSWITCH (allowed address, right credentials) reaches it."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refusal = freeswitch_refusal(request)
        if refusal is not None:
            return refusal
        return view(request, *args, **kwargs)

    return wrapper
