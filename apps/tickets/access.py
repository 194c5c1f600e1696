"""Object-level access to tickets: missing and forbidden give the same NotFound."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from apps.core.errors import NotFound
from apps.tickets.models import Ticket, TicketAttachment
from apps.tickets.selectors import ticket_list, ticket_list_visible


def access_ticket_by_id(actor: Any, ticket_id: object, *, for_display: bool = False) -> Ticket:
    """Return the ticket if the actor may see it (see tickets.selectors for who sees what)."""
    tickets = ticket_list(actor=actor) if for_display else ticket_list_visible(actor=actor)
    ticket = tickets.filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound(_("Ticket not found."))
    return ticket


def access_attachment_by_id(actor: Any, ticket: Ticket, attachment_id: object) -> TicketAttachment:
    """Return one of the ticket's attachments."""
    attachment = TicketAttachment.objects.filter(ticket=ticket, pk=attachment_id).first()
    if attachment is None:
        raise NotFound(_("Attachment not found."))
    return attachment
