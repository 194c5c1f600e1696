"""/healthz reports each dependency; load balancers get 503 when one is down."""

import copy

import pytest
from django.conf import settings

from apps.telephony.node_status import record_node_status

pytestmark = pytest.mark.django_db

CLOSED_PORT = 1  # nothing listens on port 1 on loopback: connection refused at once


def test_healthy_when_everything_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "redis": True,
        "broker": True,
        "freeswitch": True,
    }


def test_unhealthy_when_postgresql_is_down(client, settings):
    databases = copy.deepcopy(settings.DATABASES)
    databases["default"]["PORT"] = CLOSED_PORT
    settings.DATABASES = databases  # read only by the health check here

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"
    assert response.json()["checks"]["database"]["ok"] is False


def test_unhealthy_when_redis_is_down(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{CLOSED_PORT}/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["ok"] is False


def test_unhealthy_when_the_broker_is_down(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{CLOSED_PORT}/1"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


def test_unhealthy_when_every_freeswitch_node_is_down(client):
    for node in settings.FREESWITCH_NODES:
        record_node_status(node["name"], "down", "heartbeat missed")

    response = client.get("/healthz")

    assert response.status_code == 503
    nodes = response.json()["checks"]["freeswitch"]["nodes"]
    assert {name: value["status"] for name, value in nodes.items()} == {
        node["name"]: "down" for node in settings.FREESWITCH_NODES
    }


def test_a_node_that_is_up_is_reported(client):
    for node in settings.FREESWITCH_NODES:
        record_node_status(node["name"], "up")

    response = client.get("/healthz")

    assert response.status_code == 200
    assert all(
        value["status"] == "up"
        for value in response.json()["checks"]["freeswitch"]["nodes"].values()
    )
