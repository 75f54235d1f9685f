"""Workflow executions: creation with AMC's checks, and the status machine driven by a clock.

An execution waits SANDBOX_PENDING_SECONDS in PENDING, runs SANDBOX_RUNNING_SECONDS, then SUCCEEDED (its
query ran on the engine and the CSV files are written) or FAILED. At most SANDBOX_MAX_RUNNING run at once
per instance; the rest start first-in first-out when a slot frees. Nothing runs in the background: every
API call on an instance first brings its executions up to `now()`, with start times computed as they would
have happened, so a client that polls late sees the same history as one that polls often.

Concurrency between processes:
- starting executions (the slot count) happens under a row lock on the instance;
- the query of a due execution runs in the one process holding its row lock, and its outcome is written in the
  same transaction: a process that dies or loses its database connection meanwhile leaves nothing behind, and
  the next poll finishes the execution;
- every other status change is a conditional update from the expected status; a cancel that lands while the
  query runs waits for it, as on AMC, where a finished execution can no longer be cancelled.
"""

import heapq
import logging
import uuid
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction

from . import clock, conf, downloads, engine_bridge, faults, windows, workflows
from .models import SandboxExecution, SandboxInstance
from .responses import ApiError, as_bool, as_int

log = logging.getLogger(__name__)
Status = SandboxExecution.Status

DEFAULT_TIMEOUT_SECONDS = 21600
MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS = 900, 86400
BOOLEAN_OPTIONS = ("requireSyntheticData", "disableAggregationControls", "skipPublish", "ignoreDataGaps")
ECHOED_OPTIONS = ("advertisers", "maxCertifiedTime", "maxDimensionTime")


# --- Creating -------------------------------------------------------------------------------------------


def create_execution(instance: SandboxInstance, body: dict[str, Any]) -> SandboxExecution:
    has_saved, has_adhoc = body.get("workflowId") is not None, body.get("workflow") is not None
    if has_saved == has_adhoc:
        raise ApiError(400, "Provide either workflowId (a saved workflow) or workflow with a sqlQuery, not both.")
    current = clock.now()
    if has_saved:
        workflow_id = str(body["workflowId"])
        workflow = dict(workflows.get(instance, workflow_id).definition)
    else:
        workflow = workflows.normalize(body["workflow"], require_id=False)
        workflow_id = workflow.get("workflowId") or f"transient_{uuid.uuid4()}"
        workflow["workflowId"] = workflow_id
    window = windows.resolve(body, current)
    timeout = as_int(
        body.get("workflowExecutionTimeoutSeconds", DEFAULT_TIMEOUT_SECONDS), "workflowExecutionTimeoutSeconds"
    )
    if not MIN_TIMEOUT_SECONDS <= timeout <= MAX_TIMEOUT_SECONDS:
        raise ApiError(
            400, f"workflowExecutionTimeoutSeconds must be between {MIN_TIMEOUT_SECONDS} and {MAX_TIMEOUT_SECONDS}."
        )
    values = body.get("parameterValues") or {}
    if not isinstance(values, dict):
        raise ApiError(400, "parameterValues must be an object of parameter names to values.")
    options = {name: as_bool(body[name], name) for name in BOOLEAN_OPTIONS if name in body}
    options.update({name: body[name] for name in ECHOED_OPTIONS if name in body})
    dry_run = as_bool(body.get("dryRun", False), "dryRun")

    status, reason = Status.PENDING, ""
    problem = engine_bridge.compile_problem(workflow, saved=has_saved) if has_adhoc or dry_run else None
    if problem and not dry_run:
        raise ApiError(400, engine_bridge.compile_failure_text(workflow_id, problem))
    if dry_run:  # validated only: no quota, no compute, no output (AMC answers REJECTED for a bad query)
        status = Status.REJECTED if problem else Status.SUCCEEDED
        reason = engine_bridge.compile_failure_text(workflow_id, problem) if problem else ""

    counted = has_adhoc and not dry_run
    # The instance row lock serialises quota checks, so two racing requests cannot both take the last slot. Runs
    # of saved workflows and dry runs are not counted: their one INSERT needs no lock and no transaction of its own.
    with transaction.atomic() if counted else nullcontext():
        if counted:
            SandboxInstance.objects.select_for_update().get(pk=instance.pk)
            _check_adhoc_quota(instance, current)
        return SandboxExecution.objects.create(
            instance=instance,
            workflow_id=workflow_id,
            is_adhoc=has_adhoc,
            dry_run=dry_run,
            workflow=workflow,
            request=options,
            parameter_values=values,
            time_window_type=window.type,
            time_window_start=window.start,
            time_window_end=window.end,
            time_window_start_original=window.start_original,
            time_window_end_original=window.end_original,
            time_window_time_zone=window.time_zone,
            timeout_seconds=timeout,
            status=status,
            status_reason=reason,
            created_at=current,
            last_updated_at=current,
        )


def _check_adhoc_quota(instance: SandboxInstance, current: datetime) -> None:
    """AMC allows 30 ad hoc executions per instance per day; the sandbox counts the UTC calendar day."""
    limit = conf.get("SANDBOX_ADHOC_DAILY_LIMIT")
    day_start = current.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    used = SandboxExecution.objects.filter(
        instance=instance, is_adhoc=True, dry_run=False, created_at__gte=day_start
    ).count()
    if used >= limit:
        raise ApiError(
            422,
            f"You have reached your limit of {limit} ad hoc workflow executions per day for instance "
            f"{instance.instance_id}. Save the query as a workflow and run it by workflowId, or try again tomorrow.",
        )


