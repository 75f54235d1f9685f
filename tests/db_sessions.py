"""Dropping database sessions from the side, as a PostgreSQL restart, a failover or a network cut would.

`side_connection()` opens a plain psycopg connection to the test database, separate from Django's; `terminate(pid)`
ends a session with `pg_terminate_backend` from that side connection, so the victim sees its connection die in the
middle of whatever it was doing.
"""

from contextlib import closing, contextmanager

import psycopg
from django.db import connection


def side_connection() -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"] or None, password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None, port=settings["PORT"] or None, autocommit=True,
    )  # fmt: skip


def backend_pid() -> int:
    """The PostgreSQL session id of Django's connection in the calling thread (opening it if needed)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def terminate(pid: int) -> None:
    with closing(side_connection()) as side:
        ended = side.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
    assert ended, f"session {pid} was not terminated"


@contextmanager
def worker_session():
    """A second session standing in for another worker process; yields (connection, its pid)."""
    with closing(side_connection()) as conn:
        yield conn, conn.execute("SELECT pg_backend_pid()").fetchone()[0]
