"""The customer's self-service page: a ticket's status and public replies, nothing else."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.tickets.selectors import public_reply_list
from apps.tickets.self_service import (
    SelfServiceLinkExpired,
    SelfServiceLinkInvalid,
    self_service_ticket,
)


def _private(response: HttpResponse) -> HttpResponse:
    # The token is in the URL: keep it out of other sites' Referer headers and search engines.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
@require_GET
def self_service_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        ticket = self_service_ticket(token)
    except SelfServiceLinkExpired:
        return _private(
            render(request, "tickets/self_service_invalid.html", {"expired": True}, status=410)
        )
    except SelfServiceLinkInvalid:
        return _private(
            render(request, "tickets/self_service_invalid.html", {"expired": False}, status=404)
        )
    context = {"ticket": ticket, "replies": list(public_reply_list(ticket=ticket))}
    return _private(render(request, "tickets/self_service.html", context))
