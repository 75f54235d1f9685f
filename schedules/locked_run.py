"""The run `submit_run` is about to submit: locked, with everything submitting it reads, in one statement.

Submission is the slot's hottest step after the claim. Through the ORM the run row with its schedule, query,
instance, account and owner was the most expensive statement of a submission to compose (more CPU than PostgreSQL
spent on it), and the query's latest version and the overlap check were two more; here they are one fixed
statement built from the models (`recomamp.rows`).
"""

from dataclasses import dataclass

from django.db import connection

from accounts.models import User
from instances.models import AdvertiserAccount, AMCInstance
from queries.models import QueryVersion, Workflow
from recomamp import prepared, rows

from .models import Schedule, ScheduleRun

SUBMITTABLE = [ScheduleRun.Status.CLAIMED.value, ScheduleRun.Status.RETRYING.value, ScheduleRun.Status.WAITING.value]
OPEN = [ScheduleRun.Status.CLAIMED.value, ScheduleRun.Status.SUBMITTED.value, ScheduleRun.Status.RUNNING.value]
MODELS = (ScheduleRun, Schedule, Workflow, AMCInstance, AdvertiserAccount, User, QueryVersion)


def _lock_sql() -> str:
    run, schedule, version = ScheduleRun._meta.db_table, Schedule._meta.db_table, QueryVersion._meta.db_table
    selected = ", ".join(rows.columns(model, alias) for model, alias in zip(MODELS, "rswiauv", strict=True))
    # SKIP LOCKED: a run another worker is submitting is theirs. `previous_open`: an earlier real run of the same
    # schedule on the same instance still going (each target instance overlaps only with itself).
    return f"""
        SELECT {selected},
               EXISTS (SELECT 1 FROM {run} earlier
                       WHERE earlier.schedule_id = r.schedule_id AND earlier.instance_id = r.instance_id
                         AND earlier.scheduled_for < r.scheduled_for
                         AND NOT earlier.is_test AND earlier.status = ANY(%(open)s))
        FROM {run} r
        JOIN {schedule} s ON s.id = r.schedule_id
        JOIN {Workflow._meta.db_table} w ON w.id = s.workflow_id
        JOIN {AMCInstance._meta.db_table} i ON i.id = r.instance_id
        JOIN {AdvertiserAccount._meta.db_table} a ON a.id = i.account_id
        JOIN {User._meta.db_table} u ON u.id = s.owner_id
        LEFT JOIN LATERAL (SELECT * FROM {version} WHERE workflow_id = w.id ORDER BY number DESC LIMIT 1) v ON TRUE
        WHERE r.id = %(run)s AND r.status = ANY(%(submittable)s)
        FOR UPDATE OF r SKIP LOCKED
    """


LOCK_RUN = prepared.Statement("recomamp_lock_run", _lock_sql())


@dataclass
class LockedRun:
    run: ScheduleRun  # with .schedule (its .workflow and .owner) and .instance (its .account) attached
    previous_open: bool
    latest_version: QueryVersion | None  # the query's latest version, for `start_execution`

    @property
    def schedule(self) -> Schedule:
        return self.run.schedule


def lock_run(run_pk: int) -> LockedRun | None:
    """Lock a run that may be submitted (claimed, retrying or waiting) until the transaction ends; None when it
    is not in such a state or another worker holds it."""
    if not connection.in_atomic_block:
        raise RuntimeError("lock_run needs a transaction: the lock is released when it ends")
    row = prepared.fetch_one(LOCK_RUN, {"run": run_pk, "submittable": SUBMITTABLE, "open": OPEN})
    if row is None:
        return None
    run, schedule, workflow, instance, account, owner, version, previous_open = rows.split(row, *MODELS)
    schedule.workflow, schedule.owner = workflow, owner
    instance.account = account
    run.schedule, run.instance = schedule, instance
    if version is not None:
        version.workflow = workflow
    return LockedRun(run, previous_open, version)
