"""Normalise contact identities so one person on any channel maps to one stored value.

Pure functions (no database): phone numbers to E.164 with `phonenumbers`, e-mail addresses to lower
case, messaging and web visitor ids trimmed. The services and selectors both call these, so a value
is stored and looked up in exactly the same form.
"""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from apps.customers.models import IdentityKind

# Region used for numbers written without a country code (e.g. "13812345678", "010-12345678").
DEFAULT_PHONE_REGION = "CN"
MAX_IDENTITY_LENGTH = 255


def default_phone_region() -> str:
    """Return the region for national-format numbers (settings.CUSTOMERS_DEFAULT_PHONE_REGION)."""
    return getattr(settings, "CUSTOMERS_DEFAULT_PHONE_REGION", DEFAULT_PHONE_REGION)


def phone_normalize(raw: str | None, default_region: str | None = None) -> str | None:
    """Return the number in E.164 ("+8613812345678"), or None when it is not a valid number.

    Accepts national formats of the default region (13812345678, 010-12345678), international ones
    (+86 138 1234 5678, 0086..., 86... without the plus), full-width digits and an extension, which
    is dropped. Withheld caller ids, SIP extensions and short service codes give None.
    """
    if not raw:
        return None
    text = str(raw).strip()
    if not text or len(text) > 64:
        return None
    try:
        number = phonenumbers.parse(text, default_region or default_phone_region())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    number.extension = None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email_normalize(raw: str | None) -> str | None:
    """Return the address trimmed and in lower case, or None when it is not an e-mail address."""
    if not raw:
        return None
    address = str(raw).strip().lower()
    if len(address) > 254:
        return None
    try:
        validate_email(address)
    except ValidationError:
        return None
    return address


def opaque_id_normalize(raw: str | None) -> str | None:
    """Return a messaging or visitor id trimmed (they are case-sensitive), or None when empty."""
    if raw is None:
        return None
    value = str(raw).strip()
    if not value or len(value) > MAX_IDENTITY_LENGTH or any(ch.isspace() for ch in value):
        return None
    return value


def identity_normalize(kind: str, raw: str | None) -> str:
    """Return the stored form of an identity value; raise ValueError with a reason when invalid."""
    if kind == IdentityKind.PHONE:
        value = phone_normalize(raw)
        reason = _("Enter a valid phone number.")
    elif kind == IdentityKind.EMAIL:
        value = email_normalize(raw)
        reason = _("Enter a valid e-mail address.")
    elif kind in IdentityKind.values:
        value = opaque_id_normalize(raw)
        reason = _("Enter an id without spaces, at most 255 characters.")
    else:
        raise ValueError(_("Unknown identity kind."))
    if value is None:
        raise ValueError(reason)
    return value
