"""Users, teams and agents. Roles are groups (apps.rbac); routing adds skills to agents."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.crypto import EncryptedTextField
from apps.core.models import TimeStampedModel


class User(AbstractUser):
    """Anyone who logs in: agents, supervisors, QA analysts, administrators, API clients."""

    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")
    is_service_account = models.BooleanField(
        _("service account"),
        default=False,
        help_text=_("An API client (e.g. a CRM) that authenticates with a token, never a browser."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class Team(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    supervisors = models.ManyToManyField(
        User, verbose_name=_("supervisors"), related_name="supervised_teams", blank=True
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        permissions = [("supervise_team", _("Supervise the team's agents and queues"))]

    def __str__(self) -> str:
        return self.name


def new_sip_password() -> str:
    return secrets.token_urlsafe(18)


extension_validator = RegexValidator(r"^[0-9]{3,8}$", _("An extension is 3 to 8 digits."))


class Agent(TimeStampedModel):
    """An agent's telephony identity: their SIP extension and how they take calls."""

    class Endpoint(models.TextChoices):
        WEBRTC = "webrtc", _("Browser softphone (WebRTC)")
        SIP = "sip", _("Desk or softphone SIP endpoint")

    user = models.OneToOneField(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="agent"
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        related_name="agents",
        null=True,
        blank=True,
    )
    extension = models.CharField(
        _("extension"), max_length=8, unique=True, validators=[extension_validator]
    )
    sip_password = EncryptedTextField(_("SIP password"), default=new_sip_password)
    endpoint = models.CharField(
        _("endpoint"), max_length=10, choices=Endpoint.choices, default=Endpoint.WEBRTC
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["extension"]
        permissions = [("export_agents", _("Export agent lists"))]

    def __str__(self) -> str:
        return f"{self.extension} {self.user}"
