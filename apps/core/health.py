"""Dependency checks behind /healthz: each returns (ok, detail) and never raises."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import redis
from django.conf import settings

from apps.telephony.node_status import configured_node_names, node_status

CHECK_TIMEOUT_SECONDS = 2


def check_database() -> dict[str, Any]:
    """Open a fresh connection (not the request's) so a dead server is seen at once."""
    db = settings.DATABASES["default"]
    started = time.monotonic()
    try:
        with psycopg.connect(
            host=db.get("HOST") or None,
            port=db.get("PORT") or None,
            dbname=db.get("NAME"),
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            connect_timeout=CHECK_TIMEOUT_SECONDS,
        ) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001  (any failure means unhealthy)
        return {"ok": False, "detail": str(exc).splitlines()[0] if str(exc) else repr(exc)}
    return {"ok": True, "latency_ms": round((time.monotonic() - started) * 1000, 1)}


def _check_redis_url(url: str) -> dict[str, Any]:
    started = time.monotonic()
    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS
        )
        client.ping()
        client.close()
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "detail": str(exc)}
    return {"ok": True, "latency_ms": round((time.monotonic() - started) * 1000, 1)}


def check_redis() -> dict[str, Any]:
    return _check_redis_url(settings.REDIS_URL)


def check_broker() -> dict[str, Any]:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return {"ok": True, "detail": "not checked: non-Redis broker"}
    return _check_redis_url(url)


def check_freeswitch_nodes() -> dict[str, Any]:
    """Nodes are healthy unless every configured node is reported down (then no call can flow)."""
    try:
        nodes = {name: node_status(name) for name in configured_node_names()}
    except Exception as exc:  # noqa: BLE001  (the cache or database may be the thing that is down)
        return {"ok": False, "detail": str(exc), "nodes": {}}
    all_down = bool(nodes) and all(value["status"] == "down" for value in nodes.values())
    return {"ok": not all_down, "nodes": nodes}


def run_health_checks() -> tuple[bool, dict[str, Any]]:
    """Return (healthy, report) for the load balancer."""
    checks = {
        "database": check_database(),
        "redis": check_redis(),
        "broker": check_broker(),
    }
    checks["freeswitch"] = (
        check_freeswitch_nodes()
        if checks["redis"]["ok"]
        else {"ok": False, "detail": "unknown: Redis is down", "nodes": {}}
    )
    healthy = all(check["ok"] for check in checks.values())
    return healthy, {"status": "ok" if healthy else "unhealthy", "checks": checks}
