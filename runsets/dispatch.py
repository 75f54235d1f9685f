"""The budgeted queue: cells go to the execution path exactly once, within each instance's concurrency.

Claiming a cell locks its row (`SELECT … FOR UPDATE SKIP LOCKED`) and, in the same transaction, creates its
execution and links it: either both exist or neither, and a cell with a live execution is never started again.
The unique (run set, instance, window) constraint means a window cannot have two cells in the first place.

Per instance, a transaction-scoped advisory lock serialises the budget check, so two dispatchers cannot both
see a free slot and overfill it. In flight counts every active execution of the instance (schedules and manual
runs included), capped at AMC's 10 and at the set's own `max_in_flight`.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from instances.models import AMCInstance

from . import engine
from .models import Cell, RunSet

log = logging.getLogger(__name__)

RETRY_DELAY = timedelta(minutes=1)
STUCK_AFTER = timedelta(minutes=1)


def dispatch(*, now: datetime | None = None, run_set_pks: list[int] | None = None) -> int:
    """Start as many due cells as the budgets allow. Returns how many cells were started."""
    now = now or timezone.now()
    sets = RunSet.objects.filter(status=RunSet.Status.RUNNING)
    if run_set_pks is not None:
        sets = sets.filter(pk__in=run_set_pks)
    started = 0
    due = (
        Cell.objects.filter(run_set__in=sets, status__in=[Cell.Status.PENDING, Cell.Status.RETRYING])
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .values_list("run_set_id", "instance_id")
        .distinct()
    )
    for run_set_pk, instance_pk in sorted(set(due)):
        started += _dispatch_instance(run_set_pk, instance_pk, now)
    return started


def _dispatch_instance(run_set_pk: int, instance_pk, now: datetime) -> int:
    with transaction.atomic():
        # The lock manual runs and schedules take too: one count-then-create per AMC instance at a time.
        if not engine.quotas.try_lock_instance(AMCInstance.objects.only("instance_id", "region").get(pk=instance_pk)):
            return 0  # another dispatcher is filling this instance right now
        run_set = RunSet.objects.select_related("workflow", "owner").get(pk=run_set_pk)
        if run_set.status != RunSet.Status.RUNNING:
            return 0
        room = _room(run_set, instance_pk, now)
        if room <= 0:
            return 0
        newest = run_set.order == RunSet.Order.NEWEST_FIRST
        cells = list(
            Cell.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("instance__account")
            .filter(run_set=run_set, instance_id=instance_pk, status__in=[Cell.Status.PENDING, Cell.Status.RETRYING])
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("-first_day" if newest else "first_day")[:room]
        )
        for cell in cells:
            _start(cell, run_set, now)
    return len(cells)


def _room(run_set: RunSet, instance_pk, now: datetime) -> int:
    """Cells this set may start on this instance now: the set's share, AMC's ceiling, the rate."""
    ceiling = engine.quotas.CONCURRENT_PER_INSTANCE
    in_flight_everywhere = engine.active_on_instances([instance_pk]).get(instance_pk, 0)
    mine = Cell.objects.filter(run_set=run_set, instance_id=instance_pk, status=Cell.Status.SUBMITTED).count()
    room = min(min(run_set.max_in_flight, ceiling) - mine, ceiling - in_flight_everywhere)
    if run_set.rate_per_minute:
        recent = Cell.objects.filter(run_set=run_set, submitted_at__gt=now - timedelta(minutes=1)).count()
        room = min(room, run_set.rate_per_minute - recent)
    return room


def _start(cell: Cell, run_set: RunSet, now: datetime) -> None:
    cell.attempts += 1
    cell.next_attempt_at = None
    if run_set.workflow.sql != run_set.sql_snapshot:
        _fail(cell, now, "The query was edited after this run set was created; start a new run set to run it.")
        return
    try:
        with transaction.atomic():  # a savepoint: a refused input fails this cell only
            execution = engine.start_cell_execution(cell, run_set)
    except engine.QuotaExceeded:  # teammates filled AMC's slots on this instance: the cell waits its turn
        Cell.objects.filter(pk=cell.pk).update(next_attempt_at=now + RETRY_DELAY)
        return
    except engine.ExecutionInputError as exc:
        _fail(cell, now, str(exc))
        return
    cell.execution = execution
    cell.status = Cell.Status.SUBMITTED
    cell.submitted_at, cell.finished_at, cell.error = now, None, ""
    cell.error_line = cell.error_column = None
    cell.save()


def _fail(cell: Cell, now: datetime, message: str) -> None:
    cell.status, cell.error, cell.finished_at = Cell.Status.FAILED, message, now
    cell.save()


# --- When an execution finishes ------------------------------------------------------------------------------------


def record_outcome(execution_pk: int, *, now: datetime | None = None) -> list[int]:
    """Copy the execution's outcome to its cell(s); transient failures wait for a retry. Returns the set pks."""
    now = now or timezone.now()
    touched = []
    with transaction.atomic():
        cells = list(
            Cell.objects.select_for_update(of=("self",))
            .select_related("execution", "run_set")
            .filter(execution_id=execution_pk, status=Cell.Status.SUBMITTED)
        )
        for cell in cells:
            if _apply(cell, now):
                touched.append(cell.run_set_id)
    for run_set_pk in set(touched):
        finish_if_done(run_set_pk, now=now)
    return touched


