from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "apps.customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from apps.audit.registry import register_audited

        from .models import Customer, CustomerIdentity

        # Sensitive values appear in the change history masked like on screen ("****1234").
        register_audited(
            Customer,
            mask_fields=list(Customer.SENSITIVE_FIELDS),
            mask_callable="apps.core.crypto.mask_value",
        )
        register_audited(CustomerIdentity)

        from apps.telephony import domain_events

        from .telephony_events import on_call_hungup

        domain_events.subscribe(domain_events.CALL_HUNGUP, on_call_hungup)
