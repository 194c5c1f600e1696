"""Designing flows in the admin: flows, versions and their nodes, prompts, numbers, the flow
tester, and where callers give up. Business-hours nodes use routing's Business hours calendars."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.errors import DomainError
from apps.ivr import services
from apps.ivr.audio import AudioError, converter_name, tts_command
from apps.ivr.conf import ivr_setting
from apps.ivr.engine import live_versions_forget
from apps.ivr.models import (
    CallbackRequest,
    Flow,
    FlowNode,
    FlowVersion,
    InboundNumber,
    IvrPath,
    IvrStep,
    Prompt,
    PromptVariant,
    Voicemail,
)
from apps.ivr.selectors import ivr_abandon_points
from apps.ivr.tester import flow_test_run, parse_keys

NODE_HELP = gettext_lazy(
    "Configuration (JSON). Keys by kind — menu: prompt, options {key: node}, on_failure, "
    "invalid_prompt, timeout_prompt, timeout_ms, retries · play: prompt, next · collect: "
    "prompt, variable, min_length, max_length, pattern, next, on_failure, sensitive · "
    "lookup_customer: next_found, next_not_found · lookup_http: url, timeout_ms, assign "
    "{attribute: json.path}, next, on_failure · hours: schedule (the name of a business hours "
    "calendar), next_open, next_closed, next_holiday · language: prompt, options {key: "
    "language}, next · set: priority, skills, "
    "tier, next · queue: queue, prompt, priority, skills · callback: queue, prompt, next · "
    "voicemail: prompt, queue, max_seconds, next · transfer: number, prompt, on_failure · "
    "hangup: prompt, cause · speech: prompt, intents {name: {keywords, next}}, options, "
    "on_failure."
)


# ---------------------------------------------------------------- versions and nodes


class FlowNodeForm(forms.ModelForm):
    config = forms.JSONField(
        help_text=NODE_HELP, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )

    class Meta:
        model = FlowNode
        fields = ("key", "kind", "label", "config", "position")

    def clean_config(self) -> dict:
        config = self.cleaned_data["config"]
        if not isinstance(config, dict):
            raise ValidationError(_("The configuration is a JSON object."))
        return config


class FlowNodeInline(admin.TabularInline):
    model = FlowNode
    form = FlowNodeForm
    extra = 0

    def _editable(self, obj: FlowVersion | None) -> bool:
        return obj is None or obj.is_editable

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(FlowVersion)
class FlowVersionAdmin(admin.ModelAdmin):
    list_display = ("flow", "number", "status", "note", "published_at")
    list_filter = ("status", "flow")
    inlines = [FlowNodeInline]
    readonly_fields = (
        "number",
        "status",
        "published_at",
        "published_by",
        "restored_from",
        "problems",
    )
    change_form_template = "admin/ivr/flowversion/change_form.html"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("flow")
            if not obj.is_editable:
                fields += ["entry_node", "note"]
        return fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # drafts come from a flow ("new draft") or from restoring a version

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Published and retired versions never change (calls in progress may be running them).
        return (obj is None or obj.is_editable) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (obj is None or obj.is_editable) and super().has_delete_permission(request, obj)

    @admin.display(description=gettext_lazy("problems before publishing"))
    def problems(self, version: FlowVersion) -> str:
        if version.pk is None or not version.is_editable:
            return "—"
        report = services.flow_version_validate(version)
        if report.ok:
            return _("None: this version can be published.")
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{}</li>", ((message,) for message in report.messages())),
        )

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:version_id>/publish/", view(self.publish_view), name="ivr_flowversion_publish"
            ),
            path(
                "<int:version_id>/restore/", view(self.restore_view), name="ivr_flowversion_restore"
            ),
            *super().get_urls(),
        ]

    def _post_only(self, request: HttpRequest) -> None:
        if request.method != "POST":
            raise PermissionDenied
        if not request.user.has_perm("ivr.publish_flow"):
            raise PermissionDenied

    def publish_view(self, request: HttpRequest, version_id: int) -> HttpResponse:
        self._post_only(request)
        version = get_object_or_404(FlowVersion, pk=version_id)
        try:
            services.flow_version_publish(actor=request.user, version=version)
        except services.PublishRefused as exc:
            for problem in exc.problems:
                self.message_user(request, problem, messages.ERROR)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(
                request, _("Version %(number)s is live.") % {"number": version.number}
            )
        return HttpResponseRedirect(reverse("admin:ivr_flowversion_change", args=[version_id]))

    def restore_view(self, request: HttpRequest, version_id: int) -> HttpResponse:
        self._post_only(request)
        version = get_object_or_404(FlowVersion, pk=version_id)
        draft = services.flow_version_restore(actor=request.user, version=version)
        self.message_user(
            request,
            _("Draft %(number)s holds a copy of version %(old)s.")
            % {"number": draft.number, "old": version.number},
        )
        return HttpResponseRedirect(reverse("admin:ivr_flowversion_change", args=[draft.pk]))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        extra["can_publish"] = request.user.has_perm("ivr.publish_flow")
        extra["can_test"] = request.user.has_perm("ivr.test_flow")
        return super().change_view(request, object_id, form_url, extra)


class FlowVersionInline(admin.TabularInline):
    model = FlowVersion
    fields = ("number", "status", "note", "published_at", "open_link")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("open"))
    def open_link(self, version: FlowVersion) -> str:
        url = reverse("admin:ivr_flowversion_change", args=[version.pk])
        return format_html('<a href="{}">{}</a>', url, _("nodes"))


class FlowForm(forms.ModelForm):
    class Meta:
        model = Flow
        fields = ("name", "description", "default_language", "languages", "fallback_queue")

    def clean_languages(self) -> list:
        from apps.ivr.conf import ivr_language_codes

        languages = self.cleaned_data["languages"] or []
        if not isinstance(languages, list) or any(
            code not in ivr_language_codes() for code in languages
        ):
            raise ValidationError(
                _("A list of language codes among: %(codes)s.")
                % {"codes": ", ".join(sorted(ivr_language_codes()))}
            )
        return languages


@admin.register(Flow)
class FlowAdmin(admin.ModelAdmin):
    form = FlowForm
    list_display = ("name", "default_language", "live", "numbers")
    search_fields = ("name",)
    inlines = [FlowVersionInline]
    actions = ["new_draft"]
    change_form_template = "admin/ivr/flow/change_form.html"

    @admin.display(description=gettext_lazy("live version"))
    def live(self, flow: Flow) -> str:
        return f"v{flow.live_version.number}" if flow.live_version_id else "—"

    @admin.display(description=gettext_lazy("numbers"))
    def numbers(self, flow: Flow) -> str:
        return ", ".join(flow.numbers.values_list("number", flat=True))

    def save_model(self, request: HttpRequest, obj: Flow, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            services.flow_version_create_draft(actor=request.user, flow=obj)

    @admin.action(description=gettext_lazy("Create a draft from the live version"))
    def new_draft(self, request: HttpRequest, queryset: Any) -> None:
        for flow in queryset:
            draft = services.flow_version_create_draft(
                actor=request.user, flow=flow, source=flow.live_version
            )
            self.message_user(
                request,
                _("%(flow)s: draft %(number)s created.")
                % {"flow": flow.name, "number": draft.number},
            )

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<int:flow_id>/test/", view(self.tester_view), name="ivr_flow_test"),
            *super().get_urls(),
        ]

    def tester_view(self, request: HttpRequest, flow_id: int) -> HttpResponse:
        """Run a version of the flow for a scripted caller and show the path."""
        if not request.user.has_perm("ivr.test_flow"):
            raise PermissionDenied
        flow = get_object_or_404(Flow, pk=flow_id)
        form = FlowTesterForm(request.POST or None, flow=flow)
        run = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            run = flow_test_run(
                version_id=int(data["version"]),
                caller_number=data["caller_number"],
                when=data["when"],
                inputs=parse_keys(data["keys"]),
                did=data["did"],
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Test %(flow)s") % {"flow": flow.name},
            "flow": flow,
            "form": form,
            "run": run,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/ivr/flow_tester.html", context)


class FlowTesterForm(forms.Form):
    version = forms.ChoiceField(label=gettext_lazy("version"))
    caller_number = forms.CharField(
        label=gettext_lazy("caller number"), max_length=32, initial="13800138000"
    )
    did = forms.CharField(label=gettext_lazy("dialled number"), max_length=32, required=False)
    when = forms.DateTimeField(
        label=gettext_lazy("time of the call"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    keys = forms.CharField(
        label=gettext_lazy("caller inputs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 30}),
        help_text=gettext_lazy(
            "One input per line, in order: keys (1, 1234567890#), '-' for silence, "
            "say:words for a spoken answer, hangup to hang up."
        ),
    )

    def __init__(self, *args: Any, flow: Flow, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        versions = list(flow.versions.order_by("-number"))
        self.fields["version"].choices = [
            (str(v.pk), f"v{v.number} — {v.get_status_display()}") for v in versions
        ]
        if flow.live_version_id:
            self.fields["version"].initial = str(flow.live_version_id)
        number = flow.numbers.first()
        self.fields["did"].initial = number.number if number else ""
        self.fields["when"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")

    def clean_when(self) -> dt.datetime:
        when = self.cleaned_data["when"]
        return when if timezone.is_aware(when) else timezone.make_aware(when)


# ---------------------------------------------------------------- prompts


class PromptVariantInline(admin.TabularInline):
    model = PromptVariant
    fields = ("language", "text", "upload", "source", "duration_ms", "listen")
    readonly_fields = ("source", "duration_ms", "listen")
    extra = 0

    @admin.display(description=gettext_lazy("converted"))
    def listen(self, variant: PromptVariant) -> str:
        if not variant.audio_8k:
            return "—"
        return format_html(
            '<a href="{}">8 kHz</a> · <a href="{}">16 kHz</a>',
            variant.audio_8k.url,
            variant.audio_16k.url,
        )


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "languages")
    search_fields = ("name", "description", "variants__text")
    inlines = [PromptVariantInline]

    @admin.display(description=gettext_lazy("languages"))
    def languages(self, prompt: Prompt) -> str:
        return ", ".join(f"{v.language} ({v.source})" for v in prompt.variants.all())

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        for variant in formset.new_objects + [obj for obj, _fields in formset.changed_objects]:
            try:
                services.prompt_variant_render(variant=variant)
            except AudioError as exc:
                self.message_user(
                    request,
                    _("%(prompt)s: %(error)s") % {"prompt": variant, "error": exc},
                    messages.ERROR,
                )
        if tts_command() is None:
            self.message_user(
                request,
                _("No text-to-speech engine is installed: text-only prompts play %(how)s.")
                % {
                    "how": _("through FreeSWITCH's TTS engine")
                    if ivr_setting("IVR_FS_TTS_ENGINE")
                    else _("as a tone")
                },
                messages.WARNING,
            )

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        extra = dict(extra_context or {})
        extra["subtitle"] = _("Audio converter: %(converter)s") % {"converter": converter_name()}
        return super().changelist_view(request, extra)


# ---------------------------------------------------------------- numbers


@admin.register(InboundNumber)
class InboundNumberAdmin(admin.ModelAdmin):
    list_display = ("number", "flow", "is_active", "description")
    list_filter = ("is_active", "flow")
    search_fields = ("number", "description")

    def save_model(self, request: HttpRequest, obj: InboundNumber, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        live_versions_forget()  # this process at once; others within IVR_DID_CACHE_SECONDS


# ---------------------------------------------------------------- what callers did


class IvrStepInline(admin.TabularInline):
    model = IvrStep
    fields = ("seq", "node", "kind", "event", "detail", "elapsed_ms")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(IvrPath)
class IvrPathAdmin(ReadOnlyAdmin):
    list_display = (
        "call_uuid",
        "flow",
        "caller_number",
        "started_at",
        "outcome",
        "last_node",
        "queue",
    )
    list_filter = ("outcome", "flow")
    search_fields = ("call_uuid", "caller_number")
    date_hierarchy = "started_at"
    inlines = [IvrStepInline]
    change_list_template = "admin/ivr/ivrpath/change_list.html"

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("abandoned/", view(self.abandon_view), name="ivr_ivrpath_abandoned"),
            *super().get_urls(),
        ]

    def abandon_view(self, request: HttpRequest) -> HttpResponse:
        """Where callers give up: the last node of abandoned paths, per flow."""
        if not request.user.has_perm("ivr.view_ivrpath"):
            raise PermissionDenied
        days = request.GET.get("days", "30")
        days_value = int(days) if days.isdigit() and 0 < int(days) <= 366 else 30
        rows = ivr_abandon_points(
            actor=request.user, since=timezone.now() - dt.timedelta(days=days_value)
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Where callers give up"),
            "rows": rows,
            "days": days_value,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/ivr/abandon_report.html", context)


@admin.register(Voicemail)
class VoicemailAdmin(admin.ModelAdmin):
    list_display = ("caller_number", "queue", "language", "created_at", "handled")
    list_filter = ("handled", "queue")
    readonly_fields = (
        "path",
        "call_uuid",
        "caller_number",
        "queue",
        "language",
        "audio",
        "size_bytes",
        "created_at",
    )


@admin.register(CallbackRequest)
class CallbackRequestAdmin(admin.ModelAdmin):
    list_display = ("number", "queue", "language", "status", "created_at")
    list_filter = ("status", "queue")
    readonly_fields = (
        "path",
        "call_uuid",
        "number",
        "queue",
        "language",
        "customer_id",
        "created_at",
    )
