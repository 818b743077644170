"""Database helpers shared by the apps."""

from contextlib import contextmanager

from django.db import connection


@contextmanager
def bound_cursor():
    """A PostgreSQL cursor that sends parameters apart from the SQL (server-side binding).

    Django's psycopg cursors bind on the client: every parameter is quoted into the SQL text in Python, which for
    the array parameters of the bulk ingest and scoring statements cost about 30 µs per mention (docs/benchmarks.md).
    Runs inside the current transaction; Django's query logging does not see these statements.
    """
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        yield cursor
