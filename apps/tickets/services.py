"""Writes for tickets: creation (by hand, API, call wrap-up), lifecycle, assignment, handoffs,
comments, attachments, links and SLA escalation.

Every status change goes through tickets.workflow; every service locks the ticket row, writes a
TicketEvent in the same transaction (django-auditlog records the field diffs), and pushes realtime
updates after commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Agent, Team, User
from apps.core.errors import Conflict, InvalidInput
from apps.core.realtime import agent_group, push_on_commit, team_group
from apps.customers.models import Channel, Customer, Direction, Interaction
from apps.customers.services import customer_resolve_caller, interaction_record
from apps.rbac import roles
from apps.rbac.services import user_has_role, user_is_admin
from apps.tickets import sla, workflow
from apps.tickets.attachments import attachment_check, max_per_ticket
from apps.tickets.models import (
    ACTIVE_STATUSES,
    AuthorKind,
    Department,
    EventKind,
    Origin,
    PendingReason,
    Priority,
    Status,
    Ticket,
    TicketAttachment,
    TicketCall,
    TicketCategory,
    TicketComment,
    TicketEvent,
    Visibility,
)

UNSET: Any = object()


def _actor_or_none(actor: Any) -> User | None:
    return actor if getattr(actor, "pk", None) else None


def _event(ticket: Ticket, kind: str, actor: Any, key: str = "", **data: Any) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket, kind=kind, actor=_actor_or_none(actor), data=data, key=key
    )


def _lock(ticket: Ticket) -> Ticket:
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("sla_policy__calendar", "department")
        .get(pk=ticket.pk)
    )


def _payload(ticket: Ticket, **extra: Any) -> dict[str, Any]:
    return {
        "ticket_id": ticket.pk,
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        **extra,
    }


def _push_to_people(ticket: Ticket, message_type: str, users: Iterable[Any], **extra: Any) -> None:
    user_ids = {getattr(user, "pk", user) for user in users if user}
    if not user_ids:
        return
    for agent_id in Agent.objects.filter(user_id__in=user_ids).values_list("pk", flat=True):
        push_on_commit(agent_group(agent_id), message_type, _payload(ticket, **extra))


def _push_to_team(ticket: Ticket, message_type: str, **extra: Any) -> None:
    if ticket.team_id:
        push_on_commit(team_group(ticket.team_id), message_type, _payload(ticket, **extra))


def _check_assignee(assignee: User | None) -> None:
    if assignee is None:
        return
    if (
        not assignee.is_active
        or assignee.is_service_account
        or not (
            user_has_role(assignee, roles.AGENT)
            or user_has_role(assignee, roles.SUPERVISOR)
            or user_is_admin(assignee)
        )
    ):
        raise InvalidInput(_("Tickets can only be assigned to active staff."), field="assignee")


def _team_of(user: User | None) -> Team | None:
    if user is None:
        return None
    agent = Agent.objects.filter(user=user).select_related("team").first()
    return agent.team if agent else None


def _validate_priority(priority: str) -> None:
    if priority not in Priority.values:
        raise InvalidInput(_("Unknown priority."), field="priority")


@transaction.atomic
def ticket_create(
    *,
    actor: Any,
    subject: str,
    description: str = "",
    customer: Customer | None = None,
    priority: str = Priority.NORMAL,
    category: TicketCategory | None = None,
    channel: str = Origin.MANUAL,
    department: Department | None = None,
    team: Team | None = None,
    assignee: User | None = None,
    watchers: Iterable[User] = (),
    call_uuids: Iterable[str] = (),
    interactions: Iterable[Interaction] = (),
) -> Ticket:
    """Open a ticket, start its SLA clocks and note it on the customer's timeline.

    The department defaults to the category's, the team to the department's default team or the
    assignee's own team.
    """
    subject = (subject or "").strip()
    if not subject:
        raise InvalidInput(_("A subject is required."), field="subject")
    _validate_priority(priority)
    if channel not in Origin.values:
        raise InvalidInput(_("Unknown channel."), field="channel")
    if customer is not None and customer.merged_into_id is not None:
        customer = Customer.objects.get(pk=customer.merged_into_id)
    _check_assignee(assignee)
    if department is None and category is not None:
        department = category.department
    if team is None:
        team = (department.default_team if department else None) or _team_of(assignee)
    now = timezone.now()
    ticket = Ticket(
        subject=subject[:200],
        description=description,
        customer=customer,
        priority=priority,
        category=category,
        channel=channel,
        department=department,
        team=team,
        assignee=assignee,
        created_by=_actor_or_none(actor),
        sla_cycle_started_at=now,
    )
    ticket.sla_policy = sla.policy_for(ticket)
    ticket.save()
    sla.schedule_deadlines(ticket, now=ticket.created_at)
    ticket.save(
        update_fields=[
            "first_response_due_at",
            "first_response_warn_at",
            "first_response_sla_level",
            "resolution_due_at",
            "resolution_warn_at",
            "resolution_sla_level",
        ]
    )
    ticket.watchers.add(*[user for user in watchers if user])
    for call_uuid in dict.fromkeys(uuid.strip() for uuid in call_uuids if uuid and uuid.strip()):
        TicketCall.objects.create(
            ticket=ticket, call_uuid=call_uuid, linked_by=_actor_or_none(actor)
        )
    interactions = [i for i in interactions if customer is None or i.customer_id == customer.pk]
    ticket.linked_interactions.add(*interactions)
    _event(ticket, EventKind.CREATED, actor, channel=channel)
    if customer is not None:
        interaction_record(
            actor=actor,
            customer=customer,
            channel=Channel.TICKET,
            direction=Direction.INTERNAL,
            occurred_at=now,
            summary=f"{ticket.reference} {ticket.subject}",
            refs={"ticket_id": ticket.pk, "reference": ticket.reference, "event": "created"},
            agent=_actor_or_none(actor)
            if not getattr(actor, "is_service_account", False)
            else None,
        )
    _push_to_people(ticket, "ticket.assigned", [assignee])
    _push_to_team(ticket, "ticket.created")
    return ticket


@transaction.atomic
def ticket_create_from_call(
    *,
    actor: Any,
    call_uuid: str,
    subject: str,
    description: str = "",
    customer: Customer | None = None,
    caller_number: str | None = None,
    priority: str = Priority.NORMAL,
    category: TicketCategory | None = None,
    department: Department | None = None,
    team: Team | None = None,
    assignee: User | None = UNSET,
) -> Ticket:
    """Create the ticket an agent fills in at wrap-up, linked to the call and its interaction.

    The customer defaults to the caller (resolved by number); the assignee defaults to the agent
    wrapping up, so the ticket lands in their own list.
    """
    if not call_uuid:
        raise InvalidInput(_("A call uuid is required."), field="call_uuid")
    if customer is None and caller_number:
        customer = customer_resolve_caller(caller_number=caller_number)
    if assignee is UNSET:
        is_staff = user_has_role(actor, roles.AGENT) or user_has_role(actor, roles.SUPERVISOR)
        assignee = actor if is_staff else None
    interactions = Interaction.objects.filter(channel=Channel.CALL, call_uuid=call_uuid)
    return ticket_create(
        actor=actor,
        subject=subject,
        description=description,
        customer=customer,
        priority=priority,
        category=category,
        channel=Origin.PHONE,
        department=department,
        team=team,
        assignee=assignee,
        call_uuids=[call_uuid],
        interactions=list(interactions),
    )


@transaction.atomic
def ticket_update(
    *,
    actor: Any,
    ticket: Ticket,
    subject: str = UNSET,
    description: str = UNSET,
    priority: str = UNSET,
    category: TicketCategory | None = UNSET,
    customer: Customer | None = UNSET,
) -> Ticket:
    """Change the ticket's descriptive fields; a new priority re-targets the SLA clocks."""
    ticket = _lock(ticket)
    changes: dict[str, Any] = {}
    if subject is not UNSET:
        subject = (subject or "").strip()
        if not subject:
            raise InvalidInput(_("A subject is required."), field="subject")
        changes["subject"] = subject[:200]
    if description is not UNSET:
        changes["description"] = description
    if priority is not UNSET:
        _validate_priority(priority)
        changes["priority"] = priority
    if category is not UNSET:
        changes["category"] = category
    if customer is not UNSET:
        changes["customer"] = customer
    changed = [name for name, value in changes.items() if getattr(ticket, name) != value]
    if not changed:
        return ticket
    before = {name: _plain(getattr(ticket, name)) for name in changed}
    for name in changed:
        setattr(ticket, name, changes[name])
    fields = list(changed)
    if "priority" in changed:
        fields += sla.schedule_deadlines(ticket, now=timezone.now())
    ticket.save(update_fields=[*fields, "updated_at"])
    _event(
        ticket,
        EventKind.UPDATED,
        actor,
        changes={name: [before[name], _plain(changes[name])] for name in changed},
    )
    return ticket


