from django.core.management.base import BaseCommand

from apps.rbac.services import roles_setup


class Command(BaseCommand):
    help = "Create or update the role groups and their permissions (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        for role, count in roles_setup().items():
            self.stdout.write(f"{role}: {count} permissions")
