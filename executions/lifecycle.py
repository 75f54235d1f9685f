"""Every status transition of an execution, each a small function named after what happens.

Each transition is a conditional update (`filter(status=…).update(…)`), so a transition happens once even when
django-q2 delivers a task twice or several workers race; a function returns whether it moved the row. No other
module writes `Execution.status` (tests/test_architecture.py checks it).

PENDING → SUBMITTING → QUEUED/RUNNING/PUBLISHING (AMC's PENDING, RUNNING, PUBLISHING, as AMC reports them) →
FETCHING → SUCCEEDED, with FAILED and CANCELLED from any active state. A cancel asked during SUBMITTING is
recorded (`request_cancel`) and carried out by the submitting worker once AMC has given an id.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from accounts.models import User
from instances.models import AdvertiserAccount, AMCInstance
from queries.models import Workflow, WorkflowSync
from recomamp import prepared, rows
from recomamp.amc import errors as amc_errors

from . import retry
from .models import Execution
from .signals import execution_finished as execution_finished_signal

log = logging.getLogger(__name__)

FIRST_POLL_AFTER = timedelta(seconds=5)
# A queued submission task that has not run by then is presumed lost; the recovery pass submits instead.
SUBMIT_TASK_GRACE = timedelta(seconds=30)


# AMC's statuses of an execution it holds, and ours for each (anything else AMC may add waits as queued).
AMC_ACTIVE_STATUSES = {
    "PENDING": Execution.Status.QUEUED,
    "RUNNING": Execution.Status.RUNNING,
    "PUBLISHING": Execution.Status.PUBLISHING,
}


def _ours(amc_status: str) -> str:
    return AMC_ACTIVE_STATUSES.get(amc_status, Execution.Status.QUEUED)


def _claim_submission_sql() -> str:
    execution, sync = Execution._meta.db_table, WorkflowSync._meta.db_table
    models, aliases = (Execution, AMCInstance, AdvertiserAccount, User, Workflow, WorkflowSync), "eiauws"
    selected = ", ".join(rows.columns(model, alias) for model, alias in zip(models, aliases, strict=True))
    return f"""
        WITH e AS (
            UPDATE {execution} SET status = %(submitting)s, submit_attempted_at = %(now)s, updated_at = %(now)s,
                                   lease_until = %(lease)s
            WHERE id = %(pk)s AND status = %(pending)s AND cancel_requested_at IS NULL
            RETURNING *
        )
        SELECT {selected}
        FROM e
        JOIN {AMCInstance._meta.db_table} i ON i.id = e.instance_id
        JOIN {AdvertiserAccount._meta.db_table} a ON a.id = i.account_id
        JOIN {User._meta.db_table} u ON u.id = e.owner_id
        LEFT JOIN {Workflow._meta.db_table} w ON w.id = e.workflow_id
        LEFT JOIN {sync} s ON s.workflow_id = e.workflow_id AND s.instance_id = e.instance_id
    """


# The claim and the read of everything submitting reads, in one statement: through the ORM they were the two most
# expensive statements of a submission to compose (docs/benchmarks.md).
CLAIM_SUBMISSION = prepared.Statement("recomamp_claim_submission", _claim_submission_sql())


@dataclass
class ClaimedSubmission:
    execution: Execution  # with .instance (its .account), .owner and .workflow attached
    sync: WorkflowSync | None  # the saved workflow's copy on this instance, if it has been pushed there


def claim_submission(execution_pk: int, now: datetime, lease_until: datetime | None = None) -> ClaimedSubmission | None:
    """PENDING → SUBMITTING: only one caller claims the row (never one whose cancel was asked for), holding its
    lease (`executions.leases`) meanwhile. The claimed execution with what its submission reads; None if not
    claimed."""
    params = {"pk": execution_pk, "now": now, "lease": lease_until,
              "pending": Execution.Status.PENDING.value, "submitting": Execution.Status.SUBMITTING.value}  # fmt: skip
    row = prepared.fetch_one(CLAIM_SUBMISSION, params)
    if row is None:
        return None
    execution, instance, account, owner, workflow, sync = rows.split(
        row, Execution, AMCInstance, AdvertiserAccount, User, Workflow, WorkflowSync
    )
    instance.account = account
    execution.instance, execution.owner, execution.workflow = instance, owner, workflow
    if sync is not None:
        sync.workflow, sync.instance = workflow, instance
    return ClaimedSubmission(execution, sync)


def uses_saved_workflow(execution: Execution) -> bool:
    """Whether this execution runs its saved workflow by id (the rule is `queries.amc_request.runs_saved_workflow`)."""
    return execution.workflow is not None and "workflowId" in (execution.request_body or {})


# AMC's answer to a submission, in SQL like the claim; conditional so that a late answer never overwrites a recovery
# that already adopted an id. It returns whether a cancel was asked meanwhile, which saves a read.
RECORD_SUBMISSION = prepared.Statement(
    "recomamp_record_submission",
    f"UPDATE {Execution._meta.db_table} SET amc_execution_id = %(amc_id)s, amc_workflow_id = %(amc_workflow)s, "
    "status = %(status)s, amc_status = %(amc_status)s, submitted_at = %(now)s, next_poll_at = %(first_poll)s, "
    "lease_until = NULL, error_kind = '', error_message = '', updated_at = %(now)s "
    "WHERE id = %(pk)s AND status = %(submitting)s AND amc_execution_id = '' "
    "RETURNING cancel_requested_at",
)


def record_submission(execution: Execution, amc_execution_id: str, amc_status: str) -> bool:
    """Store AMC's id and status; whether it was stored. `execution.cancel_requested_at` is refreshed with it."""
    now = timezone.now()
    params = {
        "amc_id": amc_execution_id,
        "amc_workflow": execution.workflow.workflow_id if uses_saved_workflow(execution) else "",
        "status": _ours(amc_status),
        "amc_status": amc_status,
        "now": now,
        "first_poll": now + FIRST_POLL_AFTER,
        "pk": execution.pk,
        "submitting": Execution.Status.SUBMITTING.value,
    }
    row = prepared.fetch_one(RECORD_SUBMISSION, params)
    if row is None:
        return False
    execution.cancel_requested_at = row[0]
    log.info("execution submitted execution=%s amc_execution=%s", execution.execution_id, amc_execution_id)
    return True


