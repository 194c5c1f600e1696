"""Routing configuration in the admin: skills, tiers, calendars, queues with their required skills
and overflow rules, agents' skills; read-only views of presence, the line, offers and state changes;
the Erlang C staffing calculator. Impossible setups are rejected with a clear message
(validation.py).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from guardian.shortcuts import get_users_with_perms

from apps.accounts.models import User
from apps.rbac import roles
from apps.routing import erlang, selectors, services
from apps.routing.models import (
    AgentPresence,
    AgentRoutingProfile,
    AgentSkill,
    AgentStateChange,
    BusinessHours,
    BusinessHoursInterval,
    CustomerTier,
    Holiday,
    Offer,
    OverflowRule,
    Queue,
    QueueSkill,
    Skill,
    WaitingCall,
)
from apps.routing.validation import (
    RuleSpec,
    validate_overflow_rules,
    validate_queue_settings,
    validate_queue_staffable,
)


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "language_code", "agent_count")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    @admin.display(description=gettext_lazy("agents"))
    def agent_count(self, skill: Skill) -> int:
        return skill.agent_skills.count()


@admin.register(CustomerTier)
class CustomerTierAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "priority_bonus", "required_skill", "required_level")
    autocomplete_fields = ("required_skill",)


class BusinessHoursIntervalInline(admin.TabularInline):
    model = BusinessHoursInterval
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone")
    search_fields = ("name",)
    inlines = [BusinessHoursIntervalInline, HolidayInline]


class QueueSkillFormSet(BaseInlineFormSet):
    """Reject an active queue that no agent could ever answer."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors) or not self.instance.is_active:
            return
        requirements: dict[int, int] = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("skill"):
                continue
            requirements[data["skill"].pk] = data["min_level"]
        team_ids = getattr(self.instance, "_routing_team_ids", None)
        if team_ids is None:
            team_ids = (
                list(self.instance.teams.values_list("pk", flat=True)) if (self.instance.pk) else []
            )
        message = validate_queue_staffable(requirements=requirements, team_ids=team_ids)
        if message:
            raise ValidationError(message)


class QueueSkillInline(admin.TabularInline):
    model = QueueSkill
    formset = QueueSkillFormSet
    autocomplete_fields = ("skill",)
    extra = 0


