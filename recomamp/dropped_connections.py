"""Surviving a database connection dropped in the middle of a worker cycle.

PostgreSQL may end a session at any moment (a restart, a failover, `pg_terminate_backend`, a network cut). The
dispatcher and the follower handle many items per cycle; a dropped connection must cost only the item it hit:
`item()` closes the broken connection (Django opens a new one on the next query) and lets the cycle go on. Every
step claims its rows with conditional updates, so an item abandoned half-way is picked up by a later cycle.
"""

import logging
from contextlib import contextmanager
from functools import wraps

from django.db import DatabaseError, InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)


# SQLSTATEs of a session the server ended: connection exceptions (class 08), admin or crash shutdown.
ENDED_SESSION_STATES = ("08", "57P01", "57P02", "57P03")


def is_dropped(exc: BaseException) -> bool:
    """Whether `exc` means the connection itself is gone (not a constraint, a lock timeout or a bad query).

    Judged from the error, not from the connection: Django may already have replaced a connection it found broken.
    """
    if isinstance(exc, InterfaceError):
        return True  # "connection already closed"
    if not isinstance(exc, OperationalError):
        return False  # integrity, data and programming errors are the query's, not the connection's
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(ENDED_SESSION_STATES)  # None: the socket closed under us


def discard_broken_connection() -> None:
    """Close this thread's broken connection (outside any transaction), so the next query reconnects."""
    connection.close()


@contextmanager
def item(what: str, key):
    """Run one item of a cycle; a dropped connection fails only this item (logged), and the cycle continues."""
    try:
        yield
    except DatabaseError as exc:
        if not is_dropped(exc) or connection.in_atomic_block:
            raise  # not a lost connection, or the caller's own transaction is lost with it: theirs to handle
        log.warning("database connection lost during %s %s; skipped until the next cycle: %s", what, key, exc)
        discard_broken_connection()


def skips_item(what: str, default=0):
    """Decorate the function that handles one item (its first argument names it): on a dropped connection it
    returns `default` instead of failing its caller's whole cycle."""

    def decorate(function):
        @wraps(function)
        def run(key, *args, **kwargs):
            with item(what, key):
                return function(key, *args, **kwargs)
            return default

        return run

    return decorate


def step(what: str, function, *args, default=0, **kwargs):
    """One step of a cycle (e.g. listing due rows): a dropped connection skips the step, not the cycle."""
    with item("step", what):
        return function(*args, **kwargs)
    return default
