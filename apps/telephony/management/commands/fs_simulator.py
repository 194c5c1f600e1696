"""Run the FreeSWITCH simulator (ESL server, phones, optional call traffic) for demos."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.telephony.simulator import cli


class Command(BaseCommand):
    help = (
        "Serve a simulated FreeSWITCH Event Socket (FS_SIM_HOST/FS_SIM_PORT/FS_SIM_PASSWORD), "
        "optionally with agent phones and inbound call traffic. SIGTERM or Ctrl-C shuts it "
        "down with FreeSWITCH's shutdown notice to every client."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        cli.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            plan = cli.plan_from_options(options, debug=settings.DEBUG)
        except cli.ConfigError as error:
            raise CommandError(str(error)) from error
        cli.run(plan, log=self.stdout.write)
