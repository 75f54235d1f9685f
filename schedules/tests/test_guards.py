"""submit_run's AMC limits, read in one query: 10 running executions per instance, 30 ad hoc runs a day."""

from datetime import timedelta

import pytest

from executions.models import Execution
from schedules import services
from schedules.models import ScheduleRun
from schedules.tests.test_dispatch import at, no_submission, schedule  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def executions_on(s, count: int, prefix: str = "g", **fields) -> None:
    """`count` executions on the schedule's instance; an AMC id only if submitted (each AMC id is unique)."""
    submitted = "submitted_at" in fields
    Execution.objects.bulk_create(
        Execution(execution_id=f"exec_{prefix}{n:06d}", owner=s.owner, instance=s.instance,
                  amc_execution_id=f"amc-{prefix}{n}" if submitted else "", **fields)
        for n in range(count)
    )  # fmt: skip


def claimed_run(s, now):
    (run_pk,) = services.dispatch_due(now=now, submit=False).claimed
    return run_pk


def test_ten_running_executions_make_the_run_wait(schedule, no_submission):  # noqa: F811
    s = schedule(next_run_at=at("2026-01-10T06:00"))
    executions_on(s, 10, status=Execution.Status.RUNNING)
    run_pk = claimed_run(s, at("2026-01-10T06:00:05"))
    assert services.submit_run(run_pk, now=at("2026-01-10T06:00:05")) == "waiting"
    run = ScheduleRun.objects.get(pk=run_pk)
    assert "10 executions already running" in run.reason


def test_thirty_ad_hoc_runs_today_make_the_run_wait_until_tomorrow(schedule, no_submission):  # noqa: F811
    s = schedule(next_run_at=at("2026-01-10T06:00"))
    now = at("2026-01-10T06:00:05")
    executions_on(s, 30, status=Execution.Status.SUCCEEDED, submitted_at=now - timedelta(hours=1),
                  amc_workflow_id="")  # fmt: skip
    run_pk = claimed_run(s, now)
    assert services.submit_run(run_pk, now=now) == "waiting"
    run = ScheduleRun.objects.get(pk=run_pk)
    assert "30 ad hoc runs" in run.reason and run.next_attempt_at == at("2026-01-11T00:05")


def test_yesterdays_and_saved_workflow_runs_do_not_count(schedule, no_submission):  # noqa: F811
    s = schedule(next_run_at=at("2026-01-10T06:00"))
    now = at("2026-01-10T06:00:05")
    executions_on(s, 30, status=Execution.Status.SUCCEEDED, submitted_at=now - timedelta(days=1),
                  amc_workflow_id="")  # fmt: skip
    executions_on(s, 30, "w", status=Execution.Status.SUCCEEDED, submitted_at=now, amc_workflow_id="wf")
    assert services.submit_run(claimed_run(s, now), now=now) == "submitted"
