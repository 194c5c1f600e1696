"""FreeSWITCH node records: seeded from settings, passwords encrypted, read by the health check."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection

from apps.telephony.models import FreeswitchNode
from apps.telephony.node_status import configured_node_names, record_node_status

pytestmark = pytest.mark.django_db

NODES = [
    {"name": "fs-a", "host": "10.0.0.1", "port": 8021, "password": "secret-a"},
    {"name": "fs-b", "host": "10.0.0.2", "port": 8022, "password": "secret-b", "role": "inbound"},
]


def test_syncing_creates_the_configured_nodes_once(settings):
    settings.FREESWITCH_NODES = NODES
    out = io.StringIO()

    call_command("sync_freeswitch_nodes", stdout=out)
    call_command("sync_freeswitch_nodes", stdout=out)

    assert out.getvalue().splitlines() == [
        "created: fs-a",
        "created: fs-b",
        "unchanged: fs-a",
        "unchanged: fs-b",
    ]
    nodes = {node.name: node for node in FreeswitchNode.objects.all()}
    assert (nodes["fs-b"].host, nodes["fs-b"].port, nodes["fs-b"].role) == (
        "10.0.0.2",
        8022,
        "inbound",
    )
    assert nodes["fs-a"].password == "secret-a"


def test_records_win_over_settings_unless_asked_to_update(settings):
    settings.FREESWITCH_NODES = NODES
    call_command("sync_freeswitch_nodes", stdout=io.StringIO())
    FreeswitchNode.objects.filter(name="fs-a").update(host="10.9.9.9")

    call_command("sync_freeswitch_nodes", stdout=io.StringIO())
    assert FreeswitchNode.objects.get(name="fs-a").host == "10.9.9.9"

    call_command("sync_freeswitch_nodes", "--update", stdout=io.StringIO())
    assert FreeswitchNode.objects.get(name="fs-a").host == "10.0.0.1"


def test_the_esl_password_is_stored_encrypted():
    FreeswitchNode.objects.create(name="fs-a", host="10.0.0.1", password="secret-a")

    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM telephony_freeswitchnode WHERE name = 'fs-a'")
        [stored] = cursor.fetchone()

    assert stored.startswith("v1:")
    assert "secret-a" not in stored


def test_the_health_check_reads_enabled_node_records(settings, client):
    settings.FREESWITCH_NODES = [{"name": "from-settings", "host": "h", "password": "p"}]
    assert configured_node_names() == ["from-settings"]  # before any record exists

    FreeswitchNode.objects.create(name="fs-a", host="10.0.0.1", password="x")
    FreeswitchNode.objects.create(name="fs-b", host="10.0.0.2", password="x", enabled=False)
    record_node_status("fs-a", "down", "no HEARTBEAT for 45.0 s")

    assert configured_node_names() == ["fs-a"]
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["freeswitch"]["nodes"]["fs-a"]["status"] == "down"


def test_demo_seeding_creates_the_simulator_node(settings):
    from apps.telephony.demo import seed

    settings.FREESWITCH_NODES = [
        {"name": "sim1", "host": "127.0.0.1", "port": 8021, "password": "sim-dev-only"}
    ]

    assert seed() == ["  FreeSWITCH node sim1 at 127.0.0.1:8021"]
    assert seed() == ["  FreeSWITCH node sim1 at 127.0.0.1:8021"]
    assert FreeswitchNode.objects.get().name == "sim1"
