"""The running suite for browser tests: the web (ASGI), the telephony event process and a Celery
worker as subprocesses against the test database, the FreeSWITCH simulator in a thread, and a
stand-in SIP-over-WebSocket server for the softphone."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll until ``predicate()`` (a readiness check, not a test assertion) or fail."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout} s")
        time.sleep(0.05)


class Process:
    """A subprocess with its output in test-artifacts/<name>.log."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.name = name
        self.log_path = ARTIFACTS / f"{name}.log"
        self.log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            args,
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        self.log.close()


def suite_env(database_name: str, **extra: str) -> dict[str, str]:
    """Return the environment of the suite's processes: the test settings and databases."""
    env = dict(os.environ)
    # The test profile's defaults, spelt out so the harness can flush its own Redis databases.
    env.setdefault("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
    env.setdefault("TEST_CHANNEL_LAYER_URL", "redis://127.0.0.1:6379/10")
    env.setdefault("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/11")
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.browser.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database_name}",
            "DB_CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
            **extra,
        }
    )
    return env


def start_web(env: dict[str, str]) -> tuple[Process, str]:
    """Start uvicorn with the ASGI application (static files served); return it and its URL."""
    port = free_port()
    process = Process(
        "web",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "tests.browser.asgi_app:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env,
    )
    base_url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if not process.alive():
            raise RuntimeError(f"web exited:\n{process.output()}")
        try:
            with urllib.request.urlopen(f"{base_url}/accounts/login/", timeout=1) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            return False

    wait_for(up, timeout=30, what="web")
    return process, base_url


def start_event_process(env: dict[str, str], connected: Callable[[], bool]) -> Process:
    """Start the telephony event process; return once it is connected to the switch."""
    process = Process(
        "telephony-events",
        [sys.executable, "manage.py", "telephony_events", "--batch-wait-ms", "10"],
        env,
    )

    def up() -> bool:
        if not process.alive():
            raise RuntimeError(f"event process exited:\n{process.output()}")
        # Subscribed (and past its first snapshot) once it says the session is up.
        return connected() and "ESL session up" in process.output()

    wait_for(up, timeout=30, what="telephony event process")
    return process


def start_workers(env: dict[str, str]) -> list[Process]:
    """Start the Celery workers as deployed: a gevent worker for the telephony queue (the ESL
    client needs gevent) and one for the realtime and default queues."""
    workers = []
    for name, queues, pool in (
        ("celery-telephony", "telephony", ["-P", "gevent", "-c", "10"]),
        ("celery-realtime", "realtime,default", ["-P", "solo"]),
    ):
        process = Process(
            name,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "callcenter",
                "worker",
                "-Q",
                queues,
                *pool,
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
                "-l",
                "info",
                "-n",
                f"{name}-{os.getpid()}@%h",
            ],
            env,
        )
        workers.append(process)

    def up() -> bool:
        for process in workers:
            if not process.alive():
                raise RuntimeError(f"{process.name} exited:\n{process.output()}")
        return all(" ready." in process.output() for process in workers)

    wait_for(up, timeout=60, what="celery workers")
    # The router process decides on the routing events (as deployed next to the workers).
    router = Process("router", [sys.executable, "manage.py", "run_router"], env)
    wait_for(lambda: "router started" in router.output(), timeout=30, what="router process")
    return [*workers, router]


def launch_chromium(playwright):  # type: ignore[no-untyped-def]
    """Launch Debian's Chromium headless with the flags the WebRTC fixtures were recorded with."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Save a screenshot of a key moment under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
