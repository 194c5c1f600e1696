"""Run a router process: decide on the router events queued in Redis, a batch per turn."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connections

from apps.routing import conf
from apps.routing.router_process import router_turn


class Command(BaseCommand):
    help = "Decide on queued routing events (calls joining the line, agents freed) in batches."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--batch", type=int, default=None, help="most events decided in one turn"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = False

        def request_stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        batch = options["batch"] or conf.router_batch()
        self.stdout.write(f"router started (batch {batch})")
        self.stdout.flush()
        while not stopping:
            # A short wait, so SIGTERM is honoured within a second.
            router_turn(limit=batch, timeout=1.0)
        connections.close_all()
        self.stdout.write("router stopped")
