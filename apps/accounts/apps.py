from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from apps.audit.registry import register_audited

        from .models import Agent, Team, User

        register_audited(User, exclude_fields=["password", "last_login"])
        register_audited(Team, m2m_fields={"supervisors"})
        register_audited(Agent, mask_fields=["sip_password"])
