"""Create FreeSWITCH node records from settings.FREESWITCH_NODES (the environment)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from apps.telephony.services import freeswitch_nodes_sync


class Command(BaseCommand):
    help = "Create FreeSWITCH node records from FREESWITCH_NODES; --update also overwrites them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--update",
            action="store_true",
            help="Overwrite existing records with the settings' host, port and password.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = freeswitch_nodes_sync(nodes=settings.FREESWITCH_NODES, update=options["update"])
        for label, names in (
            ("created", result.created),
            ("updated", result.updated),
            ("unchanged", result.unchanged),
        ):
            for name in names:
                self.stdout.write(f"{label}: {name}")
