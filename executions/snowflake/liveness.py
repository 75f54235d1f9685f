"""Whether a running Snowflake load still has a live worker, from PostgreSQL itself.

A worker holds a session advisory lock on the delivery for the whole load (`loading`). PostgreSQL releases it the
moment that worker's session ends, so a load whose lock is free is one nobody is doing any more: its worker was
killed, or its connection to our database dropped. No lease to size, no heartbeat to send, and a load of any
length is never mistaken for a dead one. (Session locks need a direct connection or session pooling, which is
what the deployment in docs/operations.md uses.)
"""

from contextlib import contextmanager

from django.db import DatabaseError, connection

LOCK_SPACE = 730_201  # first key of the two-key advisory lock; the second is the delivery's id


@contextmanager
def loading(delivery_id: int):
    """Hold the delivery's load lock while the block runs (waits for a recovery pass that is checking it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_SPACE, delivery_id])
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_SPACE, delivery_id])
        except DatabaseError:
            pass  # the connection is gone, and the lock went with it


@contextmanager
def abandoned(delivery_id: int):
    """Yields True, holding the lock, when no worker is loading this delivery (so none can start meanwhile)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_SPACE, delivery_id])
        free = cursor.fetchone()[0]
    try:
        yield free
    finally:
        if free:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_SPACE, delivery_id])
