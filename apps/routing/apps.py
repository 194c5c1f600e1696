from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "apps.routing"
    verbose_name = _("Routing")

    def ready(self) -> None:
        from apps.audit.registry import register_audited
        from apps.routing import telephony_gateway
        from apps.routing.models import (
            AgentSkill,
            BusinessHours,
            BusinessHoursInterval,
            CustomerTier,
            Holiday,
            OverflowRule,
            Queue,
            QueueSkill,
            Skill,
        )

        # Configuration is audited; the high-volume runtime rows (presence, waiting calls,
        # offers) are not: AgentStateChange is their own trail.
        register_audited(Skill)
        register_audited(AgentSkill)
        register_audited(CustomerTier)
        register_audited(BusinessHours)
        register_audited(BusinessHoursInterval)
        register_audited(Holiday)
        register_audited(Queue, m2m_fields={"teams"})
        register_audited(QueueSkill)
        register_audited(OverflowRule, m2m_fields={"backup_teams"})
        telephony_gateway.subscribe()
