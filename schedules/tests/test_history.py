"""History queries: metrics from fixture runs, daily series, missed slots, exports and the SVG charts."""

import csv
import io
import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from executions.models import Execution
from schedules import charts, history
from schedules.models import Schedule, ScheduleRun

NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def schedule(user, make_instance, make_workflow):
    return Schedule.objects.create(
        owner=user, workflow=make_workflow(user), instance=make_instance(user), name="Daily reach",
        kind=Schedule.Kind.DAILY, time_of_day=time(6, 0), timezone="UTC", window_rule={"kind": "previous_day"},
        next_run_at=at("2026-03-06T06:00"),
    )  # fmt: skip


def add_run(schedule, slot, status="succeeded", minutes=None, **fields):
    execution = None
    if minutes is not None:
        execution = Execution.objects.create(
            owner=schedule.owner, instance=schedule.instance, workflow=schedule.workflow, status=status,
            submitted_at=slot, finished_at=slot + timedelta(minutes=minutes),
        )  # fmt: skip
    return ScheduleRun.objects.create(
        schedule=schedule, scheduled_for=slot, status=status, execution=execution, **fields
    )


@pytest.mark.django_db
def test_run_metrics(schedule):
    durations = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    for day, minutes in enumerate(durations, start=1):
        status = "failed" if day in (3, 7) else "succeeded"
        add_run(schedule, at(f"2026-02-{day:02d}T06:00"), status, minutes, row_count=10 * day,
                cost_estimate=Decimal("0.05"))  # fmt: skip
    add_run(schedule, at("2026-02-11T06:00"), "skipped", reason="Cost above the limit")
    add_run(schedule, at("2026-02-12T06:00"), "cancelled", 5)
    metrics = history.run_metrics(schedule.runs.all())
    assert metrics.total == 12
    assert metrics.by_status == {"succeeded": 8, "failed": 2, "skipped": 1, "cancelled": 1}
    assert metrics.success_rate == round(100 * 8 / 11, 1)  # skipped runs are not finished runs
    assert metrics.average_duration == timedelta(minutes=sum(durations) + 5) / 11
    assert metrics.p95_duration == timedelta(minutes=100)
    assert metrics.total_rows == 10 * sum(range(1, 11))
    assert metrics.total_cost == Decimal("0.50")
    assert [row[0] for row in metrics.status_rows] == ["succeeded", "failed", "skipped", "cancelled"]


@pytest.mark.django_db
def test_metrics_of_no_runs(schedule):
    metrics = history.run_metrics(schedule.runs.all())
    assert (metrics.total, metrics.success_rate, metrics.average_duration, metrics.total_rows) == (0, None, None, 0)
    assert metrics.average_label == "—"


def test_percentile_and_duration_labels():
    values = list(range(1, 21))
    assert (history.percentile(values, 95), history.percentile(values, 50), history.percentile([7], 95)) == (19, 10, 7)
    assert history.format_duration(timedelta(seconds=45)) == "45s"
    assert history.format_duration(timedelta(minutes=12, seconds=30)) == "12m 30s"
    assert history.format_duration(timedelta(hours=1, minutes=5)) == "1h 05m"


@pytest.mark.django_db
def test_daily_series_use_the_schedules_local_day(schedule):
    schedule.timezone = "America/New_York"
    add_run(schedule, at("2026-03-03T03:00"), "succeeded", 10)  # 22:00 on March 2 in New York
    add_run(schedule, at("2026-03-03T12:00"), "failed", 20)
    add_run(schedule, at("2026-03-03T13:00"), "failed", 40)
    counts = history.daily_counts(schedule.runs.all(), schedule)
    assert counts == [(date(2026, 3, 2), {"succeeded": 1}), (date(2026, 3, 3), {"failed": 2})]
    assert history.daily_durations(schedule.runs.all(), schedule) == [
        (date(2026, 3, 2), 10.0),
        (date(2026, 3, 3), 30.0),
    ]


@pytest.mark.django_db
def test_filtered_runs(schedule):
    add_run(schedule, at("2026-03-01T06:00"), "succeeded")
    add_run(schedule, at("2026-03-02T06:00"), "failed")
    add_run(schedule, at("2026-03-02T09:00"), "succeeded", is_test=True)
    add_run(schedule, at("2026-03-03T06:00"), "succeeded")

    def slots(**filters):
        return [run.scheduled_for.day for run in history.filtered_runs(schedule, **filters)]

    assert slots() == [3, 2, 2, 1]
    assert slots(status="succeeded", kind="real") == [3, 1]
    assert slots(kind="test") == [2]
    assert slots(date_from=date(2026, 3, 2), date_to=date(2026, 3, 2)) == [2, 2]