def back_to_pending(execution: Execution, exc: amc_errors.AMCError, delay: timedelta) -> None:
    now = timezone.now()
    Execution.objects.filter(pk=execution.pk, status=Execution.Status.SUBMITTING).update(
        status=Execution.Status.PENDING,
        next_poll_at=now + delay,
        lease_until=None,
        error_kind=type(exc).__name__,
        error_message=str(exc),
        updated_at=now,
    )


def release_stuck_submission(execution: Execution) -> bool:
    """SUBMITTING → PENDING after recovery found nothing on AMC, unless another attempt started meanwhile."""
    now = timezone.now()
    return bool(
        Execution.objects.filter(
            pk=execution.pk, status=Execution.Status.SUBMITTING, submit_attempted_at=execution.submit_attempted_at
        ).update(status=Execution.Status.PENDING, next_poll_at=now, lease_until=None, updated_at=now)
    )


def record_error(execution: Execution, exc: amc_errors.AMCError) -> None:
    Execution.objects.filter(pk=execution.pk).update(error_kind=type(exc).__name__, error_message=str(exc))


def fail_with_amc_error(execution: Execution, exc: amc_errors.AMCError) -> None:
    fields = {"error_code": exc.code or ""}
    if isinstance(exc, amc_errors.AMCValidationError):
        fields.update(
            error_line=exc.line, error_column=exc.column, error_end_line=exc.end_line, error_end_column=exc.end_column
        )
    fail_execution(execution, type(exc).__name__, str(exc), **fields)


def fail_execution(execution: Execution, kind: str, message: str, **fields) -> None:
    now = timezone.now()
    updated = Execution.objects.filter(pk=execution.pk, status__in=Execution.ACTIVE_STATUSES).update(
        status=Execution.Status.FAILED,
        error_kind=kind,
        error_message=message,
        finished_at=now,
        updated_at=now,
        **fields,
    )
    if updated:
        log.warning("execution failed execution=%s kind=%s", execution.execution_id, kind)
        execution_finished(execution.pk)


def cancel_pending(execution: Execution) -> bool:
    """PENDING → CANCELLED: not yet submitted, so nothing to tell AMC."""
    now = timezone.now()
    return bool(
        Execution.objects.filter(pk=execution.pk, status=Execution.Status.PENDING).update(
            status=Execution.Status.CANCELLED, finished_at=now, updated_at=now
        )
    )


