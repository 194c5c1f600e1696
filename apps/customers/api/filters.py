"""Query filters of the customer list: identity lookups go through the same normalisation."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from apps.customers.models import Customer, IdentityKind, Interaction, VipTier
from apps.customers.selectors import customers_with_identity


class CustomerFilter(django_filters.FilterSet):
    phone = django_filters.CharFilter(
        method="filter_phone", label=_("Phone number in any format (13812345678, +86 ...)")
    )
    email = django_filters.CharFilter(method="filter_email", label=_("E-mail address"))
    identity_kind = django_filters.ChoiceFilter(
        choices=IdentityKind.choices, method="filter_noop", label=_("Identity kind")
    )
    identity_value = django_filters.CharFilter(
        method="filter_identity", label=_("Identity value (with identity_kind)")
    )
    vip_tier = django_filters.ChoiceFilter(choices=VipTier.choices)
    tag = django_filters.CharFilter(method="filter_tag", label=_("Has this tag"))
    q = django_filters.CharFilter(method="filter_text", label=_("Name or company contains"))
    external_id = django_filters.CharFilter()
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Customer
        fields = ["vip_tier", "external_id"]

    def filter_phone(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return customers_with_identity(queryset, IdentityKind.PHONE, value)

    def filter_email(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return customers_with_identity(queryset, IdentityKind.EMAIL, value)

    def filter_noop(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset

    def filter_identity(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        kind = self.form.cleaned_data.get("identity_kind") or ""
        return customers_with_identity(queryset, kind, value)

    def filter_tag(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(tags__contains=[value])

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(company__icontains=value))


class InteractionFilter(django_filters.FilterSet):
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Interaction
        fields = ["channel", "direction", "call_uuid"]
