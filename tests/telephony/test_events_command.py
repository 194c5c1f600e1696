"""``manage.py telephony_events``: a real process under gevent that stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from apps.telephony.models import Call, FreeswitchNode
from apps.telephony.node_status import node_status

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _wait(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db
def test_the_command_refuses_to_run_without_gevent_patching():
    # pytest's process is not monkey-patched; manage.py would re-execute itself patched.
    with pytest.raises(CommandError, match="gevent"):
        call_command("telephony_events")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_process_records_calls_and_exits_cleanly_on_sigterm(fs_sim):
    # Given a node record pointing at the simulator, and a caller already waiting there
    FreeswitchNode.objects.create(
        name="sim", host=fs_sim.host, port=fs_sim.port, password=fs_sim.password
    )
    waiting = fs_sim.place_inbound_call(caller="5550001", destination="4001")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "callcenter.settings.test",
        "DATABASE_URL": _database_url(),
    }

    # When the event process runs (it re-executes itself under gevent)
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "telephony_events", "--node", "sim"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        adopted = _wait(lambda: Call.objects.filter(uuid=waiting).exists(), timeout=60)
        arriving = fs_sim.place_inbound_call(caller="5550002", destination="4001")
        recorded = _wait(lambda: Call.objects.filter(uuid=arriving).exists(), timeout=30)
        assert node_status("sim")["status"] == "up"
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()

    # Then it adopted the call it found, recorded the new one, and stopped cleanly
    assert adopted
    assert recorded
    assert process.returncode == 0, output
    assert "node sim: received=" in output
    assert Call.objects.get(uuid=arriving).state == "parked"
    assert node_status("sim")["status"] == "down"
