"""Customers, their identities on every channel, and their interaction timeline."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.crypto import EncryptedTextField, mask_value
from apps.core.models import TimeStampedModel


class VipTier(models.TextChoices):
    STANDARD = "standard", _("Standard")
    SILVER = "silver", _("Silver")
    GOLD = "gold", _("Gold")
    VIP = "vip", _("VIP")


# Higher rank wins when two profiles are merged.
VIP_TIER_RANK = {tier: rank for rank, tier in enumerate(VipTier.values)}


class Customer(TimeStampedModel):
    """One person or organisation we talk to, whatever the channel.

    A merged duplicate stays as a tombstone: `merged_into` points to the surviving customer and it
    owns nothing any more (identities, interactions and tickets moved to the survivor).
    """

    SENSITIVE_FIELDS = ("national_id", "bank_card")

    name = models.CharField(_("name"), max_length=200, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    vip_tier = models.CharField(
        _("VIP tier"), max_length=16, choices=VipTier.choices, default=VipTier.STANDARD
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )
    timezone = models.CharField(_("time zone"), max_length=64, blank=True)
    tags = ArrayField(
        models.CharField(max_length=50), verbose_name=_("tags"), default=list, blank=True
    )
    consent_recording = models.BooleanField(_("consents to call recording"), default=True)
    consent_marketing = models.BooleanField(_("consents to marketing"), default=False)
    national_id = EncryptedTextField(_("national ID number"), blank=True)
    bank_card = EncryptedTextField(_("bank card number"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    external_id = models.CharField(
        _("external id"),
        max_length=100,
        blank=True,
        help_text=_("The customer's id in an external CRM."),
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        related_name="merged_duplicates",
        null=True,
        blank=True,
    )
    merged_at = models.DateTimeField(_("merged at"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-id"]
        permissions = [
            ("reveal_sensitive", _("Reveal a customer's masked sensitive fields")),
            ("merge_customers", _("Merge duplicate customers")),
            ("import_customers", _("Import customers from CSV")),
        ]
        indexes = [GinIndex(fields=["tags"], name="customers_tags_gin")]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="customers_external_id_unique",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("id")), name="customers_not_merged_into_self"
            ),
        ]

    def __str__(self) -> str:
        return self.name or _("Customer #%(id)s") % {"id": self.pk}

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None

    @property
    def national_id_masked(self) -> str:
        return mask_value(self.national_id)

    @property
    def bank_card_masked(self) -> str:
        return mask_value(self.bank_card)


class IdentityKind(models.TextChoices):
    PHONE = "phone", _("Phone number")
    EMAIL = "email", _("E-mail address")
    WECHAT = "wechat", _("WeChat openid")
    WHATSAPP = "whatsapp", _("WhatsApp id")
    WEB = "web", _("Web visitor id")


class CustomerIdentity(models.Model):
    """A way to reach or recognise a customer; (kind, value) belongs to at most one customer."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="identities"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=IdentityKind.choices)
    value = models.CharField(
        _("value"),
        max_length=255,
        help_text=_("Normalised: phone numbers in E.164, e-mail addresses in lower case."),
    )
    label = models.CharField(
        _("label"), max_length=50, blank=True, help_text=_("e.g. mobile, office, home")
    )
    is_primary = models.BooleanField(_("primary"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer identity")
        verbose_name_plural = _("customer identities")
        ordering = ["kind", "-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="customers_identity_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Channel(models.TextChoices):
    CALL = "call", _("Call")
    CHAT = "chat", _("Chat")
    EMAIL = "email", _("E-mail")
    TICKET = "ticket", _("Ticket")
    NOTE = "note", _("Note")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")
    INTERNAL = "internal", _("Internal")


class Interaction(models.Model):
    """One contact with the customer on any channel, for the timeline and the screen-pop.

    `refs` keeps references to other apps' objects by value (call uuid, ticket id) so the timeline
    does not depend on those apps' tables; `call_uuid` is also a column so a call is recorded once.
    """

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="interactions",
        db_index=False,  # the (customer, -occurred_at) index below serves every customer filter
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    direction = models.CharField(
        _("direction"), max_length=16, choices=Direction.choices, default=Direction.INBOUND
    )
    occurred_at = models.DateTimeField(_("occurred at"))
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    call_uuid = models.CharField(_("call uuid"), max_length=64, blank=True)
    refs = models.JSONField(_("references"), default=dict, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at", "-id"], name="customers_timeline_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["call_uuid"],
                condition=Q(channel="call") & ~Q(call_uuid=""),
                name="customers_one_interaction_per_call",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


class CustomerMerge(models.Model):
    """The record of one merge: who merged which duplicate into which survivor, and what moved."""

    survivor = models.ForeignKey(
        Customer, verbose_name=_("survivor"), on_delete=models.PROTECT, related_name="+"
    )
    merged = models.ForeignKey(
        Customer, verbose_name=_("merged duplicate"), on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
    )
    created_at = models.DateTimeField(_("merged at"), auto_now_add=True)
    moved = models.JSONField(
        _("moved rows"),
        default=dict,
        help_text=_("Ids of the rows moved to the survivor, by model."),
    )
    merged_profile = models.JSONField(
        _("duplicate's profile"),
        default=dict,
        help_text=_("The duplicate's profile before the merge (sensitive fields masked)."),
    )

    class Meta:
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.merged_id} -> #{self.survivor_id}"
