"""Schedules that fire exactly once per slot.

The dispatcher claims due schedules with `FOR UPDATE SKIP LOCKED` in one statement per batch that advances
`next_run_at` and inserts the runs for the slot (schedules/claiming.py); the unique (schedule, scheduled_for,
instance) constraint is the fence, so a second claim of a slot cannot be recorded whatever the race. Submission happens
after commit through `executions.services.start_execution`, the path every run takes.

Missed slots (workers down): the latest runs once, older ones are recorded as skipped with the reason.
"""

import logging
import re
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from executions import quotas, retry
from executions.models import Execution
from executions.services import ExecutionInputError, QuotaExceeded, SnowflakeTarget, WindowSpec, start_execution
from recomamp import dropped_connections, rows

from . import planning
from .claiming import CLAIM_BATCH, DispatchReport, claim_due
from .locked_run import lock_run
from .models import Schedule, ScheduleRun

log = logging.getLogger(__name__)

STUCK_AFTER = timedelta(minutes=1)
QUOTA_RETRY = timedelta(minutes=2)


# --- Dispatch ----------------------------------------------------------------------------------------------------


def dispatch_due(*, now: datetime | None = None, batch: int = CLAIM_BATCH, submit: bool = True) -> DispatchReport:
    """Claim every due schedule (in batches) and submit the claimed runs after commit."""
    total = DispatchReport()
    for report in claim_due(now=now or timezone.now(), batch=batch):
        total.claimed += report.claimed
        total.skipped += report.skipped
        total.schedules += report.schedules
        if submit:
            for run_pk in report.claimed:
                submit_run(run_pk)
    return total


# --- Submitting a run --------------------------------------------------------------------------------------------


@dropped_connections.skips_item("submission of run", default="connection-lost")  # fails this run, not the cycle
def submit_run(run_pk: int, *, now: datetime | None = None) -> str:
    """Turn a claimed (or retrying, or waiting) run into an execution, exactly once.

    The run row is locked and linked to its new execution in one transaction: either both exist or neither,
    and a run that already has an execution is never submitted again.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = lock_run(run_pk)  # the run, its schedule, query, instance and owner, in one statement
        if locked is None or (locked.run.execution_id and locked.run.status == ScheduleRun.Status.CLAIMED):
            return "not-claimed"
        run, schedule = locked.run, locked.schedule
        verdict = _guard(run, schedule, now, previous_open=locked.previous_open)
        if not isinstance(verdict, quotas.Usage):
            return verdict
        plan = planning.plan_slot(schedule, run.scheduled_for)
        run.window_start, run.window_end = plan.window.start_utc, plan.window.end_utc
        run.window_timezone = schedule.timezone
        run.parameters_used = plan.parameters
        run.attempts += 1
        try:
            execution = start_execution(
                owner=schedule.owner,
                instance=run.instance,
                workflow=schedule.workflow,
                window=WindowSpec("EXPLICIT", plan.window.start_utc, plan.window.end_utc, schedule.timezone),
                parameters=plan.parameters,
                trigger=Execution.Trigger.TEST if run.is_test else Execution.Trigger.SCHEDULE,
                delivery=SnowflakeTarget(
                    schedule.snowflake_enabled, schedule.snowflake_table, schedule.snowflake_schema
                ),
                usage=verdict,  # counted by the guard under the instance lock this transaction still holds
                latest_version=locked.latest_version,
            )
        except QuotaExceeded as exc:  # a teammate took the last slot since the guard counted: wait, not fail
            return _wait(run, now, QUOTA_RETRY, str(exc))
        except ExecutionInputError as exc:
            _finish(run, ScheduleRun.Status.FAILED, now, error=str(exc))
            return "failed"
        run.execution = execution
        run.status = ScheduleRun.Status.SUBMITTED
        run.submitted_at, run.reason, run.next_attempt_at = now, "", None
        rows.update(run, SUBMITTED_FIELDS)
    log.info(
        "schedule run submitted schedule=%s run=%s execution=%s", schedule.schedule_id, run.pk, execution.execution_id
    )
    return "submitted"


# What submit_run writes on the run it submits.
SUBMITTED_FIELDS = ["window_start", "window_end", "window_timezone", "parameters_used", "attempts", "cost_estimate",
                    "execution", "status", "submitted_at", "reason", "next_attempt_at"]  # fmt: skip


def _guard(run: ScheduleRun, schedule: Schedule, now: datetime, *, previous_open: bool) -> str | quotas.Usage:
    """Overlap, AMC quota and cost checks. A run that may not go now waits or is skipped: the verdict, with the
    reason on the run. A run that may go: the instance's usage, counted under the instance lock (kept until
    the caller's transaction ends) for `start_execution` to check against."""
    if not run.is_test:
        if previous_open:
            if schedule.overlap_policy == Schedule.OverlapPolicy.QUEUE:
                return _wait(run, now, QUOTA_RETRY, "Waiting for the previous run of this schedule to finish.")
            _finish(run, ScheduleRun.Status.SKIPPED, now, reason="The previous run was still going (overlap: skip).")
            return "skipped"
    instance = run.instance
    quotas.lock_instance(instance)  # until submit_run's transaction commits the execution it creates
    used = quotas.usage(instance, now)  # the whole team's runs on this AMC instance
    if used.running >= quotas.CONCURRENT_PER_INSTANCE:
        reason = f"{used.running} executions already running on this instance (AMC runs 10)."
        return _wait(run, now, QUOTA_RETRY, reason)
    if used.adhoc_today >= quotas.ADHOC_PER_DAY:
        tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=5, second=0, microsecond=0)
        return _wait(run, now, tomorrow - now, "AMC's limit of 30 ad hoc runs per instance per day is used up.")
    estimate = estimate_cost(schedule, run)
    run.cost_estimate = estimate
    if schedule.cost_limit is not None and estimate > schedule.cost_limit:
        _finish(
            run, ScheduleRun.Status.SKIPPED, now,
            reason=f"Estimated cost {estimate} is above this schedule's limit of {schedule.cost_limit}.",
        )  # fmt: skip
        return "skipped"
    return used


