"""On a fresh machine the demo creates its database instead of failing on a missing one."""

import uuid

import psycopg
import pytest
from django.db import connection

from apps.core.database import database_create_if_missing


def _exists(admin: psycopg.Connection, name: str) -> bool:
    return bool(admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())


@pytest.fixture
def missing_database():
    settings_dict = {**connection.settings_dict, "NAME": f"cc_fresh_{uuid.uuid4().hex[:12]}"}
    admin_options = {
        "host": settings_dict["HOST"] or None,
        "port": settings_dict["PORT"] or None,
        "user": settings_dict["USER"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    yield settings_dict, admin_options
    with psycopg.connect(**admin_options) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{settings_dict["NAME"]}"')


def test_a_missing_database_is_created_once(missing_database):
    settings_dict, admin_options = missing_database

    created = database_create_if_missing(settings_dict)
    again = database_create_if_missing(settings_dict)

    with psycopg.connect(**admin_options) as admin:
        assert _exists(admin, settings_dict["NAME"])
    assert (created, again) == (True, False)
