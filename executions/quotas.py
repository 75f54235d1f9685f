"""AMC's per-instance limits, counted for the AMC instance across everyone who uses it.

AMC allows 30 ad hoc executions per instance per UTC day (saved-workflow runs do not count) and 10 running at
once. The limits belong to the AMC instance, not to a user: several users (a team) may each have an
`AMCInstance` row for the same AMC instance, so every count here is over all rows with the same `instance_id`
and `region`. Manual, scheduled and run set executions are all checked in `executions.services.start_execution`
under `lock_instance`, so two processes cannot both take the last slot.

Counted from our own records only. AMC's list of executions would also show runs started outside RecomAMP,
but asking it means a call to AMC on every start, and the web process never waits on AMC; left out for now.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from recomamp import prepared

from .models import Execution

ADHOC_PER_DAY = 30
CONCURRENT_PER_INSTANCE = 10

# Waiting to go (PENDING) or on AMC: each takes one of AMC's concurrent slots as soon as it is submitted.
RUNNING_STATUSES = (Execution.Status.PENDING, *Execution.ON_AMC_STATUSES)


@dataclass(frozen=True)
class Usage:
    adhoc_today: int = 0
    running: int = 0
    users: int = 0


def _midnight(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


# Both limits and the team's users per AMC instance in one fixed statement: it runs under the instance lock for
# every start, and the ORM spent more CPU composing the equivalent query than PostgreSQL spends running it.
# Ad hoc: no saved workflow (`amc_workflow_id` empty, no `workflowId` in the body), and either accepted by AMC
# today (UTC) or created today and about to be submitted.
USAGE_SQL = """
SELECT i.instance_id, i.region,
       COUNT(e.id) FILTER (WHERE e.amc_workflow_id = '' AND NOT (e.request_body ? 'workflowId') AND (
           (e.submitted_at >= %(midnight)s AND e.amc_execution_id <> '')
           OR (e.created_at >= %(midnight)s AND e.status = ANY(%(on_the_way)s))
       )),
       COUNT(e.id) FILTER (WHERE e.status = ANY(%(running)s)),
       COUNT(DISTINCT e.owner_id)
FROM executions_execution e
JOIN instances_amcinstance i ON i.id = e.instance_id
WHERE (i.instance_id, i.region) IN (SELECT * FROM unnest(%(ids)s::varchar[], %(regions)s::varchar[]))
GROUP BY i.instance_id, i.region
"""
USAGE = prepared.Statement("recomamp_instance_usage", USAGE_SQL)
STATUS_PARAMS = {
    "on_the_way": [Execution.Status.PENDING.value, Execution.Status.SUBMITTING.value],
    "running": [status.value for status in RUNNING_STATUSES],
}


def team_usage(instances, now: datetime) -> dict[tuple[str, str], Usage]:
    """Usage per AMC instance, keyed by (instance_id, region), in one query."""
    keys = sorted({(i.instance_id, i.region) for i in instances})
    if not keys:
        return {}
    params = {
        **STATUS_PARAMS,
        "midnight": _midnight(now),
        "ids": [instance_id for instance_id, _ in keys],
        "regions": [region for _, region in keys],
    }
    counted = dict.fromkeys(keys, Usage())
    with connection.cursor() as cursor:
        prepared.execute(cursor, USAGE, params)
        for instance_id, region, adhoc, running, users in cursor.fetchall():
            counted[(instance_id, region)] = Usage(adhoc_today=adhoc, running=running, users=users)
    return counted


def usage(instance, now: datetime) -> Usage:
    return team_usage([instance], now)[(instance.instance_id, instance.region)]


def problem(instance, now: datetime, *, adhoc: bool, used: Usage | None = None) -> str | None:
    """Why one more execution may not start on this AMC instance now, in words for the analyst; None if it may.

    `used`: the instance's usage the caller already counted under `lock_instance` in this transaction.
    """
    used = usage(instance, now) if used is None else used
    if used.running >= CONCURRENT_PER_INSTANCE:
        return (
            f"AMC runs at most {CONCURRENT_PER_INSTANCE} executions at once on instance {instance.name}, and "
            f"{used.running} are running or waiting to go for your team. Try again when one has finished."
        )
    if adhoc and used.adhoc_today >= ADHOC_PER_DAY:
        return (
            f"Your team has used AMC's {ADHOC_PER_DAY} ad hoc runs for today on instance {instance.name}. "
            "Save the query and run it as a saved workflow (those do not count), or try again after midnight UTC."
        )
    return None


def lock_key(instance) -> int:
    """The advisory-lock key of an AMC instance: its region and id, so every user's row of it shares one lock."""
    digest = hashlib.blake2b(f"amc-instance:{instance.region}:{instance.instance_id}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def lock_instance(instance) -> None:
    """Hold a per-AMC-instance lock until the current transaction ends (PostgreSQL advisory lock), so a
    check-then-create on that instance runs one at a time across processes and machines (manual runs,
    schedules and run sets alike)."""
    if not connection.in_atomic_block:
        raise RuntimeError("lock_instance needs a transaction: the lock is released when it ends")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(instance)])


def try_lock_instance(instance) -> bool:
    """`lock_instance` without waiting: False when another process holds it."""
    if not connection.in_atomic_block:
        raise RuntimeError("try_lock_instance needs a transaction: the lock is released when it ends")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_key(instance)])
        return cursor.fetchone()[0]