def _plain(value: Any) -> Any:
    return getattr(value, "pk", value)


@transaction.atomic
def ticket_transition(
    *, actor: Any, ticket: Ticket, action: str, pending_reason: str = "", note: str = ""
) -> Ticket:
    """Apply a lifecycle action (see tickets.workflow); illegal ones raise Conflict unchanged."""
    ticket = _lock(ticket)
    target = workflow.transition_target(ticket.status, action, pending_reason=pending_reason)
    now = timezone.now()
    source = ticket.status
    fields = ["status", "pending_reason"]
    ticket.status = target
    ticket.pending_reason = pending_reason if target == Status.PENDING else ""
    if target == Status.PENDING:
        fields += sla.pause(ticket, now=now)
    elif source == Status.PENDING:
        fields += sla.resume(ticket, now=now)
    if target == Status.RESOLVED:
        ticket.resolved_at = now
        fields.append("resolved_at")
    elif target == Status.CLOSED:
        ticket.closed_at = now
        fields.append("closed_at")
    if action == workflow.Action.REOPEN:
        ticket.reopened_count += 1
        ticket.resolved_at = None
        ticket.closed_at = None
        fields += ["reopened_count", "resolved_at", "closed_at", *sla.restart(ticket, now=now)]
    ticket.save(update_fields=[*dict.fromkeys(fields), "updated_at"])
    _event(
        ticket,
        EventKind.STATUS,
        actor,
        action=action,
        **{"from": source, "to": target},
        pending_reason=ticket.pending_reason,
    )
    if note.strip():
        TicketComment.objects.create(
            ticket=ticket,
            author=_actor_or_none(actor),
            body=note.strip(),
            visibility=Visibility.INTERNAL,
        )
    if target == Status.RESOLVED and ticket.customer_id:
        interaction_record(
            actor=actor,
            customer=ticket.customer,
            channel=Channel.TICKET,
            direction=Direction.INTERNAL,
            occurred_at=now,
            summary=f"{ticket.reference} {Status.RESOLVED.label}: {ticket.subject}",
            refs={"ticket_id": ticket.pk, "reference": ticket.reference, "event": "resolved"},
        )
    _push_to_people(
        ticket,
        "ticket.updated",
        [ticket.assignee_id, *ticket.watchers.values_list("pk", flat=True)],
    )
    return ticket


