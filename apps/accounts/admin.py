from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Agent, Team, User
from apps.accounts.services import team_sync_supervision

admin.site.site_header = _("Contact Center administration")
admin.site.site_title = _("Contact Center administration")
admin.site.index_title = _("Configuration")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "username",
        "display_name",
        "email",
        "is_active",
        "is_service_account",
        "language",
        "last_login",
    )
    list_filter = ("is_active", "is_service_account", "groups", "language")
    search_fields = ("username", "display_name", "first_name", "last_name", "email")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            _("Preferences"),
            {"fields": ("display_name", "language", "timezone", "is_service_account")},
        ),
    )


class AgentInline(admin.TabularInline):
    model = Agent
    fields = ("user", "extension", "endpoint", "is_active")
    autocomplete_fields = ("user",)
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "agent_count")
    search_fields = ("name",)
    filter_horizontal = ("supervisors",)
    inlines = [AgentInline]

    @admin.display(description=_("agents"))
    def agent_count(self, team: Team) -> int:
        return team.agents.count()

    def save_related(self, request: HttpRequest, form, formsets, change) -> None:  # type: ignore[no-untyped-def]
        super().save_related(request, form, formsets, change)
        # Object permissions follow the supervisors chosen here.
        team_sync_supervision(team=form.instance)


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ("extension", "user", "team", "endpoint", "is_active")
    list_filter = ("team", "endpoint", "is_active")
    search_fields = ("extension", "user__username", "user__display_name")
    autocomplete_fields = ("user",)
    exclude = ("sip_password",)
