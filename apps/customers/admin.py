from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError
from apps.customers.csv_import import COLUMNS, customer_import_csv
from apps.customers.models import Customer, CustomerIdentity, CustomerMerge, Interaction
from apps.customers.normalize import email_normalize, phone_normalize
from apps.customers.services import customer_merge


class CustomerIdentityInline(admin.TabularInline):
    model = CustomerIdentity
    fields = ("kind", "value", "label", "is_primary")
    extra = 0


class MergedFilter(admin.SimpleListFilter):
    title = _("merged")
    parameter_name = "merged"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("no", _("Active customers")), ("yes", _("Merged duplicates"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "no":
            return queryset.filter(merged_into__isnull=True)
        if self.value() == "yes":
            return queryset.filter(merged_into__isnull=False)
        return queryset


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))
    skip_invalid = forms.BooleanField(
        label=_("Skip invalid rows and import the others"), required=False
    )
    dry_run = forms.BooleanField(label=_("Only check the file"), required=False)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "company", "vip_tier", "language", "merged_into", "updated_at")
    list_filter = ("vip_tier", "language", "consent_recording", "consent_marketing", MergedFilter)
    search_fields = ("name", "company", "external_id", "=identities__value")
    # Sensitive values are never shown in clear here: masked read-only, changed through the API.
    exclude = ("national_id", "bank_card")
    readonly_fields = ("national_id_masked", "bank_card_masked", "merged_into", "merged_at")
    inlines = [CustomerIdentityInline]
    actions = ["merge_into_oldest"]
    change_list_template = "customers/admin/change_list.html"
    show_full_result_count = False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # A phone number typed in any format finds its owner (stored in E.164).
        normalized = phone_normalize(search_term) or email_normalize(search_term)
        if normalized:
            search_term = normalized
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("national ID number"))
    def national_id_masked(self, customer: Customer) -> str:
        return customer.national_id_masked

    @admin.display(description=_("bank card number"))
    def bank_card_masked(self, customer: Customer) -> str:
        return customer.bank_card_masked

    @admin.action(
        description=_("Merge the selected customers into the oldest one"),
        permissions=["merge"],
    )
    def merge_into_oldest(self, request: HttpRequest, queryset: QuerySet) -> None:
        customers = list(queryset.filter(merged_into__isnull=True).order_by("pk"))
        if len(customers) < 2:
            self.message_user(
                request, _("Select at least two customers that are not merged."), messages.ERROR
            )
            return
        survivor, duplicates = customers[0], customers[1:]
        try:
            for duplicate in duplicates:
                customer_merge(actor=request.user, survivor=survivor, duplicate=duplicate)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(
            request,
            _("%(count)s customers merged into %(survivor)s.")
            % {"count": len(duplicates), "survivor": survivor},
            messages.SUCCESS,
        )

    def has_merge_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("customers.merge_customers")

    def get_urls(self) -> list[Any]:
        return [
            path(
                "import-csv/",
                self.admin_site.admin_view(self.import_csv_view),
                name="customers_customer_import_csv",
            ),
            *super().get_urls(),
        ]

    def import_csv_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("customers.import_customers"):
            raise PermissionDenied
        report = None
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            report = customer_import_csv(
                actor=request.user,
                content=form.cleaned_data["file"].read(),
                skip_invalid=form.cleaned_data["skip_invalid"],
                dry_run=form.cleaned_data["dry_run"],
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import customers from CSV"),
            "opts": self.model._meta,
            "form": form,
            "report": report,
            "columns": COLUMNS,
        }
        return TemplateResponse(request, "customers/admin/import_csv.html", context)


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "customer", "channel", "direction", "summary", "agent")
    list_filter = ("channel", "direction", "occurred_at")
    search_fields = ("=call_uuid", "=customer__id", "summary")
    raw_id_fields = ("customer", "agent")
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    list_select_related = ("customer", "agent")


@admin.register(CustomerMerge)
class CustomerMergeAdmin(admin.ModelAdmin):
    """Read-only: a merge is evidence of what moved where."""

    list_display = ("created_at", "merged", "survivor", "actor")
    search_fields = ("=merged__id", "=survivor__id")
    readonly_fields = ("survivor", "merged", "actor", "created_at", "moved", "merged_profile")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
