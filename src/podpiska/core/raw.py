"""Hand-written SQL for the few statements a hot request path runs thousands of times.

There the ORM's query building costs several times the round trip itself (the API's
spending path reads a key and a period on every call). `columns` names a model's
columns for a SELECT, `instance` turns the row back into the model the ORM would have
returned (values converted as the ORM converts them, e.g. SQLite's datetimes), and
`cursor` runs the statement prepared on PostgreSQL.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model


@contextmanager
def cursor(using: str = DEFAULT_DB_ALIAS) -> Iterator:
    """Django's cursor; on PostgreSQL one whose statements are prepared.

    Django spells the values into the SQL (client-side binding) and never prepares,
    because not every query the ORM builds can be bound by the server and because a
    pooler in transaction mode may hand the next statement to another connection. A
    hand-written statement can be bound by the server, and prepared once per (persistent)
    connection it is not parsed and planned again: measured on the API's spending path,
    the key's look-up costs PostgreSQL 35 µs instead of 125, the period's 45 instead of
    420 (a join planned every time), the spending with its record 360 instead of 600.
    Behind PgBouncer, use 1.21 or newer with `max_prepared_statements` set.
    The cursor is still Django's wrapper (errors, query logging, counting in tests).
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        with connection.cursor() as wrapper:
            yield wrapper
        return
    # What `connection.cursor()` does, with our cursor in place of Django's own.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    driver = connection.connection
    if driver.prepare_threshold is None:
        # Django turns preparing off for the whole connection. Its own cursors bind on
        # the client and never prepare whatever this says; with a threshold never
        # reached, only statements asked to be are prepared.
        driver.prepare_threshold = ONLY_WHEN_ASKED
    with connection.wrap_database_errors:
        bound = _ServerBoundCursor(driver)
    # Only bound by the server, not prepared: on a connection closed after the request
    # (CONN_MAX_AGE 0) preparing would cost a round trip and save none; while queries
    # are logged (DEBUG, counted in tests) Django's log reads the SQL of the last
    # statement sent, which psycopg does not keep for a prepared one.
    bound.prepare = connection.settings_dict["CONN_MAX_AGE"] != 0 and not connection.queries_logged
    connection.validate_thread_sharing()
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    with wrap(bound) as wrapper:
        yield wrapper


# psycopg prepares a statement after this many runs unless asked to at once.
ONLY_WHEN_ASKED = 2**31 - 1


class _ServerBoundCursor(psycopg.Cursor):
    """Binds on the server; prepares every statement it executes, or none. Results come
    in PostgreSQL's binary format, which psycopg reads in C (a quarter less time for the
    key's row than reading text); `instance` converts them as the ORM would."""

    prepare = True

    def execute(self, query, params=None, *, prepare=None, binary=True):
        return super().execute(query, params, prepare=self.prepare, binary=binary)


def columns(model: type[Model], alias: str, using: str = DEFAULT_DB_ALIAS) -> str:
    """`alias.column, …` of every concrete field of `model`, in `instance`'s order."""
    quote = connections[using].ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def width(model: type[Model]) -> int:
    """How many values of a row `columns` selects."""
    return len(model._meta.concrete_fields)


def instance(model: type[Model], values: Sequence, using: str = DEFAULT_DB_ALIAS) -> Model:
    """The instance of `model` whose columns (as `columns` selected them) are `values`."""
    connection = connections[using]
    names, converted = _reading(model, using)
    if converted:
        values = list(values)
        for index, expression in converted:
            # The converters are the connection's own (it is per thread), so they are
            # asked for here; which columns have any is known once.
            for convert in _converters(expression, connection):
                values[index] = convert(values[index], expression, connection)
    return model.from_db(using, names, values)


def _converters(expression, connection) -> list:
    return connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)


@functools.cache
def _reading(model: type[Model], using: str):
    connection = connections[using]
    fields = model._meta.concrete_fields
    expressions = [field.get_col(model._meta.db_table) for field in fields]
    converted = [
        (index, expression)
        for index, expression in enumerate(expressions)
        if _converters(expression, connection)
    ]
    return [field.attname for field in fields], converted