class OverflowRuleFormSet(BaseInlineFormSet):
    """Reject overflow rules out of order or that could never apply."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        rules = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            backup_queue = data.get("backup_queue")
            rules.append(
                RuleSpec(
                    position=data["position"],
                    after_seconds=data["after_seconds"],
                    action=data["action"],
                    relax_by=data.get("relax_by") or 0,
                    backup_team_count=len(data.get("backup_teams") or []),
                    backup_queue_id=backup_queue.pk if backup_queue is not None else None,
                    target=data.get("target") or "",
                )
            )
        messages_found = validate_overflow_rules(
            rules, queue_id=self.instance.pk, max_wait_seconds=self.instance.max_wait_seconds
        )
        if messages_found:
            raise ValidationError(messages_found)


class OverflowRuleInline(admin.StackedInline):
    model = OverflowRule
    formset = OverflowRuleFormSet
    fk_name = "queue"
    filter_horizontal = ("backup_teams",)
    extra = 0


class QueueAdminForm(forms.ModelForm):
    reviewers = forms.ModelMultipleChoiceField(
        label=gettext_lazy("QA reviewers"),
        queryset=User.objects.none(),
        required=False,
        widget=FilteredSelectMultiple(gettext_lazy("QA reviewers"), is_stacked=False),
        help_text=gettext_lazy("QA analysts who review this queue's calls."),
    )

    class Meta:
        model = Queue
        fields = [
            "name",
            "slug",
            "is_active",
            "teams",
            "priority",
            "strategy",
            "sticky_window_seconds",
            "ring_timeout_seconds",
            "wrap_up_seconds",
            "service_level_percent",
            "service_level_seconds",
            "max_wait_seconds",
            "max_size",
            "short_abandon_seconds",
            "default_handle_seconds",
            "callback_max_attempts",
            "business_hours",
            "music_on_hold",
            "announce_interval_seconds",
            "announcement",
            "closed_action",
            "closed_target",
            "full_action",
            "full_target",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].queryset = User.objects.filter(
            groups__name=roles.QA_ANALYST, is_active=True
        ).order_by("username")
        if self.instance.pk:
            self.fields["reviewers"].initial = list(
                get_users_with_perms(self.instance, only_with_perms_in=["review_queue"])
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        errors = validate_queue_settings(
            strategy=cleaned.get("strategy", ""),
            sticky_window_seconds=cleaned.get("sticky_window_seconds") or 0,
            max_wait_seconds=cleaned.get("max_wait_seconds") or 0,
            ring_timeout_seconds=cleaned.get("ring_timeout_seconds") or 0,
            announce_interval_seconds=cleaned.get("announce_interval_seconds") or 0,
            announcement=cleaned.get("announcement") or "",
            closed_action=cleaned.get("closed_action", ""),
            closed_target=cleaned.get("closed_target") or "",
            full_action=cleaned.get("full_action", ""),
            full_target=cleaned.get("full_target") or "",
        )
        for field, message in errors.items():
            self.add_error(field, message)
        # The required-skills inline checks staffing against the teams chosen here.
        self.instance._routing_team_ids = [team.pk for team in cleaned.get("teams") or []]
        return cleaned


class ErlangCForm(forms.Form):
    calls_per_hour = forms.FloatField(label=gettext_lazy("calls per hour"), min_value=0)
    aht_seconds = forms.FloatField(label=gettext_lazy("average handle time (s)"), min_value=1)
    target_percent = forms.FloatField(
        label=gettext_lazy("service level target (%)"), min_value=1, max_value=99
    )
    target_seconds = forms.FloatField(label=gettext_lazy("answered within (s)"), min_value=0)


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    form = QueueAdminForm
    list_display = (
        "name",
        "slug",
        "is_active",
        "strategy",
        "priority",
        "service_level",
        "waiting_now",
    )
    list_filter = ("is_active", "strategy", "teams")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("teams",)
    inlines = [QueueSkillInline, OverflowRuleInline]
    fieldsets = (
        (None, {"fields": ("name", "slug", "is_active", "teams", "reviewers")}),
        (
            gettext_lazy("Decisions"),
            {
                "fields": (
                    "priority",
                    "strategy",
                    "sticky_window_seconds",
                    "ring_timeout_seconds",
                    "wrap_up_seconds",
                )
            },
        ),
        (
            gettext_lazy("Service level and limits"),
            {
                "fields": (
                    "service_level_percent",
                    "service_level_seconds",
                    "max_wait_seconds",
                    "max_size",
                    "short_abandon_seconds",
                    "default_handle_seconds",
                    "callback_max_attempts",
                )
            },
        ),
        (
            gettext_lazy("Caller experience"),
            {
                "fields": (
                    "business_hours",
                    "music_on_hold",
                    "announce_interval_seconds",
                    "announcement",
                    "closed_action",
                    "closed_target",
                    "full_action",
                    "full_target",
                )
            },
        ),
    )

    @admin.display(description=gettext_lazy("service level"))
    def service_level(self, queue: Queue) -> str:
        return f"{queue.service_level_percent}% / {queue.service_level_seconds} s"

    @admin.display(description=gettext_lazy("waiting"))
    def waiting_now(self, queue: Queue) -> int:
        return selectors.waiting_call_list_for_queue(queue=queue).count()

    def save_related(self, request: HttpRequest, form, formsets, change) -> None:  # type: ignore[no-untyped-def]
        super().save_related(request, form, formsets, change)
        services.queue_set_reviewers(
            queue=form.instance, reviewers=list(form.cleaned_data.get("reviewers") or [])
        )

    def get_urls(self):  # type: ignore[no-untyped-def]
        custom = [
            path(
                "erlang-c/",
                self.admin_site.admin_view(self.erlang_c_view),
                name="routing_queue_erlang_c",
            ),
            path(
                "<int:queue_id>/staffing/",
                self.admin_site.admin_view(self.staffing_view),
                name="routing_queue_staffing",
            ),
        ]
        return custom + super().get_urls()

    def _render_calculator(
        self,
        request: HttpRequest,
        form: ErlangCForm,
        *,
        queue: Queue | None,
        extra: dict[str, Any] | None = None,
    ) -> HttpResponse:
        result = None
        table: list[dict[str, Any]] = []
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = erlang.agents_required(**data)
            except ValueError as error:
                form.add_error(None, str(error))
            else:
                for agents in range(max(result.agents - 2, 1), result.agents + 4):
                    level = erlang.service_level(
                        traffic=result.traffic_erlangs,
                        agents=agents,
                        aht_seconds=data["aht_seconds"],
                        target_seconds=data["target_seconds"],
                    )
                    table.append(
                        {
                            "agents": agents,
                            "service_level": round(level * 100, 1),
                            "asa": round(
                                erlang.average_speed_of_answer(
                                    traffic=result.traffic_erlangs,
                                    agents=agents,
                                    aht_seconds=data["aht_seconds"],
                                ),
                                1,
                            ),
                            "chosen": agents == result.agents,
                        }
                    )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Staffing calculator (Erlang C)"),
            "opts": self.model._meta,
            "form": form,
            "queue": queue,
            "result": result,
            "table": table,
            **(extra or {}),
        }
        return TemplateResponse(request, "admin/routing/erlang_c.html", context)

    def erlang_c_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        form = ErlangCForm(request.GET or None)
        return self._render_calculator(request, form, queue=None)

    def staffing_view(self, request: HttpRequest, queue_id: int) -> HttpResponse:
        queue = get_object_or_404(Queue, pk=queue_id)
        if not self.has_view_permission(request, queue):
            return HttpResponse(status=403)
        measured = {
            "calls_per_hour": selectors.queue_arrivals_per_hour(queue=queue),
            "aht_seconds": round(selectors.queue_average_handle_seconds(queue), 1),
            "target_percent": queue.service_level_percent,
            "target_seconds": queue.service_level_seconds,
        }
        form = ErlangCForm(request.GET or None, initial=measured)
        if not request.GET:
            form = ErlangCForm(measured)
        return self._render_calculator(
            request,
            form,
            queue=queue,
            extra={"agents_staffed_now": selectors.queue_staffed_agents(queue)},
        )


class AgentSkillInline(admin.TabularInline):
    model = AgentSkill
    fk_name = "agent"
    autocomplete_fields = ("skill",)
    extra = 0


@admin.register(AgentRoutingProfile)
class AgentRoutingProfileAdmin(admin.ModelAdmin):
    list_display = ("extension", "user", "team", "skill_list", "is_active")
    list_filter = ("team", "is_active", "routing_skills__skill")
    search_fields = ("extension", "user__username", "user__display_name")
    fields = ("extension", "user", "team")
    readonly_fields = ("extension", "user", "team")
    inlines = [AgentSkillInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # agents are created in Accounts

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("skills"))
    def skill_list(self, agent: AgentRoutingProfile) -> str:
        return ", ".join(
            f"{row.skill.slug}:{row.level}"
            for row in agent.routing_skills.select_related("skill").order_by("skill__slug")
        )

    def save_related(self, request: HttpRequest, form, formsets, change) -> None:  # type: ignore[no-untyped-def]
        super().save_related(request, form, formsets, change)
        # The router reads skills from the presence row: refresh it in the same transaction.
        services.agent_routing_profile_refresh(agent=form.instance)


@admin.register(AgentSkill)
class AgentSkillAdmin(admin.ModelAdmin):
    list_display = ("agent", "skill", "level")
    list_filter = ("skill", "level", "agent__team")
    search_fields = ("agent__extension", "agent__user__username", "skill__slug")
    autocomplete_fields = ("skill",)
    raw_id_fields = ("agent",)

    def save_model(self, request: HttpRequest, obj: AgentSkill, form, change) -> None:  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)
        services.agent_routing_profile_refresh(agent=obj.agent)

    def delete_model(self, request: HttpRequest, obj: AgentSkill) -> None:
        agent = obj.agent
        super().delete_model(request, obj)
        services.agent_routing_profile_refresh(agent=agent)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AgentSkill]) -> None:
        agents = {row.agent for row in queryset.select_related("agent")}
        super().delete_queryset(request, queryset)
        for agent in agents:
            services.agent_routing_profile_refresh(agent=agent)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Runtime rows are written by the router and services only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AgentPresence)
class AgentPresenceAdmin(ReadOnlyAdmin):
    list_display = (
        "agent",
        "state",
        "reason",
        "state_since",
        "idle_since",
        "calls_handled",
        "missed_calls",
    )
    list_filter = ("state", "reason", "agent__team")
    search_fields = ("agent__extension", "agent__user__username")
    exclude = ("skill_tokens",)
    actions = ["log_out"]

    @admin.action(description=gettext_lazy("Log the selected agents out"))
    def log_out(self, request: HttpRequest, queryset: QuerySet[AgentPresence]) -> None:
        done = 0
        for presence in queryset.select_related("agent"):
            services.agent_set_state(agent=presence.agent, state="offline", actor=request.user)
            done += 1
        self.message_user(
            request, _("%(count)d agents logged out.") % {"count": done}, messages.SUCCESS
        )


@admin.register(WaitingCall)
class WaitingCallAdmin(ReadOnlyAdmin):
    list_display = (
        "call_uuid",
        "queue",
        "state",
        "caller_number",
        "tier",
        "enqueued_at",
        "offered_agent",
        "outcome",
    )
    list_filter = ("state", "queue", "outcome", "is_callback")
    search_fields = ("call_uuid", "caller_number", "customer_ref")
    date_hierarchy = "enqueued_at"


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    list_display = ("waiting_call", "agent", "status", "created_at", "answered_at", "ended_at")
    list_filter = ("status",)
    date_hierarchy = "created_at"


@admin.register(AgentStateChange)
class AgentStateChangeAdmin(ReadOnlyAdmin):
    list_display = (
        "agent",
        "from_state",
        "to_state",
        "reason",
        "at",
        "previous_state_seconds",
        "actor",
    )
    list_filter = ("to_state", "reason", "agent__team")
    search_fields = ("agent__extension", "agent__user__username")
    date_hierarchy = "at"
