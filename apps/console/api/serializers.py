"""Input validation of the console API; outputs are the selectors' plain dicts."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.console.services import CONTROL_ACTIONS, TARGET_KINDS


class AgentScopedSerializer(serializers.Serializer):
    agent = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=_("The agent whose console a supervisor is viewing (default: your own)."),
    )


class TransferTargetSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TARGET_KINDS)
    agent_id = serializers.IntegerField(required=False, allow_null=True)
    queue = serializers.SlugField(required=False, allow_blank=True, default="")
    number = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)


class ControlSerializer(AgentScopedSerializer):
    action = serializers.ChoiceField(choices=CONTROL_ACTIONS)
    request_id = serializers.CharField(
        max_length=64,
        help_text=_("Unique per click; a retry with the same id sends nothing twice."),
    )
    target = TransferTargetSerializer(required=False, allow_null=True)
    digits = serializers.CharField(required=False, allow_blank=True, default="", max_length=32)


class CommandSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()


class ControlResultSerializer(serializers.Serializer):
    call_id = serializers.IntegerField()
    action = serializers.CharField()
    request_id = serializers.CharField()
    commands = CommandSerializer(many=True)


class CallerCustomerSerializer(AgentScopedSerializer):
    mode = serializers.ChoiceField(choices=("create", "link"))
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    company = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    language = serializers.CharField(required=False, allow_blank=True, default="", max_length=10)
    customer_id = serializers.IntegerField(required=False, allow_null=True)

    def validate(self, attrs: dict) -> dict:
        if attrs["mode"] == "create" and not attrs["name"].strip():
            raise serializers.ValidationError({"name": [_("Enter the customer's name.")]})
        if attrs["mode"] == "link" and not attrs.get("customer_id"):
            raise serializers.ValidationError({"customer_id": [_("Choose a customer.")]})
        return attrs


class WrapUpTicketSerializer(serializers.Serializer):
    subject = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    priority = serializers.CharField(
        required=False, allow_blank=True, default="normal", max_length=10
    )
    ticket_id = serializers.IntegerField(required=False, allow_null=True)


class WrapUpCallbackSerializer(serializers.Serializer):
    due_at = serializers.DateTimeField()
    number = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class WrapUpSerializer(AgentScopedSerializer):
    disposition = serializers.IntegerField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    ticket = WrapUpTicketSerializer(required=False, allow_null=True)
    callback = WrapUpCallbackSerializer(required=False, allow_null=True)
    ready = serializers.BooleanField(required=False, default=True)


class StateSerializer(AgentScopedSerializer):
    state = serializers.CharField(max_length=20)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=20)


class ExtendSerializer(AgentScopedSerializer):
    seconds = serializers.IntegerField(min_value=1, max_value=600)


class NotificationReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), max_length=200)


class CallbackUpdateSerializer(AgentScopedSerializer):
    status = serializers.ChoiceField(choices=("done", "cancelled"))
