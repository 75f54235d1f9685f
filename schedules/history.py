"""A schedule's history as plain queries: filtered runs, metrics, a timeline, missed-run alerts, exports, charts.

Everything here reads; nothing changes a row. Times are stored in UTC and shown in the schedule's zone.
Durations are an execution's `submitted_at` → `finished_at` (time on AMC, not time waiting in our queue).
The success rate counts finished runs only: succeeded / (succeeded + failed + cancelled).
"""

import csv
import io
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate

from recomamp.csv_safety import neutralise

from . import planning, timing
from .models import Schedule, ScheduleRun
from .timing import ScheduleTimingError

Status = ScheduleRun.Status
MISSED_GRACE = timedelta(minutes=5)  # the dispatcher runs every minute; later than this is a missed run
GAP_LOOKBACK_DAYS = 7
MAX_EXPECTED_SLOTS = 500  # bounds the gap check for minute-level crons
CHART_DAYS = 60
FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)


def zone_of(schedule: Schedule):
    """The schedule's zone, or UTC if the stored name is unusable (history must still render)."""
    try:
        return timing.get_zone(schedule.timezone)
    except ScheduleTimingError:
        return timing.get_zone("UTC")


# --- Filtered runs -------------------------------------------------------------------------------------------------


def filtered_runs(
    schedule: Schedule,
    *,
    status: str = "",
    kind: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet:
    """The schedule's runs, newest slot first; dates are local dates in the schedule's zone, both included."""
    runs = schedule.runs.select_related("execution", "instance")
    if status:
        runs = runs.filter(status=status)
    if kind in ("real", "test"):
        runs = runs.filter(is_test=kind == "test")
    zone = zone_of(schedule)
    if date_from:
        runs = runs.filter(scheduled_for__gte=timing.wall_time_to_utc(datetime.combine(date_from, time.min), zone))
    if date_to:
        end = timing.wall_time_to_utc(datetime.combine(date_to + timedelta(days=1), time.min), zone)
        runs = runs.filter(scheduled_for__lt=end)
    return runs.order_by("-scheduled_for", "-pk")


# --- Metrics -------------------------------------------------------------------------------------------------------


@dataclass
class RunMetrics:
    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    success_rate: float | None = None  # 0..100, None before anything finished
    average_duration: timedelta | None = None
    p95_duration: timedelta | None = None
    total_rows: int = 0
    total_cost: Decimal = Decimal("0.00")

    @property
    def average_label(self) -> str:
        return format_duration(self.average_duration)

    @property
    def p95_label(self) -> str:
        return format_duration(self.p95_duration)

    @property
    def status_rows(self) -> list[tuple[str, str, int]]:
        """(status, label, count) in the model's order, for statuses that occur."""
        return [(value, label, self.by_status[value]) for value, label in Status.choices if value in self.by_status]


def run_metrics(runs: QuerySet) -> RunMetrics:
    """Counts by status, success rate, durations, rows and estimated cost of `runs` (three queries)."""
    runs = runs.order_by()
    by_status = dict(runs.values_list("status").annotate(n=Count("pk")))
    totals = runs.aggregate(rows=Sum("row_count"), cost=Sum("cost_estimate"))
    durations = sorted(end - start for start, end, _slot in _timed(runs))
    finished = sum(by_status.get(s, 0) for s in FINISHED)
    return RunMetrics(
        total=sum(by_status.values()),
        by_status=by_status,
        success_rate=round(100 * by_status.get(Status.SUCCEEDED, 0) / finished, 1) if finished else None,
        average_duration=sum(durations, timedelta()) / len(durations) if durations else None,
        p95_duration=percentile(durations, 95) if durations else None,
        total_rows=totals["rows"] or 0,
        total_cost=totals["cost"] or Decimal("0.00"),
    )


def format_duration(value: timedelta | None) -> str:
    """'1h 05m', '12m 30s' or '45s'; an em dash when unknown."""
    if value is None:
        return "—"
    seconds = round(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def _timed(runs: QuerySet):
    return runs.filter(execution__submitted_at__isnull=False, execution__finished_at__isnull=False).values_list(
        "execution__submitted_at", "execution__finished_at", "scheduled_for"
    )


def percentile(sorted_values: list, pct: float):
    """Nearest-rank percentile of an ascending, non-empty list."""
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def daily_counts(runs: QuerySet, schedule: Schedule) -> list[tuple[date, dict[str, int]]]:
    """Runs per local day and status for the latest `CHART_DAYS` days that have runs, oldest first."""
    rows = (
        runs.order_by()
        .annotate(day=TruncDate("scheduled_for", tzinfo=zone_of(schedule)))
        .values_list("day", "status")
        .annotate(n=Count("pk"))
    )
    days: dict[date, dict[str, int]] = {}
    for day, status, n in rows:
        days.setdefault(day, {})[status] = n
    return sorted(days.items())[-CHART_DAYS:]


def daily_durations(runs: QuerySet, schedule: Schedule) -> list[tuple[date, float]]:
    """Average duration in minutes per local day of the slot, for the latest `CHART_DAYS` days."""
    zone = zone_of(schedule)
    per_day: dict[date, list[float]] = {}
    for start, end, slot in _timed(runs.order_by()):
        per_day.setdefault(slot.astimezone(zone).date(), []).append((end - start).total_seconds() / 60)
    return [(day, sum(values) / len(values)) for day, values in sorted(per_day.items())[-CHART_DAYS:]]


# --- Timeline ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowView:
    first_day: date
    last_day: date  # included
    start_utc: datetime
    end_utc: datetime  # exclusive
    tz: str


@dataclass(frozen=True)
class TimelineEntry:
    slot: datetime
    status: str  # a run status, or "planned" / "missed"
    label: str
    reason: str = ""
    window: WindowView | None = None
    execution_id: str = ""
    is_test: bool = False
    attempts: int = 0


def run_window(run: ScheduleRun) -> WindowView | None:
    """The window a run sent, read back in the zone it was sent in."""
    if not (run.window_start and run.window_end):
        return None
    try:
        zone = timing.get_zone(run.window_timezone or "UTC")
    except ScheduleTimingError:
        zone = timing.get_zone("UTC")
    last = (run.window_end - timedelta(microseconds=1)).astimezone(zone).date()
    return WindowView(run.window_start.astimezone(zone).date(), last, run.window_start, run.window_end, zone.key)


def upcoming(schedule: Schedule, now: datetime, count: int = 10) -> list[planning.SlotPlan]:
    """The next planned slots of an active schedule; none when paused or when the stored timing is unusable."""
    if not schedule.is_active:
        return []
    try:
        return planning.upcoming_plans(schedule, now, count)
    except ScheduleTimingError:
        return []


def timeline(
    schedule: Schedule, now: datetime, *, missed: list[datetime] | None = None, planned: int = 5, recent: int = 20
) -> list[TimelineEntry]:
    """Planned slots, the most recent runs and the slots that were missed, latest first."""
    entries = [
        TimelineEntry(
            slot=plan.slot,
            status="planned",
            label="Planned",
            window=WindowView(
                plan.window.first_day, plan.window.last_day, plan.window.start_utc, plan.window.end_utc, plan.window.tz
            ),
        )
        for plan in upcoming(schedule, now, planned)
    ]
    runs = list(schedule.runs.select_related("execution").order_by("-scheduled_for", "-pk")[:recent])
    entries += [
        TimelineEntry(
            slot=run.scheduled_for,
            status=run.status,
            label=run.get_status_display(),
            reason=run.reason or run.error,
            window=run_window(run),
            execution_id=run.execution.execution_id if run.execution else "",
            is_test=run.is_test,
            attempts=run.attempts,
        )
        for run in runs
    ]
    oldest_shown = runs[-1].scheduled_for if len(runs) == recent else None
    entries += [
        TimelineEntry(slot=slot, status="missed", label="Missed", reason="No run was recorded for this slot.")
        for slot in (missed_slots(schedule, now) if missed is None else missed)
        if oldest_shown is None or slot > oldest_shown
    ]
    return sorted(entries, key=lambda entry: entry.slot, reverse=True)


# --- Missed runs ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MissedRunAlert:
    message: str
    slots: list[datetime]


def overdue_slot(schedule: Schedule, now: datetime) -> datetime | None:
    """The due slot of an active schedule that the dispatcher has not claimed within the grace period."""
    if schedule.is_active and schedule.next_run_at and schedule.next_run_at < now - MISSED_GRACE:
        return schedule.next_run_at
    return None


def missed_slots(schedule: Schedule, now: datetime, lookback_days: int = GAP_LOOKBACK_DAYS) -> list[datetime]:
    """Slots of the last `lookback_days` (from the first real run on) that should have run and have no run.

    The dispatcher records even skipped catch-up slots, so a gap means no claim happened at all: the schedule
    was paused or edited in between, or the workers were down and it was resumed. Only active schedules are
    checked (a paused one is expected to have gaps), and slots from `next_run_at` on are not due yet.
    """
    if not schedule.is_active:
        return []
    real = schedule.runs.filter(is_test=False)
    first = real.order_by("scheduled_for").values_list("scheduled_for", flat=True).first()
    if first is None:
        return []
    start = max(first, now - timedelta(days=lookback_days))
    end = now - MISSED_GRACE
    if schedule.next_run_at:
        end = min(end, schedule.next_run_at - timedelta(microseconds=1))
    try:
        expected = planning.slots_between(schedule, start, end, MAX_EXPECTED_SLOTS)
    except ScheduleTimingError:
        return []
    seen = set(real.filter(scheduled_for__gte=start, scheduled_for__lte=end).values_list("scheduled_for", flat=True))
    return [slot for slot in expected if slot not in seen]


def missed_run_alerts(schedule: Schedule, now: datetime, gaps: list[datetime] | None = None) -> list[MissedRunAlert]:
    """Warnings for a due run that has not started and for slots without a run (pass `gaps` if computed)."""
    alerts = []
    overdue = overdue_slot(schedule, now)
    if overdue:
        minutes = int((now - overdue).total_seconds() // 60)
        alerts.append(
            MissedRunAlert(
                f"The run due {minutes} minutes ago has not started. Check that the background workers "
                "(manage.py qcluster) are running.",
                [overdue],
            )
        )
    gaps = missed_slots(schedule, now) if gaps is None else gaps
    if gaps:
        alerts.append(
            MissedRunAlert(
                f"{len(gaps)} slot(s) in the last {GAP_LOOKBACK_DAYS} days have no run at all, for example because "
                "the schedule was paused or edited, or the workers were down and it was resumed.",
                gaps[-5:],
            )
        )
    return alerts


# --- Export --------------------------------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "schedule_id", "scheduled_for", "status", "is_test", "attempts", "window_start", "window_end",
    "window_timezone", "execution_id", "submitted_at", "finished_at", "duration_seconds", "row_count",
    "cost_estimate", "reason", "error",
)  # fmt: skip


def export_record(run: ScheduleRun, schedule_id: str) -> dict:
    """One run as JSON-ready values: ISO instants in UTC, numbers as numbers."""
    execution = run.execution
    submitted = execution.submitted_at if execution else None
    finished = execution.finished_at if execution else None
    return {
        "schedule_id": schedule_id,
        "scheduled_for": _iso(run.scheduled_for),
        "status": run.status,
        "is_test": run.is_test,
        "attempts": run.attempts,
        "window_start": _iso(run.window_start),
        "window_end": _iso(run.window_end),
        "window_timezone": run.window_timezone,
        "execution_id": execution.execution_id if execution else None,
        "submitted_at": _iso(submitted),
        "finished_at": _iso(finished),
        "duration_seconds": (finished - submitted).total_seconds() if submitted and finished else None,
        "row_count": run.row_count,
        "cost_estimate": float(run.cost_estimate) if run.cost_estimate is not None else None,
        "reason": run.reason,
        "error": run.error,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def iter_csv(runs: QuerySet, schedule_id: str) -> Iterator[str]:
    """The runs as CSV, one line per run, streamed. Cells that a spreadsheet would run as a formula are quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for run in runs.iterator(chunk_size=500):
        record = export_record(run, schedule_id)
        writer.writerow([_csv_cell(record[name]) for name in EXPORT_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _csv_cell(value) -> str:
    if value is None:
        return ""
    return neutralise(str(value))


def iter_json(runs: QuerySet, schedule_id: str) -> Iterator[str]:
    """The runs as a JSON array of objects, streamed."""
    separator = "\n"
    yield "["
    for run in runs.iterator(chunk_size=500):
        yield separator + json.dumps(export_record(run, schedule_id), ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"