@transaction.atomic
def ticket_assign(
    *, actor: Any, ticket: Ticket, team: Team | None = UNSET, assignee: User | None = UNSET
) -> Ticket:
    """Give the ticket to a team and/or an agent; an agent alone brings their own team along."""
    ticket = _lock(ticket)
    if ticket.status == Status.CLOSED:
        raise Conflict(_("A closed ticket cannot be reassigned."), code="ticket_closed")
    if assignee is not UNSET:
        _check_assignee(assignee)
    new_team = ticket.team if team is UNSET else team
    new_assignee = ticket.assignee if assignee is UNSET else assignee
    if assignee is not UNSET and team is UNSET and assignee is not None:
        new_team = _team_of(assignee) or new_team
    if (new_team, new_assignee) == (ticket.team, ticket.assignee):
        return ticket
    before = {"team": ticket.team_id, "assignee": ticket.assignee_id}
    ticket.team, ticket.assignee = new_team, new_assignee
    ticket.save(update_fields=["team", "assignee", "updated_at"])
    _event(
        ticket,
        EventKind.ASSIGNED,
        actor,
        team=[before["team"], ticket.team_id],
        assignee=[before["assignee"], ticket.assignee_id],
    )
    if ticket.assignee_id and ticket.assignee_id != before["assignee"]:
        _push_to_people(ticket, "ticket.assigned", [ticket.assignee_id])
    if ticket.team_id != before["team"]:
        _push_to_team(ticket, "ticket.assigned")
    return ticket


