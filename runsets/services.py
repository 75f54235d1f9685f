"""Creating and steering run sets: plan the cells, pause, resume, cancel, retry failed cells, extend."""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Avg, Count, F, Q
from django.utils import timezone

from . import engine, windows
from .models import Cell, RunSet

log = logging.getLogger(__name__)


class RunSetError(ValueError):
    """The run set cannot be created or changed as asked; the message is for the analyst."""


def _check_instances(owner, instances) -> list:
    instances = list(dict.fromkeys(instances))
    if not instances:
        raise RunSetError("Choose at least one instance.")
    if len(instances) > windows.MAX_INSTANCES:
        raise RunSetError(f"A run set covers at most {windows.MAX_INSTANCES} instances.")
    for instance in instances:
        if instance.owner_id != owner.pk:
            raise RunSetError("That instance does not belong to you.")
    return instances


def create_run_set(
    *,
    owner,
    workflow,
    instances,
    planned: list[windows.Window],
    name: str = "",
    period: str = RunSet.Period.WEEK,
    n_days: int | None = None,
    tz: str = "UTC",
    lag_days: int = 2,
    parameters: dict | None = None,
    instance_parameters: dict | None = None,
    order: str = RunSet.Order.NEWEST_FIRST,
    max_in_flight: int = engine.quotas.CONCURRENT_PER_INSTANCE,
    rate_per_minute: int | None = None,
    snowflake_table: str = "",
    snowflake_schema: str = "",
    start: bool = True,
) -> RunSet:
    """Save the set and its cells (instances × windows); the queue starts them after commit."""
    if workflow.owner_id != owner.pk:
        raise RunSetError("That query does not belong to you.")
    instances = _check_instances(owner, instances)
    if not planned:
        raise RunSetError("The run set has no windows.")
    if len(planned) > windows.MAX_WINDOWS:
        raise RunSetError(f"A run set holds at most {windows.MAX_WINDOWS} windows.")
    if not 1 <= max_in_flight <= engine.quotas.CONCURRENT_PER_INSTANCE:
        raise RunSetError(
            f"Cells in flight per instance must be between 1 and {engine.quotas.CONCURRENT_PER_INSTANCE}."
        )
    with transaction.atomic():
        run_set = RunSet.objects.create(
            owner=owner,
            workflow=workflow,
            name=name or f"{workflow.name}: {len(planned)} × {len(instances)}",
            sql_snapshot=workflow.sql,
            parameters=parameters or {},
            instance_parameters={str(k): v for k, v in (instance_parameters or {}).items()},
            period=period,
            n_days=n_days,
            timezone=tz,
            lag_days=lag_days,
            order=order,
            max_in_flight=max_in_flight,
            rate_per_minute=rate_per_minute,
            snowflake_enabled=bool(snowflake_table),
            snowflake_table=snowflake_table,
            snowflake_schema=snowflake_schema,
        )
        _add_cells(run_set, instances, planned)
        if start:
            transaction.on_commit(lambda: _kick(run_set.pk))
    log.info("run set created run_set=%s cells=%s", run_set.run_set_id, len(planned) * len(instances))
    return run_set


def create_brand_fan_out(brand, *, workflow, first_day, last_day, tz: str = "UTC", start: bool = True) -> RunSet:
    """Run on all of this brand's instances: a run set with one window across the brand's active instances,
    its ASIN and campaign list parameters bound to the brand's lists (references resolved as each cell starts, so
    late binding holds as for schedules)."""
    from brands.services import brand_list_parameters

    if brand.owner_id != workflow.owner_id:
        raise RunSetError("That query does not belong to you.")
    instances = list(brand.instances.filter(status="active").order_by("name", "pk"))
    if not instances:
        raise RunSetError(f"Brand {brand.name} has no active instance; link one first.")
    try:
        window = windows.explicit(first_day, last_day, tz)
    except windows.WindowError as exc:
        raise RunSetError(str(exc)) from None
    return create_run_set(
        owner=brand.owner, workflow=workflow, instances=instances, planned=[window],
        name=f"{workflow.name} on {brand.name}: {window.label}", period=RunSet.Period.N_DAYS,
        n_days=(window.end_day - window.first_day).days, tz=tz, lag_days=0,
        parameters=brand_list_parameters(brand, workflow), start=start,
    )  # fmt: skip


