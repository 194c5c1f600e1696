from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    name = "apps.console"
    verbose_name = _("Agent console")

    def ready(self) -> None:
        from apps.audit.registry import register_audited

        from . import signals, telephony_events
        from .models import DispositionCode, ScheduledCallback, WrapUp

        register_audited(DispositionCode)
        register_audited(WrapUp)
        register_audited(ScheduledCallback)
        telephony_events.subscribe()
        signals.connect()
