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
from django.db.models import Count, Q

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


def adhoc_today(now: datetime, prefix: str = "") -> Q:
    """Ad hoc executions AMC accepted today (UTC); `prefix` reaches them through a relation."""
    counted = Q(**{f"{prefix}submitted_at__gte": _midnight(now), f"{prefix}amc_workflow_id": ""})
    return counted & ~Q(**{f"{prefix}amc_execution_id": ""})


def adhoc_counted(now: datetime) -> Q:
    """What counts against today's ad hoc quota: accepted today, or created today and about to be submitted."""
    on_the_way = Q(status__in=(Execution.Status.PENDING, Execution.Status.SUBMITTING), created_at__gte=_midnight(now))
    return (adhoc_today(now) | on_the_way) & Q(amc_workflow_id="") & ~Q(request_body__has_key="workflowId")


def same_instance(instance) -> Q:
    """Executions on the same AMC instance as `instance`, whoever's row they were started from."""
    return Q(instance__instance_id=instance.instance_id, instance__region=instance.region)


def team_usage(instances, now: datetime) -> dict[tuple[str, str], Usage]:
    """Usage per AMC instance, keyed by (instance_id, region), in one query."""
    keys = {(i.instance_id, i.region) for i in instances}
    if not keys:
        return {}
    which = Q()
    for instance_id, region in keys:
        which |= Q(instance__instance_id=instance_id, instance__region=region)
    rows = (
        Execution.objects.filter(which)
        .values("instance__instance_id", "instance__region")
        .annotate(
            adhoc=Count("pk", filter=adhoc_counted(now)),
            running=Count("pk", filter=Q(status__in=RUNNING_STATUSES)),
            users=Count("owner", distinct=True),
        )
    )
    usage = {key: Usage() for key in keys}
    for row in rows:
        key = (row["instance__instance_id"], row["instance__region"])
        usage[key] = Usage(adhoc_today=row["adhoc"], running=row["running"], users=row["users"])
    return usage


def usage(instance, now: datetime) -> Usage:
    return team_usage([instance], now)[(instance.instance_id, instance.region)]


def problem(instance, now: datetime, *, adhoc: bool) -> str | None:
    """Why one more execution may not start on this AMC instance now, in words for the analyst; None if it may."""
    used = usage(instance, now)
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
