"""Gapless yearly numbers (invoices, УПД): one counter row per year, taken under its lock.

The lock is held until the caller's transaction ends, so concurrent issuers queue on it and
each takes distinct numbers; a rollback restores the counter, so no gap appears.
"""

from django.db import connection


def locked_counter(model, year: int):
    """The year's counter row of `model`, locked (SELECT … FOR UPDATE) until commit. The
    year's first issuer creates it; of two racing to create it, get_or_create catches the
    loser's IntegrityError (in a savepoint) and locks the winner's row."""
    counter, _created = model.objects.select_for_update().get_or_create(year=year)
    return counter


def take_numbers(model, year: int, count: int = 1) -> int:
    """Reserve `count` consecutive numbers of `year`; returns the first. One UPDATE …
    RETURNING (which takes the row's lock) once the year's row exists."""
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"UPDATE {table} SET last_number = last_number + %s WHERE year = %s RETURNING last_number"
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, year])
        found = cursor.fetchone()
    if found is not None:
        return found[0] - count + 1
    counter = locked_counter(model, year)
    counter.last_number += count
    counter.save(update_fields=["last_number"])
    return counter.last_number - count + 1