def _apply(cell: Cell, now: datetime) -> bool:
    execution = cell.execution
    if execution is None or execution.is_active:
        return False
    Status = engine.Execution.Status
    cell.finished_at = now
    if execution.status == Status.SUCCEEDED:
        result = getattr(execution, "result", None)
        cell.status, cell.error = Cell.Status.SUCCEEDED, ""
        cell.row_count = result.row_count if result else None
    elif execution.status == Status.CANCELLED:
        cell.status, cell.error = Cell.Status.CANCELLED, "Cancelled."
    else:
        cell.error = f"{execution.error_kind}: {execution.error_message}".strip(": ")
        cell.error_line, cell.error_column = execution.error_line, execution.error_column
        transient = execution.failed_transiently  # one rule for every retry: executions.retry
        if transient and cell.attempts <= cell.run_set.max_retries and cell.run_set.status == RunSet.Status.RUNNING:
            cell.status, cell.finished_at = Cell.Status.RETRYING, None
            cell.next_attempt_at = now + engine.retry.backoff(cell.attempts, RETRY_DELAY)
        else:
            cell.status = Cell.Status.FAILED
    cell.save()
    return True


def finish_if_done(run_set_pk: int, *, now: datetime | None = None) -> bool:
    """A running set whose cells are all final is done."""
    now = now or timezone.now()
    if Cell.objects.filter(run_set_id=run_set_pk, status__in=Cell.OPEN).exists():
        return False
    return bool(
        RunSet.objects.filter(pk=run_set_pk, status=RunSet.Status.RUNNING).update(
            status=RunSet.Status.DONE, finished_at=now, updated_at=now
        )
    )


def recover(*, now: datetime | None = None) -> int:
    """Cells whose execution finished but never heard of it (a lost signal), or lost their execution."""
    now = now or timezone.now()
    lost = (
        Cell.objects.filter(status=Cell.Status.SUBMITTED, execution__status__in=engine.Execution.FINAL_STATUSES)
        .filter(Q(execution__finished_at__lte=now - STUCK_AFTER) | Q(execution__finished_at__isnull=True))
        .values_list("execution_id", flat=True)[:500]
    )
    repaired = sum(bool(record_outcome(pk, now=now)) for pk in set(lost))
    orphans = Cell.objects.filter(status=Cell.Status.SUBMITTED, execution__isnull=True).update(
        status=Cell.Status.FAILED, error="The execution was deleted.", finished_at=now
    )
    stale = (
        RunSet.objects.filter(status=RunSet.Status.RUNNING)
        .annotate(open=Count("cells", filter=Q(cells__status__in=Cell.OPEN)))
        .filter(open=0)
    )
    for run_set_pk in stale.values_list("pk", flat=True):
        finish_if_done(run_set_pk, now=now)
    return repaired + orphans


def run_cycle(*, now: datetime | None = None) -> dict:
    """What the every-minute worker task does."""
    now = now or timezone.now()
    recovered = recover(now=now)
    return {"recovered": recovered, "started": dispatch(now=now)}