_TABLE_REFERENCE = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


def estimate_cost(schedule: Schedule, run: ScheduleRun) -> Decimal:
    """A coarse, documented cost model: days of data × tables read × a per table-day rate (settings).

    AMC bills by compute; this gives analysts a stable number to set limits against, not an invoice.
    """
    plan_days = 1
    if run.window_start and run.window_end:
        plan_days = max(1, round((run.window_end - run.window_start).total_seconds() / 86400))
    else:
        window = planning.plan_slot(schedule, run.scheduled_for).window
        plan_days = max(1, (window.last_day - window.first_day).days + 1)
    tables = len(set(_TABLE_REFERENCE.findall(schedule.workflow.sql))) or 1
    rate = Decimal(str(getattr(settings, "SCHEDULE_COST_PER_TABLE_DAY", "0.05")))
    return (rate * plan_days * tables).quantize(Decimal("0.01"))


def _wait(run: ScheduleRun, now: datetime, delay: timedelta, reason: str) -> str:
    run.status, run.reason, run.next_attempt_at = ScheduleRun.Status.WAITING, reason, now + delay
    run.save(update_fields=["status", "reason", "next_attempt_at", "cost_estimate"])
    return "waiting"


def _finish(run: ScheduleRun, status: str, now: datetime, *, reason: str = "", error: str = "") -> None:
    run.status, run.finished_at = status, now
    run.reason = reason or run.reason
    run.error = error or run.error
    run.next_attempt_at = None
    run.save()


# --- Test runs ---------------------------------------------------------------------------------------------------


def run_now(schedule: Schedule, *, now: datetime | None = None) -> ScheduleRun:
    """A test run: same path as real runs, marked as a test, never touching next_run_at or counters."""
    now = now or timezone.now()
    slot = now.replace(second=0, microsecond=0)
    run = ScheduleRun.objects.create(schedule=schedule, scheduled_for=slot, is_test=True)
    transaction.on_commit(lambda: submit_run(run.pk))
    return run


# --- When an execution finishes ----------------------------------------------------------------------------------


def execution_finished(execution_pk: int, *, now: datetime | None = None) -> None:
    """Record the outcome on the run, retry transient failures, keep counters, pause after repeated failures."""
    now = now or timezone.now()
    from .notifications import notify_paused, notify_run

    for run_pk in ScheduleRun.objects.filter(execution_id=execution_pk).values_list("pk", flat=True):
        outcome = _record_outcome(run_pk, now)
        if outcome in ("succeeded", "failed"):
            notify_run(run_pk)
        if outcome == "paused":
            notify_run(run_pk)
            notify_paused(ScheduleRun.objects.get(pk=run_pk).schedule_id)


