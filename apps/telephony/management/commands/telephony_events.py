"""Run the telephony event process: one gevent greenlet set per FreeSWITCH node."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

logger = logging.getLogger(__name__)


def _gevent_patched() -> bool:
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("socket")


class Command(BaseCommand):
    help = (
        "Consume FreeSWITCH events of every enabled node (or --node NAME) into call records; "
        "SIGTERM drains the buffers and exits."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--node",
            action="append",
            default=[],
            help="Only this node (repeatable). Default: every enabled node.",
        )
        # Defaults: event_process.DEFAULT_BATCH_SIZE / DEFAULT_BATCH_WAIT (not imported here:
        # that module must load after the gevent patch).
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument("--batch-wait-ms", type=int, default=None)

    def run_from_argv(self, argv: list[str]) -> None:
        if not _gevent_patched():
            # Re-execute with gevent patched before anything imports socket or psycopg.
            env = dict(os.environ)
            base = str(Path(settings.BASE_DIR))
            env["PYTHONPATH"] = os.pathsep.join(
                part for part in (base, env.get("PYTHONPATH", "")) if part
            )
            os.execve(  # noqa: S606  (replaces this process: same pid for the supervisor)
                sys.executable,
                [sys.executable, "-m", "apps.telephony.run_events", *argv[2:]],
                env,
            )
        super().run_from_argv(argv)

    def handle(self, *args: Any, **options: Any) -> None:
        import gevent

        from apps.telephony.event_process import EventProcess, lag_summary, tune_gc
        from apps.telephony.models import FreeswitchNode

        if not _gevent_patched():
            raise CommandError("telephony_events must run with gevent monkey-patching.")
        nodes = FreeswitchNode.objects.filter(enabled=True)
        if options["node"]:
            nodes = nodes.filter(name__in=options["node"])
        nodes = list(nodes)
        if not nodes:
            raise CommandError(
                "No enabled FreeSWITCH node to listen to (run sync_freeswitch_nodes or add one "
                "in the admin)."
            )
        batching: dict[str, Any] = {}
        if options["batch_size"] is not None:
            batching["batch_size"] = options["batch_size"]
        if options["batch_wait_ms"] is not None:
            batching["batch_wait"] = options["batch_wait_ms"] / 1000
        process = EventProcess(nodes, buffer_size=settings.FREESWITCH_EVENT_BUFFER, **batching)
        tune_gc()
        gevent.signal_handler(signal.SIGTERM, process.request_stop)
        gevent.signal_handler(signal.SIGINT, process.request_stop)
        self.stdout.write(f"telephony events: nodes {', '.join(n.name for n in nodes)}")
        process.run()
        for ingest in process.ingests:
            self.stdout.write(f"node {ingest.node.name}: {lag_summary(ingest.stats)}")
