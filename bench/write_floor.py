"""The *write floor*: the least the database needs to store rows a benchmark wrote.

Not a benchmark itself (no `bench_` prefix); the benches that compare against it load
it with `load_write_floor()`.
"""

import io
import time

from django.db import connection, transaction


def write_floor(models) -> dict[str, tuple[int, float, float]]:
    """Each table's rows, read out as COPY text, copied into an empty table with the
    same columns and indexes, in one transaction: no Python, no lookups, no checks.
    Returns, by table, (rows, megabytes, seconds)."""
    found = {}
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            with io.BytesIO() as buffer:
                with cursor.cursor.copy(f'COPY "{table}" TO STDOUT') as copy:
                    for chunk in copy:
                        buffer.write(chunk)
                text = buffer.getvalue()
            # A real table, not a temporary one: those skip the write-ahead log.
            cursor.execute(f'CREATE TABLE "scratch_{table}" (LIKE "{table}" INCLUDING ALL)')
            started = time.perf_counter()
            with transaction.atomic(), cursor.cursor.copy(f'COPY "scratch_{table}" FROM STDIN') as copy:
                copy.write(text)
            seconds = time.perf_counter() - started
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            found[table] = (cursor.fetchone()[0], round(len(text) / 2**20, 1), seconds)
            cursor.execute(f'DROP TABLE "scratch_{table}"')
    return found
