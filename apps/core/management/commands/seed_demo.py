from django.core.management.base import BaseCommand

from apps.core.demo import seed_demo_data


class Command(BaseCommand):
    help = "Create the demo teams, users, agents, queues... (dev profile only; idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        for line in seed_demo_data():
            self.stdout.write(line)