# --- Reading and cancelling -------------------------------------------------------------------------------


def get_execution(instance: SandboxInstance, execution_id: str) -> SandboxExecution:
    try:
        key = uuid.UUID(execution_id)
    except ValueError:
        key = None
    execution = SandboxExecution.objects.filter(instance=instance, execution_id=key).first() if key else None
    if execution is None:
        raise ApiError(400, f"Workflow execution with ID {execution_id} does not exist.")
    return execution


def update_execution(instance: SandboxInstance, execution_id: str, body: dict[str, Any]) -> None:
    """PUT on an execution: only `{"status": "CANCELLED"}` does something, and only while PENDING or RUNNING."""
    requested = body.get("status")
    if requested not in (None, Status.CANCELLED):
        raise ApiError(400, "The only status an execution can be updated to is CANCELLED.")
    refresh_instance(instance)
    execution = get_execution(instance, execution_id)
    if requested is None and execution.status in SandboxExecution.ACTIVE:
        return
    if requested is not None:
        cancelled = SandboxExecution.objects.filter(pk=execution.pk, status__in=SandboxExecution.ACTIVE).update(
            status=Status.CANCELLED, status_reason="Cancelled by request.", last_updated_at=clock.now()
        )
        if cancelled:
            return
        execution.refresh_from_db()
    raise ApiError(
        400, f"Workflow execution with ID {execution_id} cannot be updated because its status is {execution.status}."
    )


# --- The clock-driven status machine ----------------------------------------------------------------------


def refresh_instance(instance: SandboxInstance) -> None:
    """Bring every execution of `instance` up to `now()`: start what may start, finish what is due."""
    current = clock.now()
    _start_due(instance, current)
    _finish_due(instance, current)


def _start_due(instance: SandboxInstance, current: datetime) -> None:
    pending_for = timedelta(seconds=conf.get("SANDBOX_PENDING_SECONDS"))
    ready = SandboxExecution.objects.filter(instance=instance, status=Status.PENDING)
    if not ready.filter(created_at__lte=current - pending_for).exists():
        return
    limit = conf.get("SANDBOX_MAX_RUNNING")
    running_for = conf.get("SANDBOX_RUNNING_SECONDS")
    with transaction.atomic():
        SandboxInstance.objects.select_for_update().get(pk=instance.pk)
        # Times at which the occupied slots free up; an execution whose time is past holds no slot any more.
        busy_until = list(
            SandboxExecution.objects.filter(instance=instance, status=Status.RUNNING).values_list("due_at", flat=True)
        )
        heapq.heapify(busy_until)
        clock = None  # start times never go backwards: first in, first out
        for execution in ready.order_by("created_at", "id"):
            start = max(execution.created_at + pending_for, clock or execution.created_at)
            while busy_until and busy_until[0] <= start:
                heapq.heappop(busy_until)
            if len(busy_until) >= limit:
                start = heapq.heappop(busy_until)
            if start > current:
                break
            clock = start
            due = start + timedelta(seconds=min(running_for, execution.timeout_seconds))
            started = SandboxExecution.objects.filter(pk=execution.pk, status=Status.PENDING).update(
                status=Status.RUNNING, started_at=start, due_at=due, last_updated_at=start
            )
            if started:  # a cancel may have landed first
                heapq.heappush(busy_until, due)


def _finish_due(instance: SandboxInstance, current: datetime) -> None:
    due = SandboxExecution.objects.filter(instance=instance, status=Status.RUNNING, due_at__lte=current)
    for pk in due.order_by("due_at", "id").values_list("pk", flat=True):
        _finish(pk)


def _finish(pk: int) -> None:
    """Run the query of a due execution and record the outcome, claim and write in one transaction.

    The row lock is the claim: another process skips the row while this one runs the query, and if this process
    dies or loses its connection, PostgreSQL rolls the transaction back and releases the lock, so the very next
    poll finishes the execution (there is no claim left behind to time out).
    """
    with transaction.atomic():
        locked = SandboxExecution.objects.select_for_update(skip_locked=True).filter(pk=pk, status=Status.RUNNING)
        execution = locked.first()
        if execution is None:  # finished or cancelled already, or another process is finishing it
            return
        status, reason, row_count, files = _outcome(execution)
        try:
            SandboxExecution.objects.filter(pk=pk).update(
                status=status,
                status_reason=reason,
                result_files=files,
                row_count=row_count,
                last_updated_at=execution.due_at,
                finish_claimed_at=None,
            )
        except BaseException:
            downloads.delete_results(execution)  # rolled back: the next poll writes them again
            raise


def _outcome(execution: SandboxExecution) -> tuple[str, str, int | None, list[str]]:
    """What the query gives: (status, reason, row count, result files)."""
    if conf.get("SANDBOX_RUNNING_SECONDS") > execution.timeout_seconds:
        reason = f"Workflow execution exceeded its timeout of {execution.timeout_seconds} seconds."
        return Status.FAILED, reason, None, []
    if internal := faults.internal_failure():
        return Status.FAILED, internal, None, []
    try:
        result = engine_bridge.run(execution)
    except engine_bridge.QueryFailed as failure:
        return Status.FAILED, str(failure), None, []
    except Exception:
        log.exception("sandbox execution %s: the engine failed", execution.execution_id)
        return Status.FAILED, faults.INTERNAL_FAILURE_REASON, None, []
    files = [] if execution.request.get("skipPublish") else downloads.write_results(execution, result)
    return Status.SUCCEEDED, "", len(result.rows), files
