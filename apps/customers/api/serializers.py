from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.customers.models import (
    Channel,
    Customer,
    CustomerIdentity,
    CustomerMerge,
    Direction,
    IdentityKind,
    Interaction,
    VipTier,
)
from apps.customers.normalize import identity_normalize
from apps.customers.selectors import IDENTITY_LIST


class IdentitySerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerIdentity
        fields = ["id", "kind", "value", "label", "is_primary"]
        read_only_fields = fields


class IdentityInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IdentityKind.choices)
    value = serializers.CharField(max_length=255)
    label = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    is_primary = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            attrs["value"] = identity_normalize(attrs["kind"], attrs["value"])
        except ValueError as exc:
            raise serializers.ValidationError({"value": [str(exc)]}) from exc
        return attrs


class CustomerSerializer(serializers.ModelSerializer):
    """A customer as the API shows it: sensitive fields masked, identities listed.

    This is the hot path of the CRM lookup and the screen-pop, so `to_representation` builds the
    dict directly: DRF would otherwise rebuild every field from the model on each request, which
    costs more than the lookup query. The declared fields still describe it in the OpenAPI schema
    (a test checks both name the same keys).
    """

    phones = serializers.ListField(child=serializers.CharField(), read_only=True)
    emails = serializers.ListField(child=serializers.CharField(), read_only=True)
    identities = IdentitySerializer(many=True, read_only=True)
    national_id_masked = serializers.CharField(read_only=True)
    bank_card_masked = serializers.CharField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "company",
            "vip_tier",
            "language",
            "timezone",
            "tags",
            "consent_recording",
            "consent_marketing",
            "national_id_masked",
            "bank_card_masked",
            "notes",
            "external_id",
            "phones",
            "emails",
            "identities",
            "merged_into",
            "merged_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, customer: Customer) -> dict[str, Any]:
        # Loaded with the customer by the lookup, else prefetched (the list) or queried.
        identities = getattr(customer, IDENTITY_LIST, None)
        if identities is None:
            identities = list(customer.identities.all())
        return {
            "id": customer.pk,
            "name": customer.name,
            "company": customer.company,
            "vip_tier": customer.vip_tier,
            "language": customer.language,
            "timezone": customer.timezone,
            "tags": list(customer.tags),
            "consent_recording": customer.consent_recording,
            "consent_marketing": customer.consent_marketing,
            "national_id_masked": customer.national_id_masked,
            "bank_card_masked": customer.bank_card_masked,
            "notes": customer.notes,
            "external_id": customer.external_id,
            "phones": [i.value for i in identities if i.kind == IdentityKind.PHONE],
            "emails": [i.value for i in identities if i.kind == IdentityKind.EMAIL],
            "identities": [
                {
                    "id": i.pk,
                    "kind": i.kind,
                    "value": i.value,
                    "label": i.label,
                    "is_primary": i.is_primary,
                }
                for i in identities
            ],
            "merged_into": customer.merged_into_id,
            "merged_at": _iso(customer.merged_at),
            "created_at": _iso(customer.created_at),
            "updated_at": _iso(customer.updated_at),
        }


def _iso(value: dt.datetime | None) -> str | None:
    return serializers.DateTimeField().to_representation(value) if value else None


def _validate_timezone(value: str) -> str:
    if value and value not in zoneinfo.available_timezones():
        raise serializers.ValidationError(_("Unknown time zone."))
    return value


class CustomerUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True)
    vip_tier = serializers.ChoiceField(choices=VipTier.choices, required=False)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False, allow_blank=True)
    timezone = serializers.CharField(
        max_length=64, required=False, allow_blank=True, validators=[_validate_timezone]
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=50
    )
    consent_recording = serializers.BooleanField(required=False)
    consent_marketing = serializers.BooleanField(required=False)
    national_id = serializers.CharField(
        max_length=64, required=False, allow_blank=True, write_only=True
    )
    bank_card = serializers.CharField(
        max_length=64, required=False, allow_blank=True, write_only=True
    )
    notes = serializers.CharField(required=False, allow_blank=True)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)


class CustomerCreateSerializer(CustomerUpdateSerializer):
    phones = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    emails = serializers.ListField(child=serializers.CharField(max_length=254), required=False)
    identities = IdentityInputSerializer(many=True, required=False)

    def _normalize_all(self, kind: str, values: list[str]) -> list[str]:
        normalized, errors = [], {}
        for position, raw in enumerate(values):
            try:
                normalized.append(identity_normalize(kind, raw))
            except ValueError as exc:
                errors[position] = [str(exc)]
        if errors:
            raise serializers.ValidationError(errors)
        return normalized

    def validate_phones(self, values: list[str]) -> list[str]:
        return self._normalize_all(IdentityKind.PHONE, values)

    def validate_emails(self, values: list[str]) -> list[str]:
        return self._normalize_all(IdentityKind.EMAIL, values)


class MergeSerializer(serializers.Serializer):
    duplicate = serializers.IntegerField(help_text=_("Id of the customer merged into this one."))


class MergeResultSerializer(serializers.ModelSerializer):
    survivor = CustomerSerializer(read_only=True)

    class Meta:
        model = CustomerMerge
        fields = ["id", "survivor", "merged", "created_at", "moved"]


class RevealSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=[(f, f) for f in Customer.SENSITIVE_FIELDS])


class RevealResultSerializer(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.CharField()


class InteractionSerializer(serializers.ModelSerializer):
    agent = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Interaction
        fields = [
            "id",
            "customer",
            "channel",
            "direction",
            "occurred_at",
            "summary",
            "call_uuid",
            "refs",
            "agent",
            "created_at",
        ]
        read_only_fields = fields


class InteractionCreateSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    direction = serializers.ChoiceField(choices=Direction.choices, default=Direction.INBOUND)
    occurred_at = serializers.DateTimeField(required=False)
    summary = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    call_uuid = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    refs = serializers.DictField(required=False, default=dict)


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField()
    skip_invalid = serializers.BooleanField(required=False, default=False)
    dry_run = serializers.BooleanField(required=False, default=False)


class ImportIssueSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    field = serializers.CharField()
    reason = serializers.CharField()


class ImportReportSerializer(serializers.Serializer):
    total_rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    skipped = serializers.IntegerField()
    committed = serializers.BooleanField()
    dry_run = serializers.BooleanField()
    errors = ImportIssueSerializer(many=True)
