from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.tickets.models import ACTIVE_STATUSES, Origin, Priority, Status, Ticket


class TicketFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    channel = django_filters.ChoiceFilter(choices=Origin.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    escalated = django_filters.BooleanFilter(method="filter_escalated", label=_("Escalated"))
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label=_("An SLA deadline has passed")
    )
    q = django_filters.CharFilter(method="filter_text", label=_("Subject contains"))

    class Meta:
        model = Ticket
        fields = [
            "status",
            "priority",
            "channel",
            "customer",
            "team",
            "assignee",
            "department",
            "category",
        ]

    def filter_escalated(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return (
            queryset.filter(escalation_level__gt=0)
            if value
            else queryset.filter(escalation_level=0)
        )

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        now = timezone.now()
        overdue = Q(status__in=ACTIVE_STATUSES) & (
            Q(first_responded_at__isnull=True, first_response_due_at__lte=now)
            | Q(sla_paused_at__isnull=True, resolution_due_at__lte=now)
        )
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(subject__icontains=value)
