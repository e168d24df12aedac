"""Writing and reading many rows at once: what a bank statement of a year needs.

`insert` takes plain values, not model instances: building a hundred thousand model
objects costs more than writing their rows. On PostgreSQL the rows go by COPY (text
format, written here), the ids taken from the table's sequence first; elsewhere by `bulk_create`. Either way a
conflict on a unique key raises IntegrityError and writes nothing of that call.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.db import connections
from django.db.models import NOT_PROVIDED, Model

# Values per IN query: far below SQLite's and PostgreSQL's limits, big enough to be few.
CHUNK = 2000
# Up to this many rows, `insert` writes with one INSERT rather than COPY.
FEW = 50


def chunks(values: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _defaults(model: type[Model]) -> dict[str, Any]:
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.default is not NOT_PROVIDED:
            values[field.attname] = field.get_default()
        elif field.null:
            values[field.attname] = None
        elif field.blank and field.get_internal_type() in ("CharField", "TextField"):
            values[field.attname] = ""
    return values


def insert(model: type[Model], rows: list[dict[str, Any]]) -> list[int]:
    """Insert `rows` (values by attname; defaults for the rest); returns their new ids."""
    if not rows:
        return []
    db = connections[model.objects.db]
    defaults = _defaults(model)
    # A few rows (one payment's letters) go by one INSERT … RETURNING: COPY takes two
    # round trips (the ids, then the rows) and only pays off by the hundred.
    if db.vendor != "postgresql" or len(rows) <= FEW:
        objects = model.objects.bulk_create(
            [model(**{**defaults, **row}) for row in rows], batch_size=CHUNK
        )
        return [obj.pk for obj in objects]
    meta = model._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    attnames = [field.attname for field in fields]
    missing = [name for name in attnames if name not in defaults and name not in rows[0]]
    if missing:
        raise ValueError(f"{meta.label}: no value for {', '.join(missing)}")
    from psycopg.copy import QueuedLibpqWriter

    formats = [_copy_format(field) for field in fields]
    quote = db.ops.quote_name
    with db.cursor() as cursor, db.wrap_database_errors:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        columns = ", ".join(quote(column) for column in [meta.pk.column, *(f.column for f in fields)])
        # The queued writer sends each chunk from a thread of its own: the server parses
        # and indexes one chunk while the next is formatted here.
        raw = cursor.cursor
        sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
        with raw.copy(sql, writer=QueuedLibpqWriter(raw)) as copy:
            columns_spec = [
                (name, defaults.get(name), form) for name, form in zip(attnames, formats, strict=True)
            ]
            for start in range(0, len(rows), CHUNK):
                lines = [
                    str(pk) + "\t" + "\t".join([
                        _NULL if (value := row.get(name, default)) is None else form(value)
                        for name, default, form in columns_spec
                    ])
                    for pk, row in zip(ids[start : start + CHUNK], rows[start : start + CHUNK], strict=True)
                ]
                lines.append("")
                copy.write("\n".join(lines))
    return ids


# COPY's text format: tab-separated columns, \N for NULL, backslash escapes.
_NULL = "\\N"


def _escaped(value) -> str:
    # Four replace() scans cost less than one translate() with a mapping.
    return (
        str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        .replace("\r", "\\r")
    )


def _copy_format(field) -> Callable[[Any], str]:
    """How a value of `field` is written in COPY's text format.

    Writing the text ourselves, a row costs a few string operations; handing values to
    the driver row by row costs five times more on a year of payments.
    """
    kind = field.get_internal_type()
    if kind == "JSONField":
        return lambda value: _escaped(json.dumps(value, cls=field.encoder, ensure_ascii=False))
    if kind == "BooleanField":
        return lambda value: "t" if value else "f"
    if kind in ("DateTimeField", "DateField"):
        return lambda value: value.isoformat()
    if kind in _INTEGER_KINDS:
        return lambda value: str(int(value))
    return _escaped


_INTEGER_KINDS = {
    "AutoField", "BigAutoField", "BigIntegerField", "IntegerField", "PositiveBigIntegerField",
    "PositiveIntegerField", "PositiveSmallIntegerField", "SmallIntegerField", "ForeignKey",
}


def row_sql(model: type[Model], row: dict[str, Any]) -> tuple[str, str, list]:
    """One row of `model` (values by attname; defaults for the rest) for an INSERT:
    its quoted column list, its placeholders and their parameters."""
    db = connections[model.objects.db]
    values = {**_defaults(model), **row}
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and f.attname in values]
    columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
    params = [f.get_db_prep_save(values[f.attname], db) for f in fields]
    return columns, ", ".join(["%s"] * len(fields)), params


def insert_or_nothing(
    model: type[Model], row: dict[str, Any], *, conflict: list[str], unless=None
) -> int | None:
    """Insert one row (values by attname; defaults for the rest) unless a row with the
    same unique `conflict` fields exists, or the queryset `unless` finds a row; returns
    the new id, or None.

    One statement, `INSERT … ON CONFLICT DO NOTHING RETURNING` (with `unless`: `INSERT …
    SELECT … WHERE NOT EXISTS (…)`), on PostgreSQL and SQLite alike: no lookup first and
    no savepoint to catch an IntegrityError. When another transaction is writing the
    same key, the insert waits for it to end.
    """
    db = connections[model.objects.db]
    meta = model._meta
    quote = db.ops.quote_name
    columns, placeholders, params = row_sql(model, row)
    targets = ", ".join(quote(meta.get_field(name).column) for name in conflict)
    if unless is None:
        source = f"VALUES ({placeholders})"
    else:
        # The SELECT's untyped values take the types of the columns they are inserted into.
        compiler = unless.order_by().values("pk").query.get_compiler(using=db.alias)
        unless_sql, unless_params = compiler.as_sql()
        source = f"SELECT {placeholders} WHERE NOT EXISTS ({unless_sql})"
        params = [*params, *unless_params]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) {source} "
        f"ON CONFLICT ({targets}) DO NOTHING RETURNING {quote(meta.pk.column)}"
    )
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    return found[0] if found else None


def insert_together(parts: list[tuple[type[Model], list[dict[str, Any]]]]) -> list[list[int]]:
    """Insert a few rows into several tables (values by attname; defaults for the rest);
    returns each part's new ids, in id order.

    For one action's small writes to several tables (a payment's audit records, letters
    and webhook rows): on PostgreSQL one statement, a WITH holding one INSERT … RETURNING
    per table, so they cost one round trip instead of one each. Elsewhere `insert` per
    table. Every part must have rows of the same fields.
    """
    db = connections[parts[0][0].objects.db] if parts else None
    if db is None or db.vendor != "postgresql":
        return [sorted(insert(model, rows)) for model, rows in parts]
    quote = db.ops.quote_name
    inserts, selects, params = [], [], []
    for index, (model, rows) in enumerate(parts):
        if not rows:
            continue
        columns, placeholders, _ = row_sql(model, rows[0])
        for row in rows:
            row_columns, _, row_params = row_sql(model, row)
            if row_columns != columns:
                raise ValueError(f"{model._meta.label}: rows of different fields")
            params.extend(row_params)
        values = ", ".join([f"({placeholders})"] * len(rows))
        pk = quote(model._meta.pk.column)
        inserts.append(
            f"part{index} AS (INSERT INTO {quote(model._meta.db_table)} ({columns}) "
            f"VALUES {values} RETURNING {pk})"
        )
        selects.append(f"SELECT {index}, {pk} FROM part{index}")
    ids: list[list[int]] = [[] for _ in parts]
    if not inserts:
        return ids
    with db.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(inserts)} {' UNION ALL '.join(selects)}", params)
        for index, pk in cursor.fetchall():
            ids[index].append(pk)
    return [sorted(part) for part in ids]


# --- rows the database builds from other rows: one statement, nothing through Python ---


def insert_select(model: type[Model], values: dict[str, str], source: str) -> tuple[str, dict]:
    """`INSERT INTO <model's table> (…) SELECT … FROM <source>` (PostgreSQL): `values`
    maps attnames to SQL expressions over `source` (a FROM clause: a table, a CTE's
    name, joins, WHERE and ORDER BY); every other column takes its default, bound as a
    named parameter. Returns the SQL (without RETURNING) and those parameters, to be
    run alone or as a CTE of a bigger statement."""
    db = connections[model.objects.db]
    meta = model._meta
    defaults = _defaults(model)
    quote = db.ops.quote_name
    columns, expressions, params = [], [], {}
    for field in meta.concrete_fields:
        if field.primary_key:
            continue
        if field.attname in values:
            expression = values[field.attname]
        elif field.attname in defaults:
            name = f"{meta.db_table}__{field.attname}"
            params[name] = field.get_db_prep_save(defaults[field.attname], db)
            expression = f"%({name})s"
        else:
            raise ValueError(f"{meta.label}: no value for {field.attname}")
        columns.append(quote(field.column))
        expressions.append(expression)
    unknown = set(values) - {field.attname for field in meta.concrete_fields}
    if unknown:
        raise ValueError(f"{meta.label}: no such columns {', '.join(sorted(unknown))}")
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} FROM {source}"
    )
    return sql, params


def json_object(fields: dict[str, str]) -> str:
    """SQL of a jsonb object whose keys are those of `fields` and values their SQL
    expressions: the object `jsonb_build_object` makes, made from a row (`to_jsonb`),
    which costs the database a third less a row."""
    columns = ", ".join(f"{expression} AS \"{key}\"" for key, expression in fields.items())
    return f"(SELECT to_jsonb(o) FROM (SELECT {columns}) AS o)"


def query_sql(queryset) -> str:
    """A queryset's SQL with its values written in, to sit inside a bigger statement that
    binds named parameters (its own `%` doubled): the rule the queryset states stays in
    one place, the ORM's."""
    db = connections[queryset.db]
    sql, params = queryset.query.sql_with_params()
    return db.ops.compose_sql(sql, params).replace("%", "%%")
