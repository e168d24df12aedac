"""Writing and reading many rows at once: what a bank statement of a year needs.

`insert` takes plain values, not model instances: building a hundred thousand model
objects costs more than writing their rows. On PostgreSQL the rows go by COPY, the
ids taken from the table's sequence first; elsewhere by `bulk_create`. Either way a
conflict on a unique key raises IntegrityError and writes nothing of that call.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connections
from django.db.models import NOT_PROVIDED, Model

# Values per IN query: far below SQLite's and PostgreSQL's limits, big enough to be few.
CHUNK = 2000


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
    if db.vendor != "postgresql":
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
    # COPY takes Python values as they are and psycopg adapts them; only JSON needs
    # Django's preparation (the Jsonb wrapper).
    json_fields = {
        field.attname: field for field in fields if field.get_internal_type() == "JSONField"
    }
    quote = db.ops.quote_name
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        columns = ", ".join(quote(column) for column in [meta.pk.column, *(f.column for f in fields)])
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            write = copy.write_row
            for pk, row in zip(ids, rows, strict=True):
                values = [pk]
                for name in attnames:
                    value = row[name] if name in row else defaults[name]
                    if name in json_fields:
                        value = json_fields[name].get_db_prep_save(value, db)
                    values.append(value)
                write(values)
    return ids