@transaction.atomic
def ticket_handoff(
    *,
    actor: Any,
    ticket: Ticket,
    department: Department,
    team: Team | None = None,
    note: str = "",
) -> Ticket:
    """Hand the ticket to another department: its team (or the department's default team) takes
    it unassigned; the SLA clocks keep running, since the customer is still waiting."""
    ticket = _lock(ticket)
    if ticket.status not in ACTIVE_STATUSES:
        raise Conflict(_("Only an active ticket can be handed off."), code="ticket_not_active")
    if not department.is_active:
        raise InvalidInput(_("This department is inactive."), field="department")
    if ticket.department_id == department.pk and (team is None or team.pk == ticket.team_id):
        raise Conflict(_("The ticket is already with this department."), code="same_department")
    before = {
        "department": ticket.department_id,
        "team": ticket.team_id,
        "assignee": ticket.assignee_id,
    }
    ticket.department = department
    ticket.team = team or department.default_team or ticket.team
    ticket.assignee = None
    ticket.save(update_fields=["department", "team", "assignee", "updated_at"])
    _event(
        ticket,
        EventKind.HANDOFF,
        actor,
        department=[before["department"], department.pk],
        team=[before["team"], ticket.team_id],
        assignee=[before["assignee"], None],
        note=note.strip(),
    )
    TicketComment.objects.create(
        ticket=ticket,
        author=_actor_or_none(actor),
        visibility=Visibility.INTERNAL,
        body=(
            _("Handed off to %(department)s.") % {"department": department.name}
            + (f"\n\n{note.strip()}" if note.strip() else "")
        ),
    )
    _push_to_team(ticket, "ticket.handoff")
    return ticket


@transaction.atomic
def ticket_comment_add(
    *,
    actor: Any,
    ticket: Ticket,
    body: str,
    visibility: str = Visibility.INTERNAL,
    from_customer: bool = False,
) -> TicketComment:
    """Add an internal note or a public reply.

    The first public staff reply stops the first-response clock (and opens a new ticket); a reply
    the customer sent (relayed by a CRM) is public and puts a ticket waiting for them back to open.
    """
    body = (body or "").strip()
    if not body:
        raise InvalidInput(_("The text is empty."), field="body")
    if visibility not in Visibility.values:
        raise InvalidInput(_("Unknown visibility."), field="visibility")
    if from_customer and visibility != Visibility.PUBLIC:
        raise InvalidInput(_("A customer's message is public."), field="visibility")
    ticket = _lock(ticket)
    if ticket.status == Status.CLOSED:
        raise Conflict(_("Reopen the ticket to comment on it."), code="ticket_closed")
    comment = TicketComment.objects.create(
        ticket=ticket,
        author=_actor_or_none(actor),
        author_kind=AuthorKind.CUSTOMER if from_customer else AuthorKind.STAFF,
        visibility=visibility,
        body=body,
    )
    staff_reply = visibility == Visibility.PUBLIC and not from_customer
    if staff_reply and ticket.first_responded_at is None:
        ticket.first_responded_at = comment.created_at
        ticket.save(update_fields=["first_responded_at", "updated_at"])
    if staff_reply and ticket.status == Status.NEW:
        ticket = ticket_transition(actor=actor, ticket=ticket, action=workflow.Action.OPEN)
    if (
        from_customer
        and ticket.status == Status.PENDING
        and ticket.pending_reason == PendingReason.CUSTOMER
    ):
        ticket = ticket_transition(actor=actor, ticket=ticket, action=workflow.Action.RESUME)
    watchers = [ticket.assignee_id, *ticket.watchers.values_list("pk", flat=True)]
    _push_to_people(
        ticket,
        "ticket.commented",
        [user for user in watchers if user != getattr(actor, "pk", None)],
        comment_id=comment.pk,
        visibility=visibility,
    )
    return comment