def request_cancel(execution: Execution) -> bool:
    """Cancel asked while the submission is under way (no AMC id yet): recorded for the submitting worker."""
    now = timezone.now()
    return bool(
        Execution.objects.filter(pk=execution.pk, status=Execution.Status.SUBMITTING, amc_execution_id="").update(
            cancel_requested_at=now, updated_at=now
        )
    )


def cancel_if_requested(execution_pk: int) -> bool:
    """PENDING → CANCELLED for a row whose cancel was asked while it was being submitted (it came back to
    PENDING after a 429 or an unanswered submission that recovery released)."""
    now = timezone.now()
    cancelled = Execution.objects.filter(
        pk=execution_pk, status=Execution.Status.PENDING, cancel_requested_at__isnull=False
    ).update(status=Execution.Status.CANCELLED, finished_at=now, updated_at=now)
    if cancelled:
        execution_finished(execution_pk)
    return bool(cancelled)


def poll_interval(execution: Execution, now) -> timedelta:
    """Poll often at first, then back off: most AMC runs take 15 minutes or more."""
    age = now - (execution.submitted_at or now)
    if age < timedelta(minutes=2):
        return timedelta(seconds=5)
    if age < timedelta(minutes=15):
        return timedelta(seconds=15)
    return timedelta(seconds=60)


def apply_amc_status(execution: Execution, amc_execution, *, now=None) -> None:
    """Move our row to what AMC reports. Terminal moves are conditional, so they happen exactly once."""
    now = now or timezone.now()
    status = amc_execution.status
    rows = Execution.objects.filter(pk=execution.pk, status__in=Execution.POLLED_STATUSES)
    if status == "SUCCEEDED":
        moved = rows.update(
            status=Execution.Status.FETCHING,
            amc_status=status,
            last_polled_at=now,
            next_poll_at=now,
            poll_failures=0,
            lease_until=None,
        )
        if moved:
            enqueue_fetch(execution.pk)
    elif status in ("FAILED", "REJECTED"):
        reason = amc_execution.status_reason or f"AMC reported {status} without a reason."
        position = amc_errors.compile_position(reason)
        fields = {}
        if position:
            fields = {
                "error_line": position["line"],
                "error_column": position["column"],
                "error_end_line": position["end_line"],
                "error_end_column": position["end_column"],
            }
        moved = rows.update(
            status=Execution.Status.FAILED, amc_status=status, error_kind=retry.amc_failure_kind(status, reason),
            error_message=reason,
            finished_at=now, last_polled_at=now, lease_until=None, **fields,
        )  # fmt: skip
        if moved:
            execution_finished(execution.pk)
    elif status == "CANCELLED":
        if rows.update(
            status=Execution.Status.CANCELLED, amc_status=status, finished_at=now, last_polled_at=now, lease_until=None
        ):
            execution_finished(execution.pk)
    else:
        record_still_active(execution, status, now)


# The answer of nearly every poll, so written in SQL: the ORM's update cost more CPU than the rest of the poll.
STILL_ACTIVE = (
    f"UPDATE {Execution._meta.db_table} SET status = %s, amc_status = %s, started_at = COALESCE(started_at, %s), "
    "last_polled_at = %s, next_poll_at = %s, lease_until = NULL, poll_failures = 0 "
    "WHERE id = %s AND status = ANY(%s)"
)


def record_still_active(execution: Execution, amc_status: str, now) -> bool:
    """QUEUED/RUNNING/PUBLISHING as AMC reports them, with the next poll backed off by the execution's age."""
    ours = _ours(amc_status)
    started_at = now if ours != Execution.Status.QUEUED else None
    params = [ours, amc_status, started_at, now, now + poll_interval(execution, now), execution.pk,
              list(Execution.POLLED_STATUSES)]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(STILL_ACTIVE, params)
        return cursor.rowcount == 1


def mark_succeeded(execution_pk: int) -> bool:
    """FETCHING → SUCCEEDED once the result files are stored."""
    done = Execution.objects.filter(pk=execution_pk, status=Execution.Status.FETCHING).update(
        status=Execution.Status.SUCCEEDED, finished_at=timezone.now(), error_message="", lease_until=None
    )
    return bool(done)


def enqueue_fetch(execution_pk: int) -> None:
    from django_q.tasks import async_task

    async_task("executions.tasks.fetch_results", execution_pk, task_name=f"fetch-{execution_pk}")


def execution_finished(execution_pk: int) -> None:
    execution_finished_signal.send(sender=Execution, execution_pk=execution_pk)
