"""Surviving a database connection dropped in the middle of a worker cycle.

PostgreSQL may end a session at any moment (a restart, a failover, `pg_terminate_backend`, a network cut). The
dispatcher and the follower handle many items per cycle; a dropped connection must cost only the item it hit:
`item()` closes the broken connection (Django opens a new one on the next query) and lets the cycle go on. Every
step claims its rows with conditional updates, so an item abandoned half-way is picked up by a later cycle.
"""

import logging
from contextlib import contextmanager
from functools import wraps

from django.db import DatabaseError, connection

log = logging.getLogger(__name__)


def is_dropped(exc: BaseException) -> bool:
    """Whether `exc` means the connection itself is gone (not a constraint or a bad query)."""
    if not isinstance(exc, DatabaseError):
        return False
    if connection.connection is None or getattr(connection.connection, "closed", False):
        return True
    return not connection.is_usable()


def discard_broken_connection() -> None:
    """Close this thread's connection if it no longer works, so the next query reconnects."""
    if connection.in_atomic_block:
        return  # the enclosing transaction is lost anyway; its owner rolls back and closes
    connection.close_if_unusable_or_obsolete()
    if connection.connection is not None and not connection.is_usable():
        connection.close()


@contextmanager
def item(what: str, key):
    """Run one item of a cycle; a dropped connection fails only this item (logged), and the cycle continues."""
    try:
        yield
    except DatabaseError as exc:
        if not is_dropped(exc):
            raise
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
