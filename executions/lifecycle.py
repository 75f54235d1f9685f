"""Every status transition of an execution, each a small function named after what happens.

Each transition is a conditional update (`filter(status=…).update(…)`), so a transition happens once even when
django-q2 delivers a task twice or several workers race; a function returns whether it moved the row. No other
module writes `Execution.status` (tests/test_architecture.py checks it).

PENDING → SUBMITTING → QUEUED/RUNNING/PUBLISHING (AMC's PENDING, RUNNING, PUBLISHING, as AMC reports them) →
FETCHING → SUCCEEDED, with FAILED and CANCELLED from any active state. A cancel asked during SUBMITTING is
recorded (`request_cancel`) and carried out by the submitting worker once AMC has given an id.
"""

import logging
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

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


def claim_submission(execution_pk: int, now: datetime, lease_until: datetime | None = None) -> bool:
    """PENDING → SUBMITTING: only one caller claims the row (never one whose cancel was asked for), holding its
    lease (`executions.leases`) meanwhile."""
    claimed = Execution.objects.filter(
        pk=execution_pk, status=Execution.Status.PENDING, cancel_requested_at__isnull=True
    ).update(status=Execution.Status.SUBMITTING, submit_attempted_at=now, updated_at=now, lease_until=lease_until)
    return claimed == 1


def uses_saved_workflow(execution: Execution) -> bool:
    """Whether this execution runs its saved workflow by id (the rule is `queries.amc_request.runs_saved_workflow`)."""
    return execution.workflow is not None and "workflowId" in (execution.request_body or {})


def record_submission(execution: Execution, amc_execution_id: str, amc_status: str) -> bool:
    """Store AMC's id; conditional so that a late answer never overwrites a recovery that already adopted one."""
    now = timezone.now()
    updated = Execution.objects.filter(pk=execution.pk, status=Execution.Status.SUBMITTING, amc_execution_id="").update(
        amc_execution_id=amc_execution_id,
        amc_workflow_id=execution.workflow.workflow_id if uses_saved_workflow(execution) else "",
        status=_ours(amc_status),
        amc_status=amc_status,
        submitted_at=now,
        next_poll_at=now + FIRST_POLL_AFTER,
        lease_until=None,
        error_kind="",
        error_message="",
        updated_at=now,
    )
    if updated:
        log.info("execution submitted execution=%s amc_execution=%s", execution.execution_id, amc_execution_id)
    return bool(updated)


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
