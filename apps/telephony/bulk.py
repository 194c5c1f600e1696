"""Bulk writes of the event process in plain SQL: the ORM's bulk methods cost too much per row.

At the target load (6,000 events/s, thousands of rows inserted and updated per second) Django's
``bulk_update`` alone spends seconds per batch building ``CASE WHEN`` expressions, and
``bulk_create`` prepares every value through several layers of field methods. These helpers
write a whole batch of one model in one statement
(``INSERT ... SELECT ... FROM json_populate_recordset(...)``, ``UPDATE ... FROM
json_populate_recordset(...)``): one JSON parameter whatever the number of rows, encoded by
orjson and typed by the table's own row type.
Table, column and type names come from model metadata, quoted; values are always parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any

import orjson
import psycopg
from django.db import connection, models
from django.db.models import F, Lookup


def _columns(model: type[models.Model]) -> list[models.Field]:
    return [field for field in model._meta.concrete_fields if not field.primary_key]


def _rows_json(objs: Sequence[models.Model], fields: Sequence[models.Field]) -> str:
    """Encode the rows as one JSON array of objects keyed by column name.

    One parameter for the whole batch, encoded in C by orjson: binding one array per column
    made psycopg's per-element array dumpers the event process's largest single cost.
    JSONField values stay nested JSON (PostgreSQL takes them as they are); TextChoices members
    are str (and Enum) subclasses, which orjson writes as their value.
    """
    columns = [field.column for field in fields]
    attnames = [field.attname for field in fields]
    if len(attnames) == 1:
        attname = attnames[0]
        rows = [{columns[0]: getattr(obj, attname)} for obj in objs]
    else:
        values_of = attrgetter(*attnames)  # one C call per row for all its values
        rows = [dict(zip(columns, values_of(obj), strict=True)) for obj in objs]
    return orjson.dumps(rows, default=str).decode()


def _set_auto_timestamps(
    objs: Sequence[models.Model], fields: Sequence[models.Field], *, add: bool
) -> None:
    for field in fields:
        if getattr(field, "auto_now", False) or (add and getattr(field, "auto_now_add", False)):
            for obj in objs:
                field.pre_save(obj, add=add)


def _raw_cursor() -> Any:
    """Return a server-side-binding psycopg cursor on Django's connection (same transaction).

    Django opens its connections with psycopg's ``ClientCursor`` (parameters merged into the
    SQL text in Python); a plain ``psycopg.Cursor`` sends the batch as a real parameter.
    """
    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def _recordset(table: str) -> str:
    # The table's own row type gives every column its type: no casts to spell out.
    return f"json_populate_recordset(NULL::{table}, %s::json)"


def insert_rows(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert new rows and give each object its primary key (in order)."""
    if not objs:
        return
    fields = _columns(model)
    _set_auto_timestamps(objs, fields, add=True)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    pk = quote(model._meta.pk.column)
    # WITH ORDINALITY keeps the ids in the order of the objects.
    sql = (
        f"WITH rows AS (SELECT * FROM {_recordset(table)} WITH ORDINALITY AS r), "  # noqa: S608
        f"inserted AS (INSERT INTO {table} ({columns}) "
        f"SELECT {columns} FROM rows ORDER BY ordinality RETURNING {pk}) "
        f"SELECT {pk} FROM inserted"
    )
    with _raw_cursor() as cursor:
        cursor.execute(sql, [_rows_json(objs, fields)])
        ids = sorted(row[0] for row in cursor.fetchall())
    # A sequence hands out increasing ids and the rows were inserted in order.
    for obj, pk_value in zip(objs, ids, strict=True):
        obj.pk = pk_value
        obj._state.adding = False


def upsert_rows(
    model: type[models.Model],
    objs: Sequence[models.Model],
    *,
    conflict: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert rows, or update ``update`` columns of those that exist (``conflict`` unique)."""
    if not objs:
        return
    fields = _columns(model)
    _set_auto_timestamps(objs, fields, add=True)
    quote = connection.ops.quote_name
    meta = model._meta
    table = quote(meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    conflict_columns = ", ".join(quote(meta.get_field(name).column) for name in conflict)
    assignments = ", ".join(
        f"{quote(column)} = EXCLUDED.{quote(column)}"
        for column in (meta.get_field(name).column for name in update)
    )
    sql = (
        f"INSERT INTO {table} ({columns}) "  # noqa: S608
        f"SELECT {columns} FROM {_recordset(table)} "
        f"ON CONFLICT ({conflict_columns}) DO UPDATE SET {assignments}"
    )
    with _raw_cursor() as cursor:
        cursor.execute(sql, [_rows_json(objs, fields)])


def update_rows(
    model: type[models.Model], objs: Sequence[models.Model], field_names: Sequence[str]
) -> None:
    """Write the given fields of existing rows in one statement."""
    if not objs or not field_names:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in field_names]
    _set_auto_timestamps(objs, fields, add=False)
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    assignments = ", ".join(f"{quote(field.column)} = u.{quote(field.column)}" for field in fields)
    pk = quote(meta.pk.column)
    sql = (
        f"UPDATE {table} AS t SET {assignments} "  # noqa: S608
        f"FROM {_recordset(table)} AS u WHERE t.{pk} = u.{pk}"
    )
    with _raw_cursor() as cursor:
        cursor.execute(sql, [_rows_json(objs, [meta.pk, *fields])])


class _AnyOf(Lookup):
    """``column = ANY(%s)``: the whole list is one array parameter."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]


def any_of(field_name: str, values: Iterable[Any]) -> _AnyOf:
    """Return a filter for ``field_name`` among ``values`` (``filter(any_of("uuid", uuids))``).

    Same rows as ``field__in=values``, cheaper for the long lists of the event process: ``IN``
    puts one placeholder per value in the SQL, which Django's client-side-binding cursor then
    re-parses in Python on every execution (queries that long are not cached).
    """
    return _AnyOf(F(field_name), list(values))
