from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelephonyConfig(AppConfig):
    name = "apps.telephony"
    verbose_name = _("Telephony")

    def ready(self) -> None:
        from apps.audit.registry import register_audited

        from .models import FreeswitchNode

        # Node records are configuration: every change is audited, the ESL password masked.
        register_audited(FreeswitchNode, mask_fields=["password"])
