"""Reads of tickets, scoped by the acting user.

Who sees which tickets:
- administrators, QA analysts and API clients (CRMs): every ticket;
- supervisors: their teams' tickets, tickets no team has taken yet (the triage pool), and the
  tickets assigned to them, watched by them or created by them;
- agents: their own team's tickets, and the tickets assigned to them, watched by them or created
  by them (a handoff to another team hides the ticket unless they watch it).
Everyone needs tickets.view_ticket first.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from apps.accounts.models import Agent
from apps.accounts.selectors import team_list_supervised
from apps.rbac import roles
from apps.rbac.services import user_has_role, user_is_admin
from apps.tickets.models import (
    ACTIVE_STATUSES,
    SLAPolicy,
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketEvent,
    Visibility,
)


def ticket_list_visible(*, actor: Any) -> QuerySet[Ticket]:
    """Return the tickets the actor may see (see the module docstring)."""
    if not actor.has_perm("tickets.view_ticket"):
        return Ticket.objects.none()
    tickets = Ticket.objects.all()
    if (
        user_is_admin(actor)
        or user_has_role(actor, roles.QA_ANALYST)
        or user_has_role(actor, roles.API_CLIENT)
    ):
        return tickets
    watched = Ticket.watchers.through.objects.filter(user_id=actor.pk).values("ticket_id")
    scope = Q(assignee_id=actor.pk) | Q(created_by_id=actor.pk) | Q(pk__in=watched)
    if user_has_role(actor, roles.SUPERVISOR):
        scope |= Q(team__in=team_list_supervised(actor=actor)) | Q(team__isnull=True)
    if user_has_role(actor, roles.AGENT):
        team_id = Agent.objects.filter(user_id=actor.pk).values_list("team_id", flat=True).first()
        if team_id is not None:
            scope |= Q(team_id=team_id)
    return tickets.filter(scope)


def ticket_list(*, actor: Any) -> QuerySet[Ticket]:
    """Return the visible tickets with what the API shows about them, in few queries."""
    return (
        ticket_list_visible(actor=actor)
        .select_related("customer", "assignee", "team", "department", "category", "created_by")
        .prefetch_related(
            "watchers",
            "calls",
            "linked_interactions",
            Prefetch(
                "sla_policy",
                queryset=SLAPolicy.objects.select_related("calendar").prefetch_related(
                    "calendar__intervals", "calendar__holidays", "targets"
                ),
            ),
        )
    )


def ticket_list_open_for_customer(*, actor: Any, customer_id: int) -> QuerySet[Ticket]:
    """Return the customer's active tickets the actor may see, newest first (screen-pop)."""
    return (
        ticket_list(actor=actor)
        .filter(customer_id=customer_id, status__in=ACTIVE_STATUSES)
        .order_by("-created_at")
    )


def comment_list(*, actor: Any, ticket: Ticket) -> QuerySet[TicketComment]:
    """Return the ticket's internal notes and replies, oldest first (staff who see the ticket)."""
    return TicketComment.objects.filter(ticket=ticket).select_related("author")


def public_reply_list(*, ticket: Ticket) -> QuerySet[TicketComment]:
    """Return only what the customer may read: the public replies, oldest first."""
    return TicketComment.objects.filter(ticket=ticket, visibility=Visibility.PUBLIC).order_by(
        "created_at", "id"
    )


def attachment_list(*, actor: Any, ticket: Ticket) -> QuerySet[TicketAttachment]:
    return TicketAttachment.objects.filter(ticket=ticket).select_related("uploaded_by")


def event_list(*, actor: Any, ticket: Ticket) -> QuerySet[TicketEvent]:
    return TicketEvent.objects.filter(ticket=ticket).select_related("actor")
