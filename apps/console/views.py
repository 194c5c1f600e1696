"""The console page: one server-rendered screen; everything live comes over its WebSocket."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from apps.accounts.selectors import agent_list_manageable
from apps.console.access import access_console_agent, user_may_use_console
from apps.core.errors import NotFound


@login_required
def console_page(request: HttpRequest) -> HttpResponse:
    """Show the agent's console (or, with ``?agent=<id>``, an agent's console to a supervisor);
    a supervisor without a console of their own picks one of their agents."""
    if not user_may_use_console(request.user):
        raise PermissionDenied
    agent_id = request.GET.get("agent") or None
    try:
        subject = access_console_agent(request.user, agent_id)
    except NotFound as error:
        if agent_id is None:
            agents = agent_list_manageable(actor=request.user).filter(is_active=True)
            return render(request, "console/picker.html", {"agents": agents})
        raise Http404(error.message) from error
    agent = subject.agent
    socket_path = "/ws/console/" + (f"?agent={agent.pk}" if subject.viewing else "")
    config = {
        "agentId": agent.pk,
        "viewing": subject.viewing,
        "socketPath": socket_path,
        "apiBase": "/api/v1/console/",
        "loginUrl": settings.LOGIN_URL,
        "meUrl": "/api/v1/me/",
        "softphone": {
            "enabled": agent.endpoint == agent.Endpoint.WEBRTC and not subject.viewing,
            "credentialsUrl": reverse("agent-sip-credentials", args=[agent.pk]),
        },
    }
    return render(
        request,
        "console/console.html",
        {"agent": agent, "viewing": subject.viewing, "console_config": config},
    )
