"""Polling AMC for the status of submitted executions: the follower's hottest path, one call per execution every
5 to 60 seconds.

A poll is one statement to claim the row's lease and read what the poll needs, one AMC call, and one conditional
update of the status (`lifecycle.apply_amc_status`). The claim and the read are a single `UPDATE … RETURNING`
written in SQL: through the ORM they were two statements and two thirds of a poll's CPU (docs/benchmarks.md).
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from datetime import timedelta

from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from instances.models import AdvertiserAccount, AMCInstance
from recomamp import dropped_connections, rows
from recomamp.amc import errors as amc_errors

from . import leases, lifecycle, services
from .models import Execution

# What a poll reads: the AMC ids, the owner for the client, the instance's reference, and what the status update
# and the backoff use.
EXECUTION_COLUMNS = rows.attnames(Execution, "id", "execution_id", "amc_execution_id", "status", "submitted_at",
                                  "started_at", "poll_failures", "owner_id")  # fmt: skip
INSTANCE_COLUMNS = rows.attnames(AMCInstance, "id", "instance_id", "region")
ACCOUNT_COLUMNS = rows.attnames(AdvertiserAccount, "id", "entity_id", "marketplace_id")


def _claim_and_read_sql() -> str:
    """Take the lease of a row still due at `due` and held by nobody, returning the poll's columns in one trip."""
    returning = [rows.columns(Execution, "e", EXECUTION_COLUMNS), rows.columns(AMCInstance, "i", INSTANCE_COLUMNS),
                 rows.columns(AdvertiserAccount, "a", ACCOUNT_COLUMNS)]  # fmt: skip
    return (
        f"UPDATE {Execution._meta.db_table} AS e SET lease_until = %s "
        f"FROM {AMCInstance._meta.db_table} AS i JOIN {AdvertiserAccount._meta.db_table} AS a ON a.id = i.account_id "
        "WHERE e.id = %s AND i.id = e.instance_id AND e.next_poll_at = %s "
        "AND (e.lease_until IS NULL OR e.lease_until <= %s) "
        f"RETURNING {', '.join(returning)}"
    )


CLAIM_AND_READ = _claim_and_read_sql()


def claim_for_poll(pk: int, due_at, now) -> tuple[Execution, object] | None:
    """The lease (see `executions.leases`) of a row due at `due_at` and free at `now`, with the execution the poll
    needs (its instance and account attached); None when another worker polled or holds it."""
    token = leases.new_token()
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_AND_READ, [token, pk, due_at, now])
        row = cursor.fetchone()
    if row is None:
        return None
    n, m = len(EXECUTION_COLUMNS), len(INSTANCE_COLUMNS)
    account = rows.build(AdvertiserAccount, row[n + m :], ACCOUNT_COLUMNS)
    instance = rows.build(AMCInstance, row[n : n + m], INSTANCE_COLUMNS)
    instance.account = account
    execution = rows.build(Execution, row[:n], EXECUTION_COLUMNS)
    execution.instance = instance
    return execution, token


# --- One cycle ---------------------------------------------------------------------------------------------------


def poll_due(now, *, limit: int = 500, max_workers: int | None = None, client_factory=None) -> int:
    """Poll executions whose next poll is due, concurrently (each thread claims its rows by lease).

    Each thread takes due rows one at a time until none are left and closes its database connection once at the
    end, not after every poll. With the product's client factory, the cycle keeps one AMC client per thread and owner
    (`CycleClients`), so an owner's token is read and decrypted once per thread, not once per poll.
    """
    due = list(
        Execution.objects.filter(status__in=Execution.POLLED_STATUSES, next_poll_at__lte=now)
        .filter(leases.free(now))
        .order_by("next_poll_at")
        .values_list("pk", "next_poll_at")[:limit]
    )
    if not due:
        return 0
    workers = min(max_workers or getattr(settings, "EXECUTION_POLL_CONCURRENCY", 8), len(due))
    own_clients = client_factory in (None, services.default_client)  # the product's clients: keep them per cycle
    factory = CycleClients() if own_clients else client_factory
    try:
        if workers <= 1:
            return sum(poll_one(pk, lease_from, now, factory) for pk, lease_from in due)
        pending, lock = iter(due), threading.Lock()

        def take():
            with lock:
                return next(pending, None)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            return sum(pool.map(lambda _: _poll_in_thread(take, now, factory), range(workers)))
    finally:
        if own_clients:
            factory.close()


def _poll_in_thread(take, now, client_factory) -> int:
    polled = 0
    try:
        while (item := take()) is not None:
            polled += poll_one(*item, now, client_factory)
        return polled
    finally:
        connections.close_all()  # each thread has its own connection; do not leak it


class CycleClients:
    """A client factory for one poll cycle: one AMC client per (thread, owner, region), kept open until `close`.

    The client's token provider keeps the decrypted token, so the cycle does not read and decrypt it per poll.
    """

    def __init__(self):
        self._local = threading.local()
        self._opened: list = []
        self._lock = threading.Lock()

    def __call__(self, execution: Execution):
        clients = self._local.__dict__.setdefault("clients", {})
        key = (execution.owner_id, execution.instance.region)
        if key not in clients:
            clients[key] = services.default_client(execution)
            with self._lock:
                self._opened.append(clients[key])
        return nullcontext(clients[key])  # `with factory(execution) as client` must not close it

    @property
    def opened(self) -> int:
        return len(self._opened)

    def close(self) -> None:
        for client in self._opened:
            client.close()


# --- One poll ----------------------------------------------------------------------------------------------------


@dropped_connections.skips_item("poll of execution")
def poll_one(pk: int, due_at, now, client_factory) -> int:
    # Due at the time we listed it and held by nobody: a row another worker polled meanwhile has moved on.
    claimed = claim_for_poll(pk, due_at, now)
    if claimed is None:
        return 0
    execution, lease = claimed
    try:
        with leases.held(pk, lease), client_factory(execution) as client:
            amc_execution = client.get_execution(execution.instance, execution.amc_execution_id)
    except amc_errors.AMCThrottledError as exc:
        _reschedule(execution, timedelta(seconds=max(exc.retry_after or 0, 15)), exc)
        return 1
    except (amc_errors.AMCServerError, amc_errors.AMCTimeoutError, amc_errors.AMCConnectionError) as exc:
        backoff = min(timedelta(seconds=15 * 2 ** min(execution.poll_failures, 5)), timedelta(minutes=10))
        _reschedule(execution, backoff, exc)
        return 1
    except amc_errors.AMCNotFoundError as exc:
        lifecycle.fail_execution(execution, "AMCNotFoundError", f"AMC no longer knows this execution: {exc}")
        return 1
    except amc_errors.AMCError as exc:
        _reschedule(execution, timedelta(minutes=2), exc)
        return 1
    except Exception as exc:  # e.g. the user's Amazon connection needs re-authentication
        _reschedule(execution, timedelta(minutes=5), exc)
        return 1
    lifecycle.apply_amc_status(execution, amc_execution, now=now)
    return 1


def _reschedule(execution: Execution, delay: timedelta, exc: Exception) -> None:
    now = timezone.now()
    Execution.objects.filter(pk=execution.pk).update(
        next_poll_at=now + delay,
        lease_until=None,
        poll_failures=execution.poll_failures + 1,
        last_polled_at=now,
        error_message=f"Last poll failed ({type(exc).__name__}): {exc}",
    )
