"""The budgeted queue: cells go to the execution path exactly once, within each instance's concurrency.

Claiming a cell locks its row (`SELECT … FOR UPDATE SKIP LOCKED`) and, in the same transaction, creates its
execution and links it: either both exist or neither, and a cell with a live execution is never started again.
The unique (run set, instance, window) constraint means a window cannot have two cells in the first place.

Per instance, a transaction-scoped advisory lock serialises the budget check, so two dispatchers cannot both
see a free slot and overfill it. In flight counts every active execution of the instance (schedules and manual
runs included), capped at AMC's 10 and at the set's own `max_in_flight`. A set is dispatched in one transaction
over all its instances (locks, budgets and the claim are a few grouped queries, not a round per instance).
"""

import logging
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
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
    due = (
        Cell.objects.filter(run_set__in=sets, status__in=[Cell.Status.PENDING, Cell.Status.RETRYING])
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .values_list("run_set_id", "instance_id")
        .distinct()
    )
    instances_by_set: dict[int, list] = {}
    for run_set_pk, instance_pk in sorted(set(due)):
        instances_by_set.setdefault(run_set_pk, []).append(instance_pk)
    return sum(_dispatch_set(pk, instance_pks, now) for pk, instance_pks in instances_by_set.items())


def _dispatch_set(run_set_pk: int, instance_pks: list, now: datetime) -> int:
    """One transaction per run set, whatever its number of instances: lock the instances no other dispatcher is
    filling, measure every budget in a few grouped queries, claim the cells that fit, start them."""
    with transaction.atomic():
        instance_pks = _lock_instances(instance_pks)
        if not instance_pks:
            return 0  # other dispatchers are filling these instances right now
        run_set = RunSet.objects.select_related("workflow", "owner").get(pk=run_set_pk)
        if run_set.status != RunSet.Status.RUNNING:
            return 0
        rooms = _rooms(run_set, instance_pks)
        cells = _claim(run_set, rooms, now)
        _start_all(cells, run_set, now)
    return len(cells)


def _lock_instances(instance_pks: list) -> list:
    """The instances whose per-AMC-instance advisory lock we got, without waiting (one statement for all): the
    same lock manual runs and schedules take (`quotas.lock_key`), so two dispatchers, or a dispatcher and an
    analyst, cannot both see AMC's last free slot."""
    keys = {
        engine.quotas.lock_key(instance): instance.pk
        for instance in AMCInstance.objects.filter(pk__in=instance_pks).only("instance_id", "region")
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT k FROM unnest(%s::bigint[]) AS k WHERE pg_try_advisory_xact_lock(k)", [list(keys)])
        return sorted(keys[row[0]] for row in cursor.fetchall())


def _rooms(run_set: RunSet, instance_pks: list) -> dict:
    """Cells this set may start per instance now: the set's share and AMC's ceiling (shared with every run on
    the instance)."""
    ceiling = engine.quotas.CONCURRENT_PER_INSTANCE
    everywhere = engine.active_on_instances(instance_pks)
    mine = dict(
        Cell.objects.filter(run_set=run_set, instance_id__in=instance_pks, status=Cell.Status.SUBMITTED)
        .values_list("instance_id")
        .annotate(n=Count("pk"))
        .values_list("instance_id", "n")
    )
    rooms = {
        pk: min(min(run_set.max_in_flight, ceiling) - mine.get(pk, 0), ceiling - everywhere.get(pk, 0))
        for pk in instance_pks
    }
    return {pk: room for pk, room in rooms.items() if room > 0}


def _claim(run_set: RunSet, rooms: dict, now: datetime) -> list[Cell]:
    """Lock (SKIP LOCKED) up to each instance's room of due cells, in the set's order, within the set's rate."""
    if not rooms:
        return []
    newest = run_set.order == RunSet.Order.NEWEST_FIRST
    ranked = (
        Cell.objects.filter(run_set=run_set, instance_id__in=list(rooms))
        .filter(status__in=[Cell.Status.PENDING, Cell.Status.RETRYING])
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("instance_id")], order_by=F("first_day").desc() if newest else "first_day"
            )
        )
        .filter(rank__lte=max(rooms.values()))  # never more rows than the widest budget per instance
        .values_list("pk", "instance_id", "rank")
    )
    # Round robin over the instances (rank first), so a rate per minute is shared by the set's instances.
    chosen = sorted((rank, str(instance_pk), pk) for pk, instance_pk, rank in ranked if rank <= rooms[instance_pk])
    if run_set.rate_per_minute:
        recent = Cell.objects.filter(run_set=run_set, submitted_at__gt=now - timedelta(minutes=1)).count()
        chosen = chosen[: max(0, run_set.rate_per_minute - recent)]
    chosen = [pk for _rank, _instance, pk in chosen]
    return list(
        Cell.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("instance__account")
        .filter(pk__in=chosen)
        .order_by("instance_id", "-first_day" if newest else "first_day")
    )


CLAIM_FIELDS = ["attempts", "next_attempt_at", "execution", "status", "submitted_at", "finished_at", "error",
                "error_line", "error_column"]  # fmt: skip


def _start_all(cells: list[Cell], run_set: RunSet, now: datetime) -> None:
    """Start each claimed cell's execution, then record every cell in one UPDATE."""
    for cell in cells:
        _start(cell, run_set, now)
    Cell.objects.bulk_update(cells, CLAIM_FIELDS, batch_size=500)


def _start(cell: Cell, run_set: RunSet, now: datetime) -> None:
    cell.attempts += 1
    cell.next_attempt_at = None
    if run_set.workflow.sql != run_set.sql_snapshot:
        _fail(cell, now, "The query was edited after this run set was created; start a new run set to run it.")
        return
    try:
        # start_execution saves nothing when it refuses the input (its own savepoint): this cell fails alone.
        execution = engine.start_cell_execution(cell, run_set)
    except engine.QuotaExceeded:  # teammates filled AMC's slots on this instance: the cell waits its turn
        cell.attempts -= 1
        cell.next_attempt_at = now + RETRY_DELAY
        return
    except engine.ExecutionInputError as exc:
        _fail(cell, now, str(exc))
        return
    cell.execution = execution
    cell.status = Cell.Status.SUBMITTED
    cell.submitted_at, cell.finished_at, cell.error = now, None, ""
    cell.error_line = cell.error_column = None


def _fail(cell: Cell, now: datetime, message: str) -> None:
    cell.status, cell.error, cell.finished_at = Cell.Status.FAILED, message, now


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
