"""Start and stop the suite's processes together (the demo's one command).

Each process gets its own process group so Ctrl-C reaches all of them exactly once, and a process
that dies takes the others down instead of leaving a half-running suite.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management import get_commands


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: list[str]


def suite_processes(*, host: str, port: int, traffic_rate: float) -> list[ProcessSpec]:
    """Return the processes of the whole suite, those whose code exists in this build."""
    python = sys.executable
    manage = str(Path(settings.BASE_DIR) / "manage.py")
    commands = get_commands()
    var = Path(settings.BASE_DIR) / "var"
    var.mkdir(exist_ok=True)
    specs: list[ProcessSpec] = []
    if "fs_simulator" in commands and settings.FREESWITCH_NODES:
        # The demo's simulated FreeSWITCH is the first configured node, with its password.
        node = settings.FREESWITCH_NODES[0]
        argv = [
            python,
            manage,
            "fs_simulator",
            "--host",
            str(node["host"]),
            "--port",
            str(node["port"]),
            "--password",
            str(node["password"]),
            "--agents",
            "6",
            "--first-extension",
            "1001",
            "--agent-answer-after",
            "2,4",
            "--suite-url",
            f"http://{host}:{port}",
        ]
        if traffic_rate > 0:
            argv += [
                "--traffic-rate",
                str(traffic_rate),
                "--dids",
                "4001234567",
                "--ivr-choices",
                "11,12,13,21,22,23",
                "--talk-time",
                "20,60",
            ]
        specs.append(ProcessSpec("simulator", argv))
    specs.append(
        ProcessSpec(
            "web",
            [
                python,
                "-m",
                "uvicorn",
                "callcenter.asgi:application",
                "--host",
                host,
                "--port",
                str(port),
                "--no-access-log",
                # Console frames are small and a queue's figures go to every agent of the
                # queue: compressing each copy per socket cost more CPU than it saved bytes.
                "--ws-per-message-deflate",
                "false",
            ],
        )
    )
    specs.append(
        ProcessSpec(
            "worker",
            [
                python,
                "-m",
                "celery",
                "-A",
                "callcenter",
                "worker",
                "-Q",
                "default,realtime,reports",
                "-c",
                "2",
                "-n",
                "default@%h",
                "--loglevel",
                "INFO",
            ],
        )
    )
    if "run_router" in commands:
        # Routing decisions: the events services publish, many per turn (apps/routing/events.py).
        specs.append(ProcessSpec("router", [python, manage, "run_router"]))
    if "telephony_events" in commands:
        specs.append(
            ProcessSpec(
                "telephony-worker",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "callcenter",
                    "worker",
                    "-Q",
                    "telephony",
                    "-P",
                    "gevent",
                    "-c",
                    "50",
                    "-n",
                    "telephony@%h",
                    "--loglevel",
                    "INFO",
                ],
            )
        )
        specs.append(ProcessSpec("events", [python, manage, "telephony_events"]))
    specs.append(
        ProcessSpec(
            "beat",
            [
                python,
                "-m",
                "celery",
                "-A",
                "callcenter",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(var / "celerybeat-schedule"),
            ],
        )
    )
    return specs


def run_processes(specs: list[ProcessSpec], *, out: object = sys.stdout) -> int:
    """Run the processes until Ctrl-C/SIGTERM or until one exits; stop all; return an exit code."""
    children: dict[str, subprocess.Popen] = {}
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    for spec in specs:
        children[spec.name] = subprocess.Popen(spec.argv, start_new_session=True)  # noqa: S603
        print(f"[suite] started {spec.name} (pid {children[spec.name].pid})", file=out, flush=True)
    exit_code = 0
    try:
        while not stopping:
            for name, child in children.items():
                code = child.poll()
                if code is not None:
                    print(
                        f"[suite] {name} exited with {code}; stopping the suite",
                        file=out,
                        flush=True,
                    )
                    exit_code = code or 1
                    stopping = True
                    break
            time.sleep(0.3)
    finally:
        for child in children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for name, child in children.items():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                print(f"[suite] {name} killed after 10 s", file=out, flush=True)
        print("[suite] all processes stopped", file=out, flush=True)
    return exit_code
