"""Run routing's hot statements as server-side prepared statements on Django's connection.

The arrival and decision statements are planned once per connection instead of on every call
(planning them costs about as much as running them). Django's own cursors bind parameters on the
client side and never prepare, so enabling psycopg's preparation on the connection (Django turns
it off) changes nothing for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from django.db import connection

# After this many runs psycopg prepares any statement of our cursors (prepare=True: at once).
_PREPARE_THRESHOLD = 5
_IDLE = psycopg.pq.TransactionStatus.IDLE
_ROWS = psycopg.pq.ExecStatus.TUPLES_OK
GENERIC_PLAN = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)"


def fetch_one(
    sql: str, params: Mapping[str, Any], *, settings_sql: str = ""
) -> tuple[Any, ...] | None:
    """Run a prepared statement and return its first row (None without rows).

    ``settings_sql`` (a SELECT of set_config(..., true) calls) is sent in the same round trip and
    lasts until the end of the current transaction. So is the BEGIN of a transaction this
    statement opens (Django's ``atomic`` leaves it to the first statement).
    """
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = _PREPARE_THRESHOLD
    begin_pending = not raw.autocommit and raw.info.transaction_status == _IDLE
    if settings_sql or begin_pending:
        # Pipeline mode queues psycopg's BEGIN with the statement instead of a round trip alone.
        with raw.pipeline(), psycopg.Cursor(raw) as cursor:
            if settings_sql:
                cursor.execute(settings_sql)
            cursor.execute(sql, params, prepare=True)
            return cursor.fetchone()
    with psycopg.Cursor(raw) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchone()


def fetch_each(statements: Sequence[tuple[str, Mapping[str, Any]]]) -> list[tuple[Any, ...] | None]:
    """Run several prepared statements in ONE round trip; return each one's first row.

    The statements run in order in the current transaction, each seeing the writes of those
    before it (a ``set_config(..., true)`` statement sets what follows); psycopg's pipeline mode
    sends them, with a pending BEGIN, without waiting for each result. An error in one raises
    once the pipeline syncs, and the enclosing transaction is rolled back as usual.
    """
    if not statements:
        return []
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = _PREPARE_THRESHOLD
    cursors = [psycopg.Cursor(raw) for _ in statements]
    try:
        with raw.pipeline():
            for cursor, (sql, params) in zip(cursors, statements, strict=True):
                cursor.execute(sql, params, prepare=True)
        # A statement without result columns (an UPDATE without RETURNING) gives None.
        return [
            cursor.fetchone() if cursor.pgresult and cursor.pgresult.status == _ROWS else None
            for cursor in cursors
        ]
    finally:
        for cursor in cursors:
            cursor.close()
