from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "apps.tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from apps.audit.registry import register_audited

        from . import models

        # The SLA bookkeeping changes on every sweep; its history lives in TicketEvent instead.
        register_audited(
            models.Ticket,
            exclude_fields=[
                "updated_at",
                "first_response_warn_at",
                "first_response_sla_level",
                "resolution_warn_at",
                "resolution_sla_level",
                "sla_paused_seconds",
            ],
            m2m_fields={"watchers"},
        )
        for model in (
            models.SLAPolicy,
            models.SLATarget,
            models.Department,
            models.TicketCategory,
        ):
            register_audited(model)
