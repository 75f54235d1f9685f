"""Claiming due schedules: exactly once, in batches, one statement per batch in the common case.

A schedule's slots depend only on its timing fields (`Timing`, with `next_run_at`) and on now, so they are computed
once per distinct timing in Python (`planning.slots_due`) and handed to PostgreSQL as a small plan: per timing,
the following `next_run_at`, the slot claimed (the latest due) and the older slots skipped as missed.

* `claim_due` first reads the distinct timings of the due schedules (one grouped query). When there are few of
  them, each batch is then one autocommit statement (`_planned_statement`): `FOR UPDATE SKIP LOCKED` locks up to
  `batch` due schedules whose timing is exactly a planned one, advances them and inserts their runs. A schedule
  edited since the plan no longer matches its timing: it is neither locked nor touched, and the classic batches
  below pick it up.
* `claim_due_batch` (classic) locks due schedules in a transaction, plans their timings, then runs the same write.

The write (`write`) inserts one run per slot and target instance (`targets.extra_targets_sql`) with
`ON CONFLICT DO NOTHING RETURNING`: the unique (schedule, scheduled_for, instance) constraint stays the fence, so
a slot that already has a run on an instance inserts nothing and is not returned as claimed, whatever the race.
"""

from __future__ import annotations

import json
import logging
from collections import namedtuple
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction

from recomamp import rows

from . import planning, targets
from .models import Schedule, ScheduleRun

log = logging.getLogger(__name__)

CLAIM_BATCH = 100
MISSED_REASON = targets.MISSED_REASON
# More distinct due timings than this and the batches stay classic: the plan travels with every statement.
PLANNED_TIMINGS = 100

# What planning.spec_for and planning.slots_due read: nothing else of the row is needed to plan it.
TIMING_FIELDS = (
    "kind", "cron_expression", "timezone", "time_of_day", "interval_days", "weekdays", "month_days", "starts_at",
    "ends_at", "next_run_at",
)  # fmt: skip
Timing = namedtuple("Timing", TIMING_FIELDS)
# SQL types of the timing columns, to pass planned timings as arrays; weekdays and month_days arrive as JSON text.
TIMING_TYPES = (
    "text", "text", "text", "time", "integer", "jsonb", "jsonb", "timestamptz", "timestamptz", "timestamptz",
)  # fmt: skip
NULLABLE = {"time_of_day", "interval_days", "starts_at", "ends_at"}

SCHEDULES = Schedule._meta.db_table
RUNS = ScheduleRun._meta.db_table


def _due(alias: str) -> str:
    return f"{alias}.is_active AND {alias}.next_run_at <= %s"


@dataclass
class DispatchReport:
    claimed: list[int] = field(default_factory=list)  # run pks to submit
    skipped: int = 0
    schedules: int = 0


@dataclass
class Plan:
    """Planned timings, numbered from 1, as the statement's parameters: (key, following, latest) per timing and
    (key, slot, claimed?) per slot."""

    timings: list[tuple] = field(default_factory=list)
    keys: dict[tuple, int] = field(default_factory=dict)
    advances: list[tuple] = field(default_factory=list)
    slots: list[tuple] = field(default_factory=list)

    def key(self, timing: tuple, now: datetime) -> int:
        """The key of `timing`, planning it on first sight."""
        if timing not in self.keys:
            key = self.keys[timing] = len(self.keys) + 1
            self.timings.append(timing)
            slots, following = planning.slots_due(_as_schedule(timing), now)
            self.advances.append((key, following, slots[-1] if slots else None))
            self.slots += [(key, slot, i == len(slots) - 1) for i, slot in enumerate(slots)]
        return self.keys[timing]

    def params(self) -> list:
        return [*_columns(self.advances, 3), *_columns(self.slots, 3)]


def _as_schedule(timing: tuple) -> Timing:
    """A timing row as planning reads it: JSON lists decoded."""
    row = Timing(*timing)
    return row._replace(**{name: json.loads(getattr(row, name)) for name in ("weekdays", "month_days")})


def _columns(rows: list[tuple], width: int) -> list[list]:
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


# --- Claiming -----------------------------------------------------------------------------------------------------


def claim_due(*, now: datetime, batch: int = CLAIM_BATCH) -> Iterator[DispatchReport]:
    """Claim every due schedule, one report per batch: planned single statements first, then classic batches
    until one comes back short."""
    with connection.cursor() as cursor:
        columns = ", ".join(TIMING_FIELDS)
        grouped = f"SELECT {columns} FROM {SCHEDULES} AS s WHERE {_due('s')} GROUP BY {columns}"
        cursor.execute(f"{grouped} LIMIT %s", [now, PLANNED_TIMINGS + 1])
        timings = cursor.fetchall()
    if not timings:
        return
    if len(timings) <= PLANNED_TIMINGS:
        plan = Plan()
        for timing in timings:
            plan.key(timing, now)
        statement, params = _planned_statement(plan, now, batch)
        while True:
            report = _run(statement, params)
            yield report
            if report.schedules < batch:
                break
    while True:
        report = claim_due_batch(now=now, batch=batch)
        yield report
        if report.schedules < batch:
            return


