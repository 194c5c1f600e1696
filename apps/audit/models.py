"""The access log: sensitive reads (revealing a masked field, playing or downloading a recording,
bulk exports). Rows are append-only: the admin cannot edit them and the database refuses UPDATE and
DELETE (see the migration's trigger)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessLog(models.Model):
    class Action(models.TextChoices):
        REVEAL_FIELD = "reveal_field", _("Revealed a masked field")
        PLAY_RECORDING = "play_recording", _("Played a recording")
        DOWNLOAD_RECORDING = "download_recording", _("Downloaded a recording")
        BULK_EXPORT = "bulk_export", _("Bulk export")
        EAVESDROP = "eavesdrop", _("Listened to a live call")

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
    )
    actor_username = models.CharField(_("actor username"), max_length=150)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices, db_index=True)
    target_type = models.CharField(_("target type"), max_length=100)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    target_repr = models.CharField(_("target"), max_length=200, blank=True)
    field = models.CharField(_("field"), max_length=100, blank=True)
    remote_addr = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action}"
