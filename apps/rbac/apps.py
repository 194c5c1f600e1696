from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RbacConfig(AppConfig):
    name = "apps.rbac"
    verbose_name = _("Roles and permissions")

    def ready(self) -> None:
        from apps.rbac import signals

        signals.connect()
