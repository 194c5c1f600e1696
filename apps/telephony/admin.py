"""Admin: FreeSWITCH nodes are configured here; calls, CDRs and commands are read-only records."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.telephony.models import (
    Call,
    CallCommand,
    CallLeg,
    CallRecording,
    Cdr,
    EndpointRegistration,
    FreeswitchNode,
)
from apps.telephony.node_status import node_status


class FreeswitchNodeForm(forms.ModelForm):
    """Never echo the ESL password; leave it blank to keep the stored one."""

    password = forms.CharField(
        label=_("ESL password"),
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text=_("Leave blank to keep the current password."),
    )

    class Meta:
        model = FreeswitchNode
        fields = ("name", "host", "port", "password", "enabled", "role")

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password", "")
        if not password and self.instance.pk is None:
            raise forms.ValidationError(_("A new node needs its ESL password."))
        return password

    def save(self, commit: bool = True) -> FreeswitchNode:
        node = super().save(commit=False)
        if not self.cleaned_data.get("password") and node.pk is not None:
            node.password = FreeswitchNode.objects.get(pk=node.pk).password
        if commit:
            node.save()
        return node


@admin.register(FreeswitchNode)
class FreeswitchNodeAdmin(admin.ModelAdmin):
    form = FreeswitchNodeForm
    list_display = ("name", "host", "port", "role", "enabled", "live_status")
    list_filter = ("enabled", "role")
    search_fields = ("name", "host")

    @admin.display(description=_("status"))
    def live_status(self, node: FreeswitchNode) -> str:
        return node_status(node.name)["status"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the event process and the telephony worker; nobody edits them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class CallLegInline(admin.TabularInline):
    model = CallLeg
    fields = (
        "uuid",
        "role",
        "endpoint",
        "agent",
        "state",
        "is_held",
        "answered_at",
        "ended_at",
        "hangup_cause",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = (
        "uuid",
        "node",
        "direction",
        "caller_number",
        "callee_number",
        "did",
        "state",
        "queue_slug",
        "started_at",
        "ended_at",
        "hangup_cause",
    )
    list_filter = ("node", "direction", "state", "queue_slug")
    search_fields = ("uuid", "caller_number", "callee_number", "did")
    date_hierarchy = "started_at"
    inlines = [CallLegInline]


@admin.register(Cdr)
class CdrAdmin(ReadOnlyAdmin):
    list_display = (
        "uuid",
        "node",
        "direction",
        "caller",
        "callee",
        "started_at",
        "billsec",
        "hangup_cause",
        "source",
    )
    list_filter = ("node", "direction", "hangup_cause", "source")
    search_fields = ("uuid", "caller", "callee")
    date_hierarchy = "started_at"


@admin.register(CallRecording)
class CallRecordingAdmin(ReadOnlyAdmin):
    list_display = ("path", "call", "started_at", "stopped_at", "duration_ms")
    search_fields = ("path",)


@admin.register(EndpointRegistration)
class EndpointRegistrationAdmin(ReadOnlyAdmin):
    list_display = (
        "username",
        "realm",
        "node",
        "agent",
        "is_registered",
        "network_ip",
        "changed_at",
        "expires_at",
    )
    list_filter = ("node", "is_registered")
    search_fields = ("username",)


@admin.register(CallCommand)
class CallCommandAdmin(ReadOnlyAdmin):
    list_display = (
        "kind",
        "status",
        "idempotency_key",
        "node",
        "call",
        "error_code",
        "requester",
        "created_at",
        "completed_at",
    )
    list_filter = ("kind", "status", "node", "error_code")
    search_fields = ("idempotency_key",)
