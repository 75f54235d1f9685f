"""AMC's per-instance limits, and how we count what we sent against them.

30 ad hoc executions per instance per UTC day (saved-workflow runs do not count) and 10 running at once.
"""

from datetime import datetime

from django.db import connection
from django.db.models import Q

ADHOC_PER_DAY = 30
CONCURRENT_PER_INSTANCE = 10


def adhoc_today(now: datetime, prefix: str = "") -> Q:
    """Executions that count against today's ad hoc quota; `prefix` reaches them through a relation."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    counted = Q(**{f"{prefix}submitted_at__gte": midnight, f"{prefix}amc_workflow_id": ""})
    return counted & ~Q(**{f"{prefix}amc_execution_id": ""})


def instance_lock_name(instance_pk) -> str:
    """The advisory lock every dispatcher (schedules, run sets) takes before counting an instance's executions."""
    return f"amc-instance:{instance_pk}"


def lock_instance(instance) -> None:
    """Hold the instance's lock until the current transaction ends, so "count its active executions, then create
    one" is one step: two dispatchers can no longer both pass the check at 9 of 10 (pg_advisory_xact_lock)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [instance_lock_name(instance.pk)])
