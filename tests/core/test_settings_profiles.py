"""The production profile refuses insecure settings and passes `check --deploy` when configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_ENV = {
    "DJANGO_SETTINGS_MODULE": "callcenter.settings.prod",
    "SECRET_KEY": "k" * 20 + "-production-secret-key-with-enough-entropy-9f8e7d6c",
    "FIELD_ENCRYPTION_KEY": "6Bq0Xw5Wj3J0kq0c8mR5m6wq9y0b2Jm4Vt7Qe1a3s5U=",
    "DATABASE_URL": "postgres://cc:Very-Strong-Db-Pass-81@127.0.0.1:5432/callcenter",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "ALLOWED_HOSTS": "cc.example.com",
    "FREESWITCH_XML_PASSWORD": "xml-Strong-Pass-7733",
    "FREESWITCH_NODES": json.dumps(
        [{"name": "fs1", "host": "10.0.0.5", "port": 8021, "password": "Esl-Strong-Pass-42"}]
    ),
}


def _manage(*args: str, env_overrides: dict[str, str | None]) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in GOOD_ENV}
    env.update(GOOD_ENV)
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_production_profile_passes_the_deploy_check():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env_overrides={})

    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY is required"),
        (
            {"SECRET_KEY": "dev-insecure-only-for-local-demo-never-in-production"},
            "public development key",
        ),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be at least 50 characters"),
        ({"FIELD_ENCRYPTION_KEY": None}, "FIELD_ENCRYPTION_KEY is required"),
        (
            {"DATABASE_URL": "postgres://cc:postgres@db:5432/cc"},
            "DATABASE_URL has no password or a default",
        ),
        ({"DATABASE_URL": "postgres://cc@db:5432/cc"}, "DATABASE_URL has no password or a default"),
        (
            {"FREESWITCH_XML_PASSWORD": "changeme"},
            "FREESWITCH_XML_PASSWORD is missing or a default",
        ),
        (
            {"FREESWITCH_NODES": json.dumps([{"name": "fs1", "host": "h", "password": "ClueCon"}])},
            "node 'fs1' has a default ESL password",
        ),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS is required"),
    ],
)
def test_production_profile_refuses_to_start_with_insecure_values(overrides, message):
    result = _manage("check", env_overrides=overrides)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_dev_profile_needs_no_environment():
    result = _manage(
        "check",
        env_overrides=dict.fromkeys(GOOD_ENV)
        | {"DJANGO_SETTINGS_MODULE": "callcenter.settings.dev"},
    )

    assert result.returncode == 0, result.stderr