@transaction.atomic
def ticket_attachment_add(
    *, actor: Any, ticket: Ticket, upload: UploadedFile, comment: TicketComment | None = None
) -> TicketAttachment:
    """Store an uploaded file on the ticket after checking its size, type and content."""
    ticket = _lock(ticket)
    if ticket.attachments.count() >= max_per_ticket():
        raise InvalidInput(_("The ticket has too many attachments."), field="file")
    upload.seek(0)
    head = upload.read(4096)
    content_type = attachment_check(filename=upload.name or "", size=upload.size or 0, head=head)
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    if comment is not None and comment.ticket_id != ticket.pk:
        raise InvalidInput(_("The comment belongs to another ticket."), field="comment")
    return TicketAttachment.objects.create(
        ticket=ticket,
        comment=comment,
        file=upload,
        filename=(upload.name or "file")[:255],
        content_type=content_type,
        size=upload.size,
        sha256=digest.hexdigest(),
        uploaded_by=_actor_or_none(actor),
    )


@transaction.atomic
def ticket_watch(*, actor: Any, ticket: Ticket, user: User, watch: bool = True) -> Ticket:
    """Add (or remove) a watcher, who then hears about the ticket's changes."""
    ticket = _lock(ticket)
    if watch:
        _check_assignee(user)
        if not ticket.watchers.filter(pk=user.pk).exists():
            ticket.watchers.add(user)
            _event(ticket, EventKind.WATCHER, actor, added=user.pk)
    elif ticket.watchers.filter(pk=user.pk).exists():
        ticket.watchers.remove(user)
        _event(ticket, EventKind.WATCHER, actor, removed=user.pk)
    return ticket


@transaction.atomic
def ticket_link_call(*, actor: Any, ticket: Ticket, call_uuid: str) -> TicketCall:
    """Link a call to the ticket (idempotent), with its interaction when it was recorded."""
    call_uuid = (call_uuid or "").strip()
    if not call_uuid or len(call_uuid) > 64:
        raise InvalidInput(_("Enter a call uuid."), field="call_uuid")
    ticket = _lock(ticket)
    link, created = TicketCall.objects.get_or_create(
        ticket=ticket, call_uuid=call_uuid, defaults={"linked_by": _actor_or_none(actor)}
    )
    if created:
        interactions = Interaction.objects.filter(channel=Channel.CALL, call_uuid=call_uuid)
        if ticket.customer_id:
            interactions = interactions.filter(customer_id=ticket.customer_id)
        ticket.linked_interactions.add(*interactions)
        _event(ticket, EventKind.LINKED, actor, call_uuid=call_uuid)
    return link


@transaction.atomic
def ticket_link_interaction(*, actor: Any, ticket: Ticket, interaction: Interaction) -> Ticket:
    """Link one of the ticket customer's interactions to the ticket."""
    ticket = _lock(ticket)
    if ticket.customer_id and interaction.customer_id != ticket.customer_id:
        raise InvalidInput(_("The interaction belongs to another customer."), field="interaction")
    if not ticket.linked_interactions.filter(pk=interaction.pk).exists():
        ticket.linked_interactions.add(interaction)
        _event(ticket, EventKind.LINKED, actor, interaction=interaction.pk)
    return ticket


@transaction.atomic
def ticket_delete(*, actor: Any, ticket: Ticket) -> None:
    """Delete the ticket and everything attached to it (administrators only, by permission)."""
    for attachment in ticket.attachments.all():
        attachment.file.delete(save=False)
    ticket.delete()


