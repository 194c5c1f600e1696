from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError
from apps.tickets import services, workflow
from apps.tickets.models import (
    Department,
    SLAPolicy,
    SLATarget,
    Ticket,
    TicketAttachment,
    TicketCall,
    TicketCategory,
    TicketComment,
    TicketEvent,
)


class SLATargetInline(admin.TabularInline):
    model = SLATarget
    extra = 0


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "calendar", "warning_percent", "pause_when_pending", "is_default")
    list_filter = ("is_default", "calendar")
    search_fields = ("name",)
    inlines = [SLATargetInline]
    # The calendar is routing's BusinessHours, edited in its own admin.
    autocomplete_fields = ("calendar",)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "default_team", "sla_policy", "is_active")
    list_filter = ("is_active", "sla_policy")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(TicketCategory)
class TicketCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "department", "is_active")
    list_filter = ("is_active", "department")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


class TicketCommentInline(admin.StackedInline):
    model = TicketComment
    fields = ("author", "author_kind", "visibility", "body", "created_at")
    readonly_fields = ("author", "author_kind", "visibility", "body", "created_at")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TicketCallInline(admin.TabularInline):
    model = TicketCall
    fields = ("call_uuid", "linked_at", "linked_by")
    readonly_fields = ("linked_at", "linked_by")
    extra = 0


class TicketAttachmentInline(admin.TabularInline):
    model = TicketAttachment
    fields = ("filename", "content_type", "size", "uploaded_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    fields = ("created_at", "kind", "actor", "data")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Tickets created here go through the same service as the API (SLA, timeline, history);
    status changes use the actions, so the lifecycle rules hold in the admin too."""

    list_display = (
        "reference",
        "subject",
        "status",
        "priority",
        "customer",
        "department",
        "team",
        "assignee",
        "escalation_level",
        "resolution_due_at",
        "created_at",
    )
    list_filter = (
        "status",
        "priority",
        "channel",
        "department",
        "team",
        "category",
        "escalation_level",
        "created_at",
    )
    search_fields = ("=id", "subject", "customer__name", "=calls__call_uuid")
    raw_id_fields = ("customer", "assignee", "created_by", "linked_interactions")
    filter_horizontal = ("watchers",)
    list_select_related = ("customer", "department", "team", "assignee")
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [TicketCallInline, TicketCommentInline, TicketAttachmentInline, TicketEventInline]
    readonly_fields = (
        "status",
        "pending_reason",
        "first_responded_at",
        "resolved_at",
        "closed_at",
        "reopened_count",
        "escalation_level",
        "sla_policy",
        "first_response_due_at",
        "resolution_due_at",
        "sla_paused_at",
        "created_by",
    )
    fields = (
        "subject",
        "description",
        "customer",
        "priority",
        "category",
        "channel",
        "department",
        "team",
        "assignee",
        "watchers",
        "linked_interactions",
        *readonly_fields,
    )
    actions = ["resolve_tickets", "close_tickets", "reopen_tickets"]

    @admin.display(description=_("reference"), ordering="id")
    def reference(self, ticket: Ticket) -> str:
        return ticket.reference

    def get_readonly_fields(self, request: HttpRequest, obj: Ticket | None = None) -> tuple:
        return (*self.readonly_fields, "channel") if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Ticket, form: Any, change: bool) -> None:
        # Both paths go through the services: SLA clocks, history and timeline stay right.
        if not change:
            ticket = services.ticket_create(
                actor=request.user,
                subject=obj.subject,
                description=obj.description,
                customer=obj.customer,
                priority=obj.priority,
                category=obj.category,
                channel=obj.channel,
                department=obj.department,
                team=obj.team,
                assignee=obj.assignee,
            )
            obj.pk = ticket.pk
            obj.refresh_from_db()
            return
        changed = set(form.changed_data)
        ticket = Ticket.objects.get(pk=obj.pk)
        try:
            updates = {
                name: getattr(obj, name)
                for name in ("subject", "description", "priority", "category", "customer")
                if name in changed
            }
            if updates:
                services.ticket_update(actor=request.user, ticket=ticket, **updates)
            if "department" in changed and obj.department is not None:
                services.ticket_handoff(
                    actor=request.user,
                    ticket=ticket,
                    department=obj.department,
                    team=obj.team if "team" in changed else None,
                )
            elif changed & {"team", "assignee"}:
                services.ticket_assign(
                    actor=request.user,
                    ticket=ticket,
                    **{
                        name: getattr(obj, name) for name in ("team", "assignee") if name in changed
                    },
                )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def _apply(self, request: HttpRequest, queryset: QuerySet, action: str) -> None:
        done, refused = 0, 0
        for ticket in queryset:
            try:
                services.ticket_transition(actor=request.user, ticket=ticket, action=action)
                done += 1
            except DomainError:
                refused += 1
        self.message_user(
            request,
            _("%(done)s tickets changed, %(refused)s refused by the lifecycle rules.")
            % {"done": done, "refused": refused},
            messages.SUCCESS if not refused else messages.WARNING,
        )

    @admin.action(description=_("Resolve the selected tickets"), permissions=["change"])
    def resolve_tickets(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._apply(request, queryset, workflow.Action.RESOLVE)

    @admin.action(description=_("Close the selected tickets"), permissions=["change"])
    def close_tickets(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._apply(request, queryset, workflow.Action.CLOSE)

    @admin.action(description=_("Reopen the selected tickets"), permissions=["change"])
    def reopen_tickets(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._apply(request, queryset, workflow.Action.REOPEN)
