"""Tickets with their lifecycle, SLA clocks on business hours, comments, attachments and history."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class SLAPolicy(TimeStampedModel):
    """Response and resolution targets per priority, counted on a business calendar."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    # The suite's one calendar model: the same business hours the queues open by.
    calendar = models.ForeignKey(
        "routing.BusinessHours",
        verbose_name=_("business calendar"),
        on_delete=models.PROTECT,
        related_name="sla_policies",
    )
    warning_percent = models.PositiveSmallIntegerField(
        _("warning at remaining %"),
        default=25,
        help_text=_("Warn when less than this share of the target time remains."),
    )
    pause_when_pending = models.BooleanField(
        _("pause resolution while pending"),
        default=True,
        help_text=_(
            "The resolution clock stops while the ticket waits for the customer or a third party."
        ),
    )
    is_default = models.BooleanField(
        _("default policy"), default=False, help_text=_("For tickets of departments without one.")
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="tickets_one_default_sla"
            ),
            models.CheckConstraint(
                condition=Q(warning_percent__lte=100), name="tickets_sla_warning_percent_max"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SLATarget(models.Model):
    policy = models.ForeignKey(
        SLAPolicy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="targets"
    )
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField(_("first response (business minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution (business minutes)"))

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        ordering = ["policy", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "priority"], name="tickets_sla_target_unique")
        ]

    def __str__(self) -> str:
        return f"{self.policy} {self.get_priority_display()}"


class Department(TimeStampedModel):
    """A part of the company a ticket can be handed to (logistics, technical support...)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    default_team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("default team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Team that receives the department's tickets."),
    )
    sla_policy = models.ForeignKey(
        SLAPolicy,
        verbose_name=_("SLA policy"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="departments",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TicketCategory(models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text=_("Department that handles tickets of this category by default."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


ACTIVE_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING)


class PendingReason(models.TextChoices):
    CUSTOMER = "customer", _("Waiting for the customer")
    THIRD_PARTY = "third_party", _("Waiting for a third party")


class Origin(models.TextChoices):
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    EMAIL = "email", _("E-mail")
    WEB = "web", _("Web")
    WECHAT = "wechat", _("WeChat")
    SMS = "sms", _("SMS")
    API = "api", _("API")
    MANUAL = "manual", _("Entered by staff")


class Ticket(TimeStampedModel):
    """A customer problem followed to its end. Status changes only through tickets.workflow."""

    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW
    )
    pending_reason = models.CharField(
        _("pending reason"), max_length=16, choices=PendingReason.choices, blank=True
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    category = models.ForeignKey(
        TicketCategory,
        verbose_name=_("category"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    channel = models.CharField(
        _("channel of origin"), max_length=16, choices=Origin.choices, default=Origin.MANUAL
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("watchers"),
        blank=True,
        related_name="watched_tickets",
    )
    linked_interactions = models.ManyToManyField(
        "customers.Interaction",
        verbose_name=_("linked interactions"),
        blank=True,
        related_name="tickets",
    )
    first_responded_at = models.DateTimeField(_("first responded at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reopened_count = models.PositiveIntegerField(_("times reopened"), default=0)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)

    # SLA bookkeeping, maintained by tickets.sla: deadlines are stored so the beat sweep is a query.
    sla_policy = models.ForeignKey(
        SLAPolicy, verbose_name=_("SLA policy"), on_delete=models.PROTECT, null=True, blank=True
    )
    sla_cycle_started_at = models.DateTimeField(_("resolution clock started"), null=True)
    sla_paused_at = models.DateTimeField(_("resolution clock paused at"), null=True, blank=True)
    sla_paused_seconds = models.FloatField(_("business seconds paused"), default=0)
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    first_response_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_response_sla_level = models.PositiveSmallIntegerField(default=0, editable=False)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_sla_level = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["team", "status"], name="tickets_team_status_idx"),
            models.Index(fields=["assignee", "status"], name="tickets_assignee_status_idx"),
            models.Index(fields=["customer", "-created_at"], name="tickets_customer_idx"),
            models.Index(
                fields=["first_response_warn_at"],
                condition=Q(first_responded_at__isnull=True, status__in=ACTIVE_STATUSES),
                name="tickets_fr_sweep_idx",
            ),
            models.Index(
                fields=["resolution_warn_at"],
                condition=Q(sla_paused_at__isnull=True, status__in=ACTIVE_STATUSES),
                name="tickets_res_sweep_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=Status.PENDING, pending_reason__in=PendingReason.values)
                | (~Q(status=Status.PENDING) & Q(pending_reason="")),
                name="tickets_pending_reason_iff_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def reference(self) -> str:
        return f"T{self.pk:06d}" if self.pk else "T-"


class TicketCall(models.Model):
    """A call linked to the ticket, by its FreeSWITCH call uuid."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="calls"
    )
    call_uuid = models.CharField(_("call uuid"), max_length=64, db_index=True)
    linked_at = models.DateTimeField(_("linked at"), auto_now_add=True)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("linked call")
        verbose_name_plural = _("linked calls")
        ordering = ["linked_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "call_uuid"], name="tickets_call_unique")
        ]

    def __str__(self) -> str:
        return self.call_uuid


class Visibility(models.TextChoices):
    INTERNAL = "internal", _("Internal note")
    PUBLIC = "public", _("Reply to the customer")


class AuthorKind(models.TextChoices):
    STAFF = "staff", _("Staff")
    CUSTOMER = "customer", _("Customer")
    SYSTEM = "system", _("System")


class TicketComment(models.Model):
    """An internal note (staff only) or a customer-facing reply."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    author_kind = models.CharField(
        _("author kind"), max_length=10, choices=AuthorKind.choices, default=AuthorKind.STAFF
    )
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket comment")
        verbose_name_plural = _("ticket comments")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="tickets_comment_idx")]

    def __str__(self) -> str:
        return f"{self.ticket.reference} {self.get_visibility_display()}"


def attachment_path(instance: TicketAttachment, filename: str) -> str:
    # The stored name is ours (a uuid), never the uploader's: no path tricks, no collisions.
    suffix = "".join(ch for ch in filename.rsplit(".", 1)[-1][:10] if ch.isalnum()).lower()
    return f"tickets/{instance.ticket_id}/{uuid.uuid4().hex}.{suffix or 'bin'}"


class TicketAttachment(models.Model):
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="attachments"
    )
    comment = models.ForeignKey(
        TicketComment,
        verbose_name=_("comment"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    STATUS = "status", _("Status changed")
    UPDATED = "updated", _("Updated")
    ASSIGNED = "assigned", _("Assigned")
    HANDOFF = "handoff", _("Handed to another department")
    WATCHER = "watcher", _("Watchers changed")
    LINKED = "linked", _("Call or interaction linked")
    SLA_WARNING = "sla_warning", _("SLA deadline near")
    SLA_BREACHED = "sla_breached", _("SLA deadline missed")


class TicketEvent(models.Model):
    """The ticket's history as the agents read it. `key` makes an automatic event happen once."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    data = models.JSONField(_("detail"), default=dict, blank=True)
    key = models.CharField(max_length=100, blank=True, editable=False)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "key"], condition=~Q(key=""), name="tickets_event_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"
