from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import User
from apps.accounts.services import service_account_create


class Command(BaseCommand):
    help = "Create an API client (service account for a CRM) and print its token."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("name")

    def handle(self, *args: object, **options: object) -> None:
        name = str(options["name"])
        if User.objects.filter(username=name).exists():
            raise CommandError(f"A user named {name!r} already exists.")
        _, token = service_account_create(name=name)
        self.stdout.write(token)
