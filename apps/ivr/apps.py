from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IvrConfig(AppConfig):
    name = "apps.ivr"
    verbose_name = _("IVR")

    def ready(self) -> None:
        from apps.audit.registry import register_audited

        from .models import (
            CallbackRequest,
            Flow,
            FlowNode,
            FlowVersion,
            InboundNumber,
            Prompt,
            PromptVariant,
        )

        # Paths and steps are high-volume call records, not configuration: not audited.
        for model in (
            Flow,
            FlowVersion,
            FlowNode,
            Prompt,
            PromptVariant,
            InboundNumber,
            CallbackRequest,
        ):
            register_audited(model)

        try:
            from apps.telephony.dialplan import register_entry_point_resolver
        except ImportError:
            return
        from .dialplan import telephony_entry_point

        register_entry_point_resolver(telephony_entry_point)
