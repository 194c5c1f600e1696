import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from apps.core.database import database_create_if_missing
from apps.core.demo import seed_demo_data
from apps.core.supervisor import run_processes, suite_processes


class Command(BaseCommand):
    help = "Migrate, seed demo data and run the whole suite with simulated traffic (Ctrl-C stops)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--traffic-rate",
            type=float,
            default=0.2,
            help="simulated inbound calls per second (0 = none)",
        )

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG:
            raise CommandError("run_demo is for the dev profile (it creates known passwords).")
        database = connection.settings_dict
        if database_create_if_missing(database):
            self.stdout.write(f"created database {database['NAME']}")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("setup_roles", verbosity=0)
        logins = seed_demo_data()
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(self.style.SUCCESS(f"\nContact Center suite: {url}"))
        self.stdout.write(
            f"  admin:    {url}admin/\n  API docs: {url}api/docs/\n"
            f"  health:   {url}healthz\n\nDemo logins:"
        )
        for line in logins:
            self.stdout.write(line)
        if settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith("InMemoryChannelLayer"):
            self.stdout.write(
                self.style.WARNING(
                    "Channel layer is in-memory (CHANNEL_LAYER_BACKEND=memory): live updates only "
                    "reach browsers connected to this single web process."
                )
            )
        self.stdout.write("\nCtrl-C stops every process.\n")
        specs = suite_processes(
            host=str(options["host"]),
            port=int(options["port"]),
            traffic_rate=float(options["traffic_rate"]),
        )
        sys.exit(run_processes(specs, out=self.stdout))