def _record_outcome(run_pk: int, now: datetime) -> str:
    with transaction.atomic():
        run = (
            ScheduleRun.objects.select_for_update(of=("self",))
            .select_related("execution", "schedule")
            .filter(pk=run_pk, status__in=[ScheduleRun.Status.SUBMITTED, ScheduleRun.Status.RUNNING])
            .first()
        )
        if run is None or run.execution.is_active:
            return "unchanged"
        execution, schedule = run.execution, run.schedule
        if execution.status == Execution.Status.SUCCEEDED:
            result = getattr(execution, "result", None)
            run.row_count = result.row_count if result else None
            _finish(run, ScheduleRun.Status.SUCCEEDED, now)
            if not run.is_test:
                Schedule.objects.filter(pk=schedule.pk).update(
                    consecutive_failures=0, run_count=F("run_count") + 1, success_count=F("success_count") + 1
                )
            return "succeeded"
        if execution.failed_transiently and run.attempts <= schedule.max_retries:
            run.status = ScheduleRun.Status.RETRYING
            run.reason = f"Attempt {run.attempts} failed ({execution.error_kind}); retrying."
            run.error = f"{execution.execution_id}: {execution.error_message}"
            # The schedule's delay, doubled per attempt (executions.retry: one rule for every retry).
            run.next_attempt_at = now + retry.backoff(run.attempts, timedelta(minutes=schedule.retry_delay_minutes))
            run.save()
            return "retrying"
        status = (
            ScheduleRun.Status.CANCELLED
            if execution.status == Execution.Status.CANCELLED
            else ScheduleRun.Status.FAILED
        )
        _finish(run, status, now, error=f"{execution.execution_id}: {execution.error_message}")
        if run.is_test:
            return "failed"
        Schedule.objects.filter(pk=schedule.pk).update(
            consecutive_failures=F("consecutive_failures") + 1,
            run_count=F("run_count") + 1,
            failure_count=F("failure_count") + 1,
        )
        schedule.refresh_from_db(fields=["consecutive_failures", "failure_threshold", "is_active"])
        if schedule.is_active and schedule.consecutive_failures >= schedule.failure_threshold:
            Schedule.objects.filter(pk=schedule.pk).update(
                is_active=False,
                paused_by_failures=True,
                paused_reason=f"Paused after {schedule.consecutive_failures} consecutive failed runs.",
            )
            log.warning("schedule paused after failures schedule=%s", schedule.schedule_id)
            return "paused"
        return "failed"


# --- Retries, waiting runs and recovery ---------------------------------------------------------------------------


def resume_waiting_runs(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    due = ScheduleRun.objects.filter(
        status__in=[ScheduleRun.Status.RETRYING, ScheduleRun.Status.WAITING], next_attempt_at__lte=now
    ).values_list("pk", flat=True)[:500]
    return sum(submit_run(pk, now=now) == "submitted" for pk in due)


def recover_stuck_runs(*, now: datetime | None = None) -> int:
    """Repair runs left behind by a crash, within a minute, without submitting any slot twice.

    - claimed but never submitted (the worker died after the dispatch commit): submit now; `submit_run` locks
      the row and skips runs that already have an execution.
    - submitted, but the execution finished and the run never heard of it (a lost signal): record the outcome.
    Executions themselves (lost submissions, lost polls) are repaired by executions.following, which asks AMC
    before submitting again.
    """
    now = now or timezone.now()
    repaired = 0
    claimed = ScheduleRun.objects.filter(
        status=ScheduleRun.Status.CLAIMED, execution__isnull=True, claimed_at__lte=now - STUCK_AFTER
    ).values_list("pk", flat=True)[:500]
    for pk in claimed:
        repaired += submit_run(pk, now=now) in ("submitted", "skipped", "waiting", "failed")
    finished = ScheduleRun.objects.filter(
        status__in=[ScheduleRun.Status.SUBMITTED, ScheduleRun.Status.RUNNING],
        execution__status__in=Execution.FINAL_STATUSES,
        execution__finished_at__lte=now - STUCK_AFTER,
    ).values_list("execution_id", flat=True)[:500]
    for execution_pk in set(finished):
        execution_finished(execution_pk, now=now)
        repaired += 1
    from .notifications import notify_run, unsent_notifications

    for run_pk in unsent_notifications().filter(finished_at__lte=now - STUCK_AFTER).values_list("pk", flat=True)[:100]:
        repaired += notify_run(run_pk)
    return repaired


def run_scheduler_cycle(*, now: datetime | None = None) -> dict:
    """What the every-minute worker task does."""
    now = now or timezone.now()
    report, step = dispatch_due(now=now), dropped_connections.step  # a lost connection costs one step at most
    return {
        "claimed": len(report.claimed),
        "skipped": report.skipped,
        "resumed": step("resume", resume_waiting_runs, now=now),
        "recovered": step("recovery", recover_stuck_runs, now=now),
    }


# --- Editing -----------------------------------------------------------------------------------------------------


def refresh_next_run(schedule: Schedule, *, now: datetime | None = None) -> None:
    """After creating, editing or resuming: the next slot strictly after now (missed ones are not replayed)."""
    now = now or timezone.now()
    schedule.next_run_at = planning.next_slot(schedule, now) if schedule.is_active else None


def claim_slot_directly(schedule: Schedule, slot: datetime) -> ScheduleRun | None:
    """Insert a real run for a slot; None if that slot already has one (the fence). Used by tests and tools."""
    try:
        with transaction.atomic():
            return ScheduleRun.objects.create(schedule=schedule, scheduled_for=slot)
    except IntegrityError:
        return None