def _add_cells(run_set: RunSet, instances, planned) -> int:
    cells = [
        Cell(
            run_set=run_set,
            instance=instance,
            first_day=w.first_day,
            end_day=w.end_day,
            window_start=w.start_utc,
            window_end=w.end_utc,
        )  # fmt: skip
        for instance in instances
        for w in planned
    ]
    # The unique (set, instance, window) constraint is the fence: an existing cell is never added again.
    before = Cell.objects.filter(run_set=run_set).count()
    Cell.objects.bulk_create(cells, ignore_conflicts=True, batch_size=1000)
    return Cell.objects.filter(run_set=run_set).count() - before


def planned_windows(run_set: RunSet) -> list[windows.Window]:
    rows = run_set.cells.order_by().values_list("first_day", "end_day", "window_start", "window_end").distinct()
    return sorted((windows.Window(*row) for row in rows), key=lambda w: w.first_day)


def extend(run_set: RunSet, *, instances=(), planned=()) -> int:
    """Add windows and/or instances; only the new (instance, window) pairs become cells."""
    current = list(run_set.cells.order_by().values_list("instance", flat=True).distinct())
    from instances.models import AMCInstance

    all_instances = list(AMCInstance.objects.filter(pk__in=current)) + list(instances)
    all_instances = _check_instances(run_set.owner, all_instances)
    all_windows = {w.first_day: w for w in [*planned_windows(run_set), *planned]}
    if len(all_windows) > windows.MAX_WINDOWS:
        raise RunSetError(f"A run set holds at most {windows.MAX_WINDOWS} windows.")
    with transaction.atomic():
        added = _add_cells(run_set, all_instances, list(all_windows.values()))
        if added and run_set.status == RunSet.Status.DONE:
            RunSet.objects.filter(pk=run_set.pk).update(status=RunSet.Status.RUNNING, finished_at=None)
        transaction.on_commit(lambda: _kick(run_set.pk))
    return added


def pause(run_set: RunSet) -> None:
    """No new cells start; running ones finish (their results are kept)."""
    RunSet.objects.filter(pk=run_set.pk, status=RunSet.Status.RUNNING).update(status=RunSet.Status.PAUSED)


def resume(run_set: RunSet) -> None:
    if RunSet.objects.filter(pk=run_set.pk, status=RunSet.Status.PAUSED).update(status=RunSet.Status.RUNNING):
        transaction.on_commit(lambda: _kick(run_set.pk))


def cancel(run_set: RunSet, *, now: datetime | None = None) -> int:
    """Waiting cells are cancelled here; running ones are cancelled on AMC by a worker."""
    now = now or timezone.now()
    with transaction.atomic():
        RunSet.objects.filter(pk=run_set.pk).exclude(status=RunSet.Status.CANCELLED).update(
            status=RunSet.Status.CANCELLED, finished_at=now
        )
        waiting = Cell.objects.filter(run_set=run_set, status__in=[Cell.Status.PENDING, Cell.Status.RETRYING]).update(
            status=Cell.Status.CANCELLED, error="Cancelled before it started.", finished_at=now
        )
        from django_q.tasks import async_task

        transaction.on_commit(lambda: async_task("runsets.tasks.cancel_cells", run_set.pk))
    return waiting


