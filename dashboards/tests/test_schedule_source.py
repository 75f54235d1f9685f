"""A dashboard over a schedule's history: one point per run window, week over week, additivity respected."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.base import ContentFile

from dashboards import data
from dashboards.models import Dashboard
from executions.models import Execution, ExecutionResult
from schedules.models import Schedule, ScheduleRun

pytestmark = pytest.mark.django_db

COLUMNS = [{"name": "campaign", "type": "string"}, {"name": "spend", "type": "decimal"},
           {"name": "reach", "type": "integer"}]  # fmt: skip


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_schedule_history_dashboard(user, make_instance, make_workflow):
    instance = make_instance(user)
    schedule = Schedule.objects.create(owner=user, workflow=make_workflow(user), instance=instance, name="Weekly")
    weeks = {0: "A,100.0,10\nB,50.0,5\n", 1: "A,80.0,12\nB,50.0,6\n", 2: "A,80.0,11\nB,50.0,7\n"}
    for week, body in weeks.items():
        start = datetime(2025, 12, 1, tzinfo=UTC) + timedelta(days=7 * week)
        execution = Execution.objects.create(owner=user, instance=instance, status="succeeded")
        result = ExecutionResult(execution=execution, columns=COLUMNS, row_count=2)
        result.file.save("r.csv", ContentFile(("campaign,spend,reach\n" + body).encode()))
        ScheduleRun.objects.create(
            schedule=schedule, scheduled_for=start + timedelta(days=9), status="succeeded", execution=execution,
            window_start=start, window_end=start + timedelta(days=7),
        )  # fmt: skip
    ScheduleRun.objects.create(schedule=schedule, scheduled_for=datetime(2026, 1, 1, tzinfo=UTC), status="failed")
    dashboard = Dashboard.objects.create(
        owner=user, name="Spend", schedule=schedule, metrics=["spend", "reach"], dimension="campaign",
        kinds={"reach": "non_additive"}, down_is_good=["spend"],
    )  # fmt: skip
    computed = data.compute(dashboard)
    assert computed["windows"] == ["2025-12-01", "2025-12-08", "2025-12-15"]
    spend, reach = computed["metrics"]
    assert spend["total"] == [150.0, 130.0, 130.0]
    assert spend["kpi"]["vs_previous"]["tone"] == "flat"  # 130 -> 130: "no change", not a green 0.00 %
    first_change = data.change(130.0, 150.0, True)
    assert first_change["tone"] == "good" and round(first_change["pct"], 2) == -13.33  # spend fell: green
    assert reach["total"] == [None, None, None]  # never summed over campaigns
    by_campaign = {row["value"]: row for row in reach["breakdown"]}
    assert by_campaign["A"]["current"] == 11 and by_campaign["A"]["change"]["delta"] == -1
    assert by_campaign["A"]["change"]["tone"] == "bad"  # reach falling is bad (up is good for reach)
