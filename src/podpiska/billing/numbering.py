"""Gapless yearly numbers (invoices, УПД): one counter row per year, taken under its lock.

The lock is held until the caller's transaction ends, so concurrent issuers queue on it and
each takes distinct numbers; a rollback restores the counter, so no gap appears.

Numbers are taken by one upsert on the year's row (`_take_sql`): it creates the row with the
year's first numbers, or adds to it under the row's lock. Of two issuers racing to create
the year's row, the second waits for the first to commit and then adds to its row.
"""

from django.db import connection

from podpiska.core import bulk


def locked_counter(model, year: int):
    """The year's counter row of `model`, locked (SELECT … FOR UPDATE) until commit. The
    year's first issuer creates it; of two racing to create it, get_or_create catches the
    loser's IntegrityError (in a savepoint) and locks the winner's row."""
    counter, _created = model.objects.select_for_update().get_or_create(year=year)
    return counter


def _take_sql(model) -> str:
    """The upsert that reserves numbers of a year (parameters: the year, how many) and
    returns the last one."""
    table = connection.ops.quote_name(model._meta.db_table)
    return (
        f"INSERT INTO {table} AS counter (year, last_number) VALUES (%s, %s) "
        f"ON CONFLICT (year) DO UPDATE SET last_number = counter.last_number + excluded.last_number "
        f"RETURNING last_number"
    )


def take_numbers(model, year: int, count: int = 1) -> int:
    """Reserve `count` consecutive numbers of `year`; returns the first. One statement,
    which takes the row's lock (creating the year's row if it is the first)."""
    with connection.cursor() as cursor:
        cursor.execute(_take_sql(model), [year, count])
        (last,) = cursor.fetchone()
    return last - count + 1


def insert_numbered(model, counter, row: dict) -> tuple[int, int]:
    """Insert `row` (values by attname, `year` among them) into `model`'s table with the
    next number of its year from `counter`; returns (id, number).

    On PostgreSQL one statement: the counter's upsert in a WITH and the INSERT taking the
    number from it, so a single payment's УПД costs one round trip, with the same lock
    and the same gapless numbers as `take_numbers`. Elsewhere `take_numbers`, then the
    INSERT.
    """
    if connection.vendor != "postgresql":
        number = take_numbers(counter, row["year"])
        return bulk.insert(model, [{**row, "number": number}])[0], number
    columns, placeholders, params = bulk.row_sql(model, row)
    quote = connection.ops.quote_name
    # The upsert returns exactly one row: the subquery is the number taken.
    sql = (
        f"WITH taken AS ({_take_sql(counter)}) "
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}, number) "
        f"VALUES ({placeholders}, (SELECT last_number FROM taken)) "
        f"RETURNING {quote(model._meta.pk.column)}, number"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [row["year"], 1, *params])
        pk, number = cursor.fetchone()
    return pk, number
