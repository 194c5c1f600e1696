"""What the agent console keeps: disposition codes per queue, wrap-ups, scheduled callbacks and
the notifications shown to a user.

Calls, customers and tickets belong to their apps; a wrap-up refers to a ticket by value (id and
reference) so the console does not depend on the tickets app's tables.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel


class DispositionCode(TimeStampedModel):
    """An outcome an agent picks at wrap-up; a code without a queue applies to every queue."""

    queue = models.ForeignKey(
        "routing.Queue",
        verbose_name=_("queue"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="disposition_codes",
        help_text=_("Empty: offered for calls of every queue."),
    )
    code = models.SlugField(_("code"), max_length=50)
    label = models.CharField(_("label"), max_length=100)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    requires_notes = models.BooleanField(_("requires notes"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("disposition code")
        verbose_name_plural = _("disposition codes")
        ordering = ["position", "label", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["queue", "code"],
                condition=Q(queue__isnull=False),
                name="console_disposition_queue_code",
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(queue__isnull=True),
                name="console_disposition_global_code",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class ScheduledCallback(TimeStampedModel):
    """A promise to call a customer back at a given time, owned by the agent who made it."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        DUE = "due", _("Due")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    agent = models.ForeignKey(
        "accounts.Agent",
        verbose_name=_("agent"),
        on_delete=models.CASCADE,
        related_name="scheduled_callbacks",
    )
    call = models.ForeignKey(
        "telephony.Call",
        verbose_name=_("call"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    customer_id = models.BigIntegerField(_("customer id"), null=True, blank=True)
    number = models.CharField(_("number to call"), max_length=64)
    due_at = models.DateTimeField(_("due at"))
    queue_slug = models.SlugField(_("queue"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED
    )
    notified_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("scheduled callback")
        verbose_name_plural = _("scheduled callbacks")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(
                fields=["agent", "due_at"],
                condition=Q(status__in=["scheduled", "due"]),
                name="console_callback_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} @ {self.due_at:%Y-%m-%d %H:%M}"


class WrapUp(TimeStampedModel):
    """How an agent closed their part of a call: outcome, notes, ticket and callback."""

    call = models.ForeignKey(
        "telephony.Call",
        verbose_name=_("call"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    call_uuid = models.CharField(_("call uuid"), max_length=64)
    agent = models.ForeignKey(
        "accounts.Agent", verbose_name=_("agent"), on_delete=models.CASCADE, related_name="+"
    )
    disposition = models.ForeignKey(
        DispositionCode,
        verbose_name=_("disposition"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="wrap_ups",
    )
    notes = models.TextField(_("notes"), blank=True)
    customer_id = models.BigIntegerField(_("customer id"), null=True, blank=True)
    ticket_id = models.BigIntegerField(_("ticket id"), null=True, blank=True)
    ticket_reference = models.CharField(_("ticket"), max_length=40, blank=True)
    callback = models.OneToOneField(
        ScheduledCallback,
        verbose_name=_("callback"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="wrap_up",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("wrap-up")
        verbose_name_plural = _("wrap-ups")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("use_console", _("Use the agent console: screen-pops and call controls")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["call_uuid", "agent"], name="console_wrapup_once"),
        ]

    def __str__(self) -> str:
        return f"{self.call_uuid} {self.disposition or ''}".strip()


class Notification(models.Model):
    """A message shown in a user's console until they read it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="console_notifications",
    )
    kind = models.SlugField(_("kind"), max_length=50)
    message = models.CharField(_("message"), max_length=500)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["user", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="console_notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return self.message
