from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.models import Team, User
from apps.customers.models import Customer, Interaction
from apps.tickets import sla, workflow
from apps.tickets.models import (
    Department,
    Origin,
    PendingReason,
    Priority,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketComment,
    TicketEvent,
    Visibility,
)


class SLASerializer(serializers.Serializer):
    """The SLA countdown. remaining_seconds count business time and go negative once breached."""

    policy = serializers.CharField(allow_null=True)
    state = serializers.ChoiceField(choices=sla.SLAState.choices)
    remaining_seconds = serializers.IntegerField(allow_null=True)
    ticking = serializers.BooleanField(help_text=_("The business calendar is open right now."))
    paused = serializers.BooleanField()
    first_response_due = serializers.DateTimeField(allow_null=True)
    first_response_state = serializers.ChoiceField(choices=sla.SLAState.choices)
    first_response_remaining_seconds = serializers.IntegerField(allow_null=True)
    resolution_due = serializers.DateTimeField(allow_null=True)
    resolution_state = serializers.ChoiceField(choices=sla.SLAState.choices)
    resolution_remaining_seconds = serializers.IntegerField(allow_null=True)


class TicketSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    customer_name = serializers.CharField(source="customer.name", default=None, read_only=True)
    assignee_username = serializers.CharField(
        source="assignee.username", default=None, read_only=True
    )
    watchers = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    calls = serializers.SlugRelatedField(many=True, read_only=True, slug_field="call_uuid")
    linked_interactions = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    sla = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "id",
            "reference",
            "subject",
            "description",
            "status",
            "pending_reason",
            "priority",
            "category",
            "channel",
            "customer",
            "customer_name",
            "department",
            "team",
            "assignee",
            "assignee_username",
            "created_by",
            "watchers",
            "calls",
            "linked_interactions",
            "first_responded_at",
            "resolved_at",
            "closed_at",
            "reopened_count",
            "escalation_level",
            "sla",
            "allowed_actions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(SLASerializer)
    def get_sla(self, ticket: Ticket) -> dict[str, Any]:
        now = self.context.get("now") or timezone.now()
        return SLASerializer(sla.snapshot(ticket, now=now)).data

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(workflow.Action.choices))
    )
    def get_allowed_actions(self, ticket: Ticket) -> list[str]:
        return workflow.allowed_actions(ticket.status)


def _active_customers():  # type: ignore[no-untyped-def]
    return Customer.objects.filter(merged_into__isnull=True)


class TicketCreateSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    customer = serializers.PrimaryKeyRelatedField(
        queryset=_active_customers(), required=False, allow_null=True, default=None
    )
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    category = serializers.PrimaryKeyRelatedField(
        queryset=TicketCategory.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
    )
    channel = serializers.ChoiceField(choices=Origin.choices, required=False)
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True, default=None
    )
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
    )
    watchers = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), many=True, required=False, default=list
    )
    call_uuids = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, default=list
    )
    interactions = serializers.PrimaryKeyRelatedField(
        queryset=Interaction.objects.all(), many=True, required=False, default=list
    )


class TicketUpdateSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    category = serializers.PrimaryKeyRelatedField(
        queryset=TicketCategory.objects.filter(is_active=True), required=False, allow_null=True
    )
    customer = serializers.PrimaryKeyRelatedField(
        queryset=_active_customers(), required=False, allow_null=True
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A CRM sending a status here would otherwise see it silently ignored.
        for name in ("status", "assignee", "team", "department"):
            if name in self.initial_data:
                raise serializers.ValidationError(
                    {
                        name: [
                            _(
                                "Change this through its own endpoint (transitions, assignment, "
                                "handoff)."
                            )
                        ]
                    }
                )
        return attrs


class TransitionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=workflow.Action.choices)
    pending_reason = serializers.ChoiceField(
        choices=PendingReason.choices, required=False, allow_blank=True, default=""
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class AllowedActionsSerializer(serializers.Serializer):
    status = serializers.CharField()
    actions = serializers.ListField(child=serializers.CharField())


class AssignmentSerializer(serializers.Serializer):
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(_("Give a team, an assignee or both."))
        return attrs


class HandoffSerializer(serializers.Serializer):
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all())
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True, default=None
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TicketComment
        fields = ["id", "author", "author_kind", "visibility", "body", "created_at"]
        read_only_fields = fields


class CommentCreateSerializer(serializers.Serializer):
    body = serializers.CharField()
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.INTERNAL)
    from_customer = serializers.BooleanField(
        default=False, help_text=_("The customer wrote it (relayed by a CRM); always public.")
    )


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TicketAttachment
        fields = [
            "id",
            "filename",
            "content_type",
            "size",
            "sha256",
            "comment",
            "uploaded_by",
            "created_at",
        ]
        read_only_fields = fields


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    comment = serializers.PrimaryKeyRelatedField(
        queryset=TicketComment.objects.all(), required=False, allow_null=True, default=None
    )


class WatcherSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        help_text=_("Defaults to yourself."),
    )


class LinkSerializer(serializers.Serializer):
    call_uuid = serializers.CharField(max_length=64, required=False)
    interaction = serializers.PrimaryKeyRelatedField(
        queryset=Interaction.objects.all(), required=False
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("call_uuid" in attrs) == ("interaction" in attrs):
            raise serializers.ValidationError(_("Give either a call uuid or an interaction."))
        return attrs


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TicketEvent
        fields = ["id", "kind", "actor", "data", "created_at"]
        read_only_fields = fields


class SelfServiceLinkSerializer(serializers.Serializer):
    url = serializers.URLField()
    expires_at = serializers.DateTimeField()


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name", "slug", "default_team", "sla_policy", "is_active"]
        read_only_fields = fields


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = TicketCategory
        fields = ["id", "name", "slug", "department", "is_active"]
        read_only_fields = fields