def cancel_running_cells(run_set_pk: int) -> int:
    cancelled = 0
    for cell in Cell.objects.select_related("execution__instance__account", "execution__owner").filter(
        run_set_id=run_set_pk, status=Cell.Status.SUBMITTED, execution__isnull=False
    ):
        try:
            engine.cancel(cell.execution)
            cancelled += 1
        except Exception:  # AMC unreachable: the execution finishes on its own and the cell records it
            log.exception("cancelling cell failed cell=%s", cell.pk)
    return cancelled


def retry_failed(run_set: RunSet) -> int:
    """Failed (and cancelled) cells wait again; succeeded cells are never run again."""
    with transaction.atomic():
        count = Cell.objects.filter(run_set=run_set, status__in=[Cell.Status.FAILED, Cell.Status.CANCELLED]).update(
            status=Cell.Status.PENDING, next_attempt_at=None, finished_at=None
        )
        if count:
            RunSet.objects.filter(pk=run_set.pk).update(status=RunSet.Status.RUNNING, finished_at=None)
            transaction.on_commit(lambda: _kick(run_set.pk))
    return count


def rerun_cells(run_set: RunSet, cell_pks) -> int:
    """Run chosen final cells again (fresh data for a window); Snowflake rows are updated, never duplicated."""
    with transaction.atomic():
        count = Cell.objects.filter(run_set=run_set, pk__in=list(cell_pks), status__in=Cell.FINAL).update(
            status=Cell.Status.PENDING, next_attempt_at=None, finished_at=None
        )
        if count:
            RunSet.objects.filter(pk=run_set.pk).update(status=RunSet.Status.RUNNING, finished_at=None)
            transaction.on_commit(lambda: _kick(run_set.pk))
    return count


def _kick(run_set_pk: int) -> None:
    from django_q.tasks import async_task

    async_task("runsets.tasks.dispatch_run_sets", [run_set_pk])


# --- Progress ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    counts: dict[str, int]
    total: int
    average_seconds: float | None
    eta_seconds: float | None

    @property
    def done(self) -> int:
        return sum(self.counts.get(s, 0) for s in Cell.FINAL)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def progress(run_set: RunSet) -> Progress:
    """Counts per state and an ETA: open cells per instance, in waves of the budget, at the measured duration."""
    cells = run_set.cells
    counts = dict(cells.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    average = cells.filter(status=Cell.Status.SUCCEEDED, submitted_at__isnull=False).aggregate(
        s=Avg(F("finished_at") - F("submitted_at"))
    )["s"]
    average_seconds = average.total_seconds() if average is not None else None
    eta = None
    if average_seconds is not None and run_set.status == RunSet.Status.RUNNING:
        per_instance = cells.filter(status__in=Cell.OPEN).values("instance").annotate(n=Count("pk"))
        widest = max((row["n"] for row in per_instance), default=0)
        waves = -(-widest // max(1, run_set.max_in_flight))
        eta = waves * average_seconds
    return Progress(counts, sum(counts.values()), average_seconds, eta)


def grid(run_set: RunSet) -> tuple[list, list[windows.Window], dict]:
    """(instances, windows newest first, {(instance pk, first day): cell}) for the live page."""
    from instances.models import AMCInstance

    cells = list(run_set.cells.select_related("execution").order_by())
    instances = list(AMCInstance.objects.filter(pk__in={c.instance_id for c in cells}).order_by("name", "pk"))
    by_key = {(c.instance_id, c.first_day): c for c in cells}
    return instances, list(reversed(planned_windows(run_set))), by_key


def open_cells_filter() -> Q:
    return Q(status__in=Cell.OPEN)


def result_parts(run_set: RunSet) -> list:
    """The succeeded cells' stored results, as parts of the combined table."""
    from .combined import Part

    cells = (
        run_set.cells.filter(status=Cell.Status.SUCCEEDED, execution__result__isnull=False)
        .select_related("execution__result__execution", "instance")
        .order_by("first_day", "instance__instance_id")
    )
    return [Part(c.execution.result, c.instance.instance_id, c.first_day, c.last_day) for c in cells]
