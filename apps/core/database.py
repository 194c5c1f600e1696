"""Create the configured PostgreSQL database when it is missing (a fresh machine's demo)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql


def database_create_if_missing(settings_dict: dict[str, Any]) -> bool:
    """Create the database a Django ``DATABASES`` entry names, if it does not exist yet.

    Connects to the server's ``postgres`` maintenance database with the same credentials.
    Return True when it created the database. Raise ``psycopg.OperationalError`` when the server
    cannot be reached or the role may not create databases (the message says which).
    """
    name = settings_dict["NAME"]
    with psycopg.connect(
        host=settings_dict.get("HOST") or None,
        port=settings_dict.get("PORT") or None,
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True