def claim_due_batch(*, now: datetime, batch: int = CLAIM_BATCH) -> DispatchReport:
    """One short transaction: lock up to `batch` due schedules, plan their timings, advance them, insert runs."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, {', '.join(TIMING_FIELDS)} FROM {SCHEDULES} AS s WHERE {_due('s')} "
                "ORDER BY next_run_at LIMIT %s FOR UPDATE SKIP LOCKED",
                [now, batch],
            )
            due = cursor.fetchall()
        if not due:
            return DispatchReport()
        plan = Plan()
        keys = [plan.key(row[1:], now) for row in due]
        due_sql = "SELECT * FROM unnest(%s::bigint[], %s::integer[]) AS due (id, key)"
        return _run(*write(due_sql, [[row[0] for row in due], keys], plan, now))


def _planned_statement(plan: Plan, now: datetime, batch: int) -> tuple[str, list]:
    """The single statement of a planned batch: lock due schedules whose timing is a planned one, then write."""
    names = ", ".join(TIMING_FIELDS)
    arrays = ", ".join(f"%s::{kind}[]" for kind in TIMING_TYPES)
    match = " AND ".join(
        f"s.{name} IS NOT DISTINCT FROM t.{name}" if name in NULLABLE else f"s.{name} = t.{name}"
        for name in TIMING_FIELDS
    )
    # LATERAL keeps the scan in index order (next_run_at), so it stops after `batch` rows; a plain join sorted
    # every due schedule on each batch.
    due_sql = (
        f"SELECT s.id, t.key FROM {SCHEDULES} AS s CROSS JOIN LATERAL (SELECT t.key FROM unnest(%s::integer[], "
        f"{arrays}) AS t (key, {names}) WHERE {match} LIMIT 1) AS t "
        f"WHERE {_due('s')} ORDER BY s.next_run_at LIMIT %s FOR UPDATE OF s SKIP LOCKED"
    )
    timings = [list(range(1, len(plan.timings) + 1)), *_columns(plan.timings, len(TIMING_FIELDS))]
    return write(due_sql, [*timings, now, batch], plan, now)


def _run(statement: str, params: list) -> DispatchReport:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        schedules, skipped, claimed = cursor.fetchone()
    report = DispatchReport(claimed=claimed, skipped=skipped, schedules=schedules)
    if schedules:
        log.info("dispatch claimed schedules=%s runs=%s skipped=%s", schedules, len(claimed), skipped)
    return report


# --- The write ----------------------------------------------------------------------------------------------------

# The run columns that differ from row to row (see write); every other column takes the value of a default
# ScheduleRun, one parameter each.
VARYING = ("schedule_id", "instance_id", "scheduled_for", "status", "reason", "finished_at")


def write(due_sql: str, due_params: list, plan: Plan, now: datetime) -> tuple[str, list]:
    """(statement, parameters): advance the schedules `due_sql` yields as (id, plan key) and insert their runs.
    The result is one row: (schedules advanced, skipped runs planned, claimed run pks in insertion order)."""
    fields = [f for f in ScheduleRun._meta.concrete_fields if not f.primary_key]
    selected = ", ".join(f"u.{f.attname}" if f.attname in VARYING else "%s" for f in fields)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    claimed, skipped = ScheduleRun.Status.CLAIMED.value, ScheduleRun.Status.SKIPPED.value
    prototype = ScheduleRun(schedule_id=0, scheduled_for=now)
    constants = rows.db_values(prototype, [f for f in fields if f.attname not in VARYING], add=True)
    # `s.id = ANY (ARRAY(…))` hands the locked ids to the primary key index: from the join alone the planner may
    # hash the whole schedule table on every batch.
    statement = (
        "WITH plan (key, following, latest) AS "
        "(SELECT * FROM unnest(%s::integer[], %s::timestamptz[], %s::timestamptz[])), "
        "slot (key, at, claimed) AS (SELECT * FROM unnest(%s::integer[], %s::timestamptz[], %s::boolean[])), "
        f"due AS ({due_sql}), "
        f"advanced AS (UPDATE {SCHEDULES} AS s SET next_run_at = plan.following, "
        "last_run_at = COALESCE(plan.latest, s.last_run_at), updated_at = %s "
        "FROM due JOIN plan ON plan.key = due.key "
        "WHERE s.id = due.id AND s.id = ANY (ARRAY(SELECT id FROM due)) "
        "RETURNING s.id, s.instance_id, s.owner_id, due.key), "
        f"target AS ({targets.extra_targets_sql('advanced')}), "
        "run AS (SELECT target.id AS schedule_id, target.instance_id, slot.at AS scheduled_for, "
        f"CASE WHEN slot.claimed THEN '{claimed}' ELSE '{skipped}' END AS status, "
        "CASE WHEN slot.claimed THEN '' ELSE %s END AS reason, "
        "CASE WHEN slot.claimed THEN NULL ELSE %s::timestamptz END AS finished_at, "
        "target.rank FROM target JOIN slot ON slot.key = target.key), "
        f"inserted AS (INSERT INTO {RUNS} ({columns}) SELECT {selected} FROM run AS u "
        "ORDER BY u.schedule_id, u.rank, u.instance_id, u.scheduled_for ON CONFLICT DO NOTHING RETURNING id, status) "
        "SELECT (SELECT count(*) FROM advanced), "
        f"(SELECT count(*) FROM run WHERE status = '{skipped}'), "
        f"ARRAY(SELECT id FROM inserted WHERE status = '{claimed}' ORDER BY id)"
    )
    varying_after = [now, MISSED_REASON, now]  # updated_at, then a skipped run's reason and finished_at
    return statement, [*plan.params(), *due_params, *varying_after, *constants]
