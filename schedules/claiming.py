"""Claiming due schedules: one short transaction per batch, two statements, exactly once.

1. `SELECT … FOR UPDATE SKIP LOCKED` locks up to `batch` due schedules (only the columns the timing needs), so
   concurrent dispatchers take disjoint batches.
2. One statement then advances every locked schedule (`UPDATE … FROM (VALUES …)`) and inserts the runs, one
   per target instance (`schedules.targets`), with `INSERT … ON CONFLICT DO NOTHING RETURNING id`. The unique
   (schedule, scheduled_for, instance) constraint stays the fence: a slot that already has a run on an instance
   inserts nothing and is not returned as claimed, whatever the race.

The slots of a schedule depend only on its timing spec and `next_run_at`, so they are computed once per distinct
(timing fields, next_run_at) in a batch, and the parsed cron expression is cached (`timing.parse_cron`).
"""

from __future__ import annotations

import logging
from collections import namedtuple
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction

from . import planning, targets
from .models import Schedule, ScheduleRun

log = logging.getLogger(__name__)

CLAIM_BATCH = 100
MISSED_REASON = targets.MISSED_REASON

# What planning.spec_for and planning.slots_due read: nothing else of the row is loaded.
TIMING_FIELDS = (
    "kind", "cron_expression", "timezone", "time_of_day", "interval_days", "weekdays", "month_days", "starts_at",
    "ends_at", "next_run_at",
)  # fmt: skip


# A locked row as planning reads it (planning.spec_for and slots_due only read these attributes): a tuple is
# much cheaper to build than a model instance, and the batch builds a hundred of them.
DueSchedule = namedtuple("DueSchedule", ("pk", *TIMING_FIELDS, "instance_id", "owner_id"))
TIMING_END = 1 + len(TIMING_FIELDS)  # DueSchedule[1:TIMING_END] is the timing


@dataclass
class DispatchReport:
    claimed: list[int] = field(default_factory=list)  # run pks to submit
    skipped: int = 0
    schedules: int = 0


def claim_due_batch(*, now: datetime, batch: int = CLAIM_BATCH) -> DispatchReport:
    """One short transaction: lock up to `batch` due schedules, insert their runs, advance `next_run_at`."""
    report = DispatchReport()
    with transaction.atomic():
        due = [
            DueSchedule(*row)
            for row in Schedule.objects.select_for_update(skip_locked=True)
            .filter(is_active=True, next_run_at__lte=now)
            .order_by("next_run_at")
            .values_list("pk", *TIMING_FIELDS, "instance_id", "owner_id")[:batch]
        ]
        if not due:
            return report
        advances, runs = plan_batch(due, now)
        report.schedules = len(due)
        report.skipped = sum(1 for run in runs if run[2] == ScheduleRun.Status.SKIPPED)
        inserted = _advance_and_insert(advances, runs, now)
    report.claimed = [pk for pk, status in inserted if status == ScheduleRun.Status.CLAIMED]
    log.info("dispatch claimed schedules=%s runs=%s skipped=%s", len(due), len(report.claimed), report.skipped)
    return report


def plan_batch(due: list[DueSchedule], now: datetime) -> tuple[list[tuple], list[tuple]]:
    """(pk, next_run_at, last_run_at or None) per schedule, and the runs to insert as RUN_COLUMNS tuples: the
    latest slot claimed, older missed ones skipped, on each target instance. Slots are computed once per distinct
    timing."""
    memo: dict[tuple, tuple[list[datetime], datetime | None]] = {}
    advances, runs = [], []
    instance_ids = targets.target_instance_ids(due)  # one query for the whole batch
    for schedule in due:
        key = tuple(tuple(v) if isinstance(v, list) else v for v in schedule[1:TIMING_END])  # lists are unhashable
        if key not in memo:
            memo[key] = planning.slots_due(schedule, now)
        slots, following = memo[key]
        if not slots:  # next_run_at was past the end: nothing left to do
            advances.append((schedule.pk, following, None))
            continue
        *missed, latest = slots
        for instance_pk in instance_ids[schedule.pk]:
            skipped = ScheduleRun.Status.SKIPPED
            runs += [(schedule.pk, slot, skipped, MISSED_REASON, now, instance_pk) for slot in missed]
            runs.append((schedule.pk, latest, ScheduleRun.Status.CLAIMED, "", None, instance_pk))
        advances.append((schedule.pk, following, latest))
    return advances, runs


# The run columns that differ from row to row, in the order of plan_batch's tuples; every other column takes
# the value of a default ScheduleRun.
RUN_COLUMNS = (("schedule_id", "bigint"), ("scheduled_for", "timestamptz"), ("status", "text"), ("reason", "text"),
               ("finished_at", "timestamptz"), ("instance_id", "uuid"))  # fmt: skip


def _advance_and_insert(advances: list[tuple], runs: list[tuple], now: datetime) -> list[tuple[int, str]]:
    """One statement: the UPDATE of the schedules and the INSERT of the runs, each from arrays (unnest), so the
    text and its parameters stay the same size whatever the batch; returns the (id, status) of the runs actually
    inserted (a slot that already had a run is left out by the fence)."""
    update = (
        f"UPDATE {Schedule._meta.db_table} AS s SET next_run_at = d.next_run_at, "
        "last_run_at = COALESCE(d.last_run_at, s.last_run_at), updated_at = %s "
        "FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS d (id, next_run_at, last_run_at) "
        "WHERE s.id = d.id"
    )
    params: list = [now, *(list(column) for column in zip(*advances, strict=True))]
    if not runs:
        with connection.cursor() as cursor:
            cursor.execute(update, params)
        return []
    varying = dict(RUN_COLUMNS)
    prototype = ScheduleRun(schedule_id=0, scheduled_for=now)
    fields = [f for f in ScheduleRun._meta.concrete_fields if not f.primary_key]
    selected = []
    for f in fields:
        if f.attname in varying:
            selected.append(f"u.{f.attname}")
        else:  # the same value for every row: one parameter
            selected.append("%s")
            params.append(f.get_db_prep_save(f.pre_save(prototype, add=True), connection))
    params += [list(column) for column in zip(*runs, strict=True)]
    arrays = ", ".join(f"%s::{kind}[]" for kind in varying.values())
    statement = (
        f"WITH advanced AS ({update}) "
        f"INSERT INTO {ScheduleRun._meta.db_table} ({', '.join(connection.ops.quote_name(f.column) for f in fields)}) "
        f"SELECT {', '.join(selected)} FROM unnest({arrays}) AS u ({', '.join(varying)}) "
        "ON CONFLICT DO NOTHING RETURNING id, status"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()
