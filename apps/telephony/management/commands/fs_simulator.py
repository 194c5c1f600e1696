"""Run the FreeSWITCH simulator (ESL server, phones, optional call traffic) for demos."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.telephony.simulator import cli
from apps.telephony.simulator.dialplan import Answer, DialplanRouter, Park, SetVar


def ivr_router(*, suite_url: str, dids: list[str]) -> DialplanRouter:
    """Route each DID that has a live IVR flow the way our generated dialplan does on FreeSWITCH:
    answer, httapi against the suite, then park (the safe destination)."""
    from apps.ivr.dialplan import httapi_entry_for_did
    from apps.ivr.fs_emulator import HttapiProfile
    from apps.telephony.simulator.httapi import Httapi

    conf = Path(settings.BASE_DIR) / "freeswitch_conf" / "autoload_configs" / "httapi.conf.xml"
    profile = HttapiProfile.from_conf(
        conf.read_text(),
        "default",
        {
            "suite_base_url": suite_url,
            "suite_http_username": settings.FREESWITCH_XML_USERNAME,
            "suite_http_password": settings.FREESWITCH_XML_PASSWORD,
            "httapi_timeout": "5",
            "suite_tls_verify": "false",
        },
    )
    router = DialplanRouter()
    for did in dids:
        entry = httapi_entry_for_did(did)
        if entry is None:
            continue
        router.set_route(
            did,
            [
                SetVar("cc_did", did),
                SetVar("cc_queue", settings.FREESWITCH_DEFAULT_QUEUE),
                Answer(),
                Httapi(
                    entry["data"],
                    profile=profile,
                    username=settings.FREESWITCH_XML_USERNAME,
                    password=settings.FREESWITCH_XML_PASSWORD,
                    variables={"suite_base_url": suite_url},
                ),
                Park(),
            ],
        )
    return router


class Command(BaseCommand):
    help = (
        "Serve a simulated FreeSWITCH Event Socket (FS_SIM_HOST/FS_SIM_PORT/FS_SIM_PASSWORD), "
        "optionally with agent phones and inbound call traffic. SIGTERM or Ctrl-C shuts it "
        "down with FreeSWITCH's shutdown notice to every client."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        cli.add_arguments(parser)
        parser.add_argument(
            "--suite-url",
            help="run the IVR flows of the DIDs over httapi against this suite URL",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            plan = cli.plan_from_options(options, debug=settings.DEBUG)
        except cli.ConfigError as error:
            raise CommandError(str(error)) from error
        if options.get("suite_url"):
            dids = [did for did in str(options.get("dids") or "").split(",") if did]
            plan = replace(plan, router=ivr_router(suite_url=options["suite_url"], dids=dids))
        cli.run(plan, log=self.stdout.write)