@pytest.mark.django_db
def test_missed_slots_are_the_gaps_in_the_expected_sequence(schedule):
    for day in (1, 2, 4):
        add_run(schedule, at(f"2026-03-{day:02d}T06:00"))
    add_run(schedule, at("2026-03-03T09:00"), is_test=True)  # a test run does not fill a slot
    assert history.missed_slots(schedule, NOW) == [at("2026-03-03T06:00"), at("2026-03-05T06:00")]
    alerts = history.missed_run_alerts(schedule, NOW)
    assert len(alerts) == 1 and alerts[0].message.startswith("2 slot(s)")
    schedule.is_active = False
    assert history.missed_slots(schedule, NOW) == []


@pytest.mark.django_db
def test_overdue_next_run_is_an_alert_after_the_grace_period(schedule):
    add_run(schedule, at("2026-03-05T06:00"))
    schedule.next_run_at = at("2026-03-05T11:57")
    assert history.missed_run_alerts(schedule, NOW) == []
    schedule.next_run_at = at("2026-03-05T11:50")
    [alert] = history.missed_run_alerts(schedule, NOW)
    assert alert.slots == [at("2026-03-05T11:50")] and "10 minutes ago" in alert.message


@pytest.mark.django_db
def test_timeline_merges_planned_runs_and_missed_slots(schedule):
    add_run(schedule, at("2026-03-03T06:00"), "failed", 5, reason="", error="exec_x: boom")
    add_run(schedule, at("2026-03-05T06:00"), "succeeded", 5, window_start=at("2026-03-03T00:00"),
            window_end=at("2026-03-04T00:00"), window_timezone="UTC")  # fmt: skip
    entries = history.timeline(schedule, NOW, planned=2)
    assert [(e.slot.day, e.status) for e in entries] == [
        (7, "planned"), (6, "planned"), (5, "succeeded"), (4, "missed"), (3, "failed"),
    ]  # fmt: skip
    assert entries[2].window.first_day == entries[2].window.last_day == date(2026, 3, 3)
    assert entries[2].execution_id.startswith("exec_") and entries[4].reason == "exec_x: boom"
    assert entries[0].window.first_day == date(2026, 3, 4)  # 7th minus the 2-day lag, previous day


@pytest.mark.django_db
def test_exports(schedule):
    add_run(schedule, at("2026-03-01T06:00"), "succeeded", 90, row_count=12, cost_estimate=Decimal("0.10"))
    add_run(schedule, at("2026-03-02T06:00"), "failed", error='=HYPERLINK("http://evil")')
    runs = history.filtered_runs(schedule)
    rows = list(csv.DictReader(io.StringIO("".join(history.iter_csv(runs, schedule.schedule_id)))))
    assert [r["status"] for r in rows] == ["failed", "succeeded"]
    assert rows[0]["error"].startswith("'=")  # a spreadsheet must not run it as a formula
    assert (rows[1]["duration_seconds"], rows[1]["row_count"], rows[1]["cost_estimate"]) == ("5400.0", "12", "0.1")
    records = json.loads("".join(history.iter_json(runs, schedule.schedule_id)))
    assert records[1]["scheduled_for"] == "2026-03-01T06:00:00+00:00"
    assert records[1]["execution_id"].startswith("exec_") and records[0]["execution_id"] is None
    assert json.loads("".join(history.iter_json(runs.none(), schedule.schedule_id))) == []


def test_runs_chart_svg_stacks_statuses():
    days = [(date(2026, 3, 1), {"succeeded": 2, "failed": 1}), (date(2026, 3, 2), {"skipped": 1})]
    svg = charts.runs_chart_svg(days)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<rect x=") == 3 + 3  # three bar segments and a legend swatch per status
    assert "<title>2026-03-01: 2 succeeded</title>" in svg and "<title>2026-03-02: 1 skipped</title>" in svg
    assert "style=" not in svg  # the CSP forbids inline styles


def test_durations_chart_svg_and_empty_charts():
    svg = charts.durations_chart_svg([(date(2026, 3, 1), 12.5), (date(2026, 3, 2), 30.0)])
    assert svg.count("<circle") == 2 and "12.5 min" in svg and "<polyline" in svg
    assert "No runs to chart yet" in charts.runs_chart_svg([])
    assert "No runs to chart yet" in charts.durations_chart_svg([])
