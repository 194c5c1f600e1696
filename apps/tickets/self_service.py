"""Signed links that let a customer follow their ticket without an account.

The link carries the ticket id signed with the site's SECRET_KEY and a timestamp: it cannot be
forged or pointed at another ticket, and it stops working after SELF_SERVICE_MAX_AGE seconds
(settings.TICKETS_SELF_SERVICE_MAX_AGE overrides).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from apps.tickets.models import Ticket

SELF_SERVICE_SALT = "tickets.self-service"
SELF_SERVICE_MAX_AGE = 30 * 24 * 3600


class SelfServiceLinkInvalid(Exception):
    """The link was tampered with or names no ticket."""


class SelfServiceLinkExpired(Exception):
    """The link is genuine but too old."""


def max_age() -> int:
    return int(getattr(settings, "TICKETS_SELF_SERVICE_MAX_AGE", SELF_SERVICE_MAX_AGE))


def self_service_token(ticket: Ticket) -> str:
    """Return the signed token for the ticket's self-service page."""
    return signing.dumps({"t": ticket.pk}, salt=SELF_SERVICE_SALT)


def self_service_link(ticket: Ticket) -> tuple[str, dt.datetime]:
    """Return the page's path (for the caller to make absolute) and when the link expires."""
    path = reverse("tickets-self-service", kwargs={"token": self_service_token(ticket)})
    return path, timezone.now() + dt.timedelta(seconds=max_age())


def self_service_ticket(token: str) -> Ticket:
    """Return the ticket a token names; raise SelfServiceLinkExpired or SelfServiceLinkInvalid."""
    try:
        payload = signing.loads(token, salt=SELF_SERVICE_SALT, max_age=max_age())
    except signing.SignatureExpired as exc:
        raise SelfServiceLinkExpired from exc
    except signing.BadSignature as exc:
        raise SelfServiceLinkInvalid from exc
    ticket_id = payload.get("t") if isinstance(payload, dict) else None
    ticket = Ticket.objects.filter(pk=ticket_id).first() if isinstance(ticket_id, int) else None
    if ticket is None:
        raise SelfServiceLinkInvalid
    return ticket
