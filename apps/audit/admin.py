from django.contrib import admin
from django.http import HttpRequest

from apps.audit.models import AccessLog


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Read-only: the access log is evidence, nobody edits it."""

    list_display = ("created_at", "actor_username", "action", "target_type", "target_id", "field")
    list_filter = ("action", "target_type", "created_at")
    search_fields = ("actor_username", "target_id", "target_repr", "remote_addr")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