def _supervisors_of(ticket: Ticket) -> list[User]:
    if not ticket.team_id:
        return []
    return list(ticket.team.supervisors.filter(is_active=True))


@transaction.atomic
def ticket_sla_check(*, ticket_id: int, now: dt.datetime | None = None) -> list[str]:
    """Announce the SLA warnings and breaches the ticket reached; return what was announced.

    A warning notifies the assignee and the team; a breach escalates: the escalation level goes up,
    the team's supervisors become watchers, an internal note says what was missed. Each
    announcement happens once per deadline, so running the sweep twice changes nothing.
    """
    now = now or timezone.now()
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("sla_policy__calendar", "team")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        return []
    announced: list[str] = []
    for clock, level in sla.due_levels(ticket, now=now):
        due = getattr(ticket, f"{clock}_due_at")
        key = f"sla:{clock}:{level}:{due.isoformat()}"
        kind = EventKind.SLA_BREACHED if level == sla.LEVEL_BREACHED else EventKind.SLA_WARNING
        try:
            with transaction.atomic():
                _event(ticket, kind, None, key=key, clock=clock, due=due.isoformat())
        except IntegrityError:
            continue
        setattr(ticket, f"{clock}_sla_level", level)
        announced.append(f"{clock}:{'breached' if level == sla.LEVEL_BREACHED else 'warning'}")
        if level == sla.LEVEL_BREACHED:
            _escalate(ticket, clock=clock, due=due)
        else:
            _push_to_people(
                ticket, "ticket.sla_warning", [ticket.assignee_id], clock=clock, due=due.isoformat()
            )
            _push_to_team(ticket, "ticket.sla_warning", clock=clock, due=due.isoformat())
    if announced:
        ticket.save(
            update_fields=[
                "first_response_sla_level",
                "resolution_sla_level",
                "escalation_level",
            ]
        )
    return announced


def _escalate(ticket: Ticket, *, clock: str, due: dt.datetime) -> None:
    ticket.escalation_level += 1
    supervisors = _supervisors_of(ticket)
    ticket.watchers.add(*supervisors)
    label = _("first response") if clock == "first_response" else _("resolution")
    TicketComment.objects.create(
        ticket=ticket,
        author_kind=AuthorKind.SYSTEM,
        visibility=Visibility.INTERNAL,
        body=_("SLA missed: the %(clock)s was due at %(due)s. Escalated to level %(level)s.")
        % {
            "clock": label,
            "due": due.isoformat(timespec="minutes"),
            "level": ticket.escalation_level,
        },
    )
    extra = {"clock": clock, "due": due.isoformat(), "escalation_level": ticket.escalation_level}
    _push_to_people(
        ticket, "ticket.sla_breached", [ticket.assignee_id, *[s.pk for s in supervisors]], **extra
    )
    _push_to_team(ticket, "ticket.sla_breached", **extra)


def tickets_sla_sweep(*, now: dt.datetime | None = None) -> int:
    """Check every ticket with an SLA announcement due; return how many announcements were made.

    Each ticket is checked in its own transaction, so one failure does not hold back the others.
    """
    now = now or timezone.now()
    first_due = Q(first_responded_at__isnull=True, first_response_due_at__isnull=False) & (
        Q(first_response_sla_level__lt=sla.LEVEL_WARNING, first_response_warn_at__lte=now)
        | Q(first_response_sla_level__lt=sla.LEVEL_BREACHED, first_response_due_at__lte=now)
    )
    resolution_due = Q(sla_paused_at__isnull=True, resolution_due_at__isnull=False) & (
        Q(resolution_sla_level__lt=sla.LEVEL_WARNING, resolution_warn_at__lte=now)
        | Q(resolution_sla_level__lt=sla.LEVEL_BREACHED, resolution_due_at__lte=now)
    )
    ticket_ids = list(
        Ticket.objects.filter(status__in=ACTIVE_STATUSES)
        .filter(first_due | resolution_due)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(len(ticket_sla_check(ticket_id=pk, now=now)) for pk in ticket_ids)
