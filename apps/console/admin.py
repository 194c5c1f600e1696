from django.contrib import admin

from apps.console.models import DispositionCode, Notification, ScheduledCallback, WrapUp


@admin.register(DispositionCode)
class DispositionCodeAdmin(admin.ModelAdmin):
    list_display = ("label", "code", "queue", "position", "requires_notes", "is_active")
    list_filter = ("is_active", "queue")
    search_fields = ("label", "code")
    list_editable = ("position", "is_active")


@admin.register(WrapUp)
class WrapUpAdmin(admin.ModelAdmin):
    list_display = ("call_uuid", "agent", "disposition", "ticket_reference", "created_at")
    list_filter = ("disposition",)
    search_fields = ("call_uuid", "notes", "ticket_reference")
    raw_id_fields = ("call", "agent", "callback", "submitted_by")
    readonly_fields = ("created_at", "updated_at")


@admin.register(ScheduledCallback)
class ScheduledCallbackAdmin(admin.ModelAdmin):
    list_display = ("number", "agent", "due_at", "status", "queue_slug")
    list_filter = ("status",)
    search_fields = ("number", "notes")
    raw_id_fields = ("agent", "call", "created_by")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "message", "created_at", "read_at")
    list_filter = ("kind",)
    search_fields = ("message",)
    raw_id_fields = ("user",)
