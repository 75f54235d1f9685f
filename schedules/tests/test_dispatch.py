"""The dispatcher on real PostgreSQL: one run per slot, missed-slot policy, DST, test runs, guards."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connections

from executions.models import Execution
from schedules import claiming, services
from schedules.models import Schedule, ScheduleRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_submission(monkeypatch):
    """Executions are created but not sent to AMC (the execution tests cover that part)."""
    monkeypatch.setattr("executions.services.enqueue_submission", lambda pk: None)


@pytest.fixture
def schedule(user, make_instance, make_workflow):
    def make(**fields):
        instance = make_instance(user, instance_id=f"amc{Schedule.objects.count()}")
        defaults = dict(
            owner=user, workflow=make_workflow(user), instance=instance,
            name="Daily reach", kind=Schedule.Kind.DAILY, time_of_day=time(6, 0), timezone="UTC",
            window_rule={"kind": "previous_day"},
        )  # fmt: skip
        defaults.update(fields)
        return Schedule.objects.create(**defaults)

    return make


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_due_schedule_is_claimed_once_and_next_run_advanced(schedule):
    s = schedule(next_run_at=at("2026-01-10T06:00"))
    report = services.dispatch_due(now=at("2026-01-10T06:00:30"), submit=False)
    assert len(report.claimed) == 1
    again = services.dispatch_due(now=at("2026-01-10T06:00:45"), submit=False)
    assert again.claimed == []
    s.refresh_from_db()
    assert s.next_run_at == at("2026-01-11T06:00")
    assert s.last_run_at == at("2026-01-10T06:00")
    run = ScheduleRun.objects.get()
    assert (run.scheduled_for, run.status, run.is_test) == (at("2026-01-10T06:00"), "claimed", False)


def test_missed_slots_run_the_latest_once_and_skip_the_rest(schedule):
    s = schedule(next_run_at=at("2026-01-05T06:00"))
    report = services.dispatch_due(now=at("2026-01-09T07:00"), submit=False)
    runs = {r.scheduled_for.day: r for r in s.runs.all()}
    assert sorted(runs) == [5, 6, 7, 8, 9]
    assert runs[9].status == ScheduleRun.Status.CLAIMED
    assert all(runs[d].status == ScheduleRun.Status.SKIPPED and "Missed" in runs[d].reason for d in (5, 6, 7, 8))
    assert (len(report.claimed), report.skipped) == (1, 4)
    s.refresh_from_db()
    assert s.next_run_at == at("2026-01-10T06:00")


def test_dst_fall_back_fires_a_repeated_wall_time_once(schedule):
    # 01:30 happens twice in New York on 2026-11-01; the schedule fires at the first one only.
    s = schedule(time_of_day=time(1, 30), timezone="America/New_York", next_run_at=at("2026-10-31T05:30"))
    fired = []
    now = at("2026-10-31T05:30")
    while now < at("2026-11-03T00:00"):
        fired += [
            r.scheduled_for
            for r in ScheduleRun.objects.filter(pk__in=services.dispatch_due(now=now, submit=False).claimed)
        ]
        now += timedelta(minutes=15)
    assert fired == [at("2026-10-31T05:30"), at("2026-11-01T05:30"), at("2026-11-02T06:30")]
    assert s.runs.count() == 3


def test_dst_spring_forward_fires_once_at_the_first_valid_instant(schedule):
    schedule(time_of_day=time(2, 30), timezone="America/New_York", next_run_at=at("2026-03-07T07:30"))
    now, fired = at("2026-03-07T07:30"), []
    while now < at("2026-03-10T00:00"):
        fired += [
            r.scheduled_for
            for r in ScheduleRun.objects.filter(pk__in=services.dispatch_due(now=now, submit=False).claimed)
        ]
        now += timedelta(minutes=15)
    # 02:30 does not exist on 2026-03-08: it fires at 03:00 EDT (07:00Z), then 02:30 EDT (06:30Z) after.
    assert fired == [at("2026-03-07T07:30"), at("2026-03-08T07:00"), at("2026-03-09T06:30")]


def test_paused_and_future_schedules_are_not_claimed(schedule):
    schedule(next_run_at=at("2026-01-10T06:00"), is_active=False)
    schedule(next_run_at=at("2026-01-10T07:00"))
    assert services.dispatch_due(now=at("2026-01-10T06:30"), submit=False).claimed == []


def test_the_slot_fence_rejects_a_second_claim_whatever_the_path(schedule):
    s = schedule(next_run_at=at("2026-01-10T06:00"))
    services.dispatch_due(now=at("2026-01-10T06:01"), submit=False)
    assert services.claim_slot_directly(s, at("2026-01-10T06:00")) is None
    assert s.runs.filter(is_test=False).count() == 1


def test_submitting_a_run_creates_one_execution_with_the_slot_window(schedule, no_submission):
    schedule(
        next_run_at=at("2026-03-10T06:00"), timezone="Europe/London", lag_days=2,
        window_rule={"kind": "last_n_days", "n_days": 7}, parameters={"since": "slot-7d"},
    )  # fmt: skip
    (run_pk,) = services.dispatch_due(now=at("2026-03-10T06:00:10"), submit=False).claimed
    assert services.submit_run(run_pk) == "submitted"
    assert services.submit_run(run_pk) == "not-claimed"  # a duplicate task delivery does nothing
    run = ScheduleRun.objects.select_related("execution").get(pk=run_pk)
    execution = run.execution
    assert Execution.objects.count() == 1
    assert execution.trigger == Execution.Trigger.SCHEDULE
    # Window from the slot in the schedule's zone, shifted back by the 2-day lag: 7 days ending 2026-03-07.
    assert (execution.time_window_start, execution.time_window_end) == (at("2026-03-01T00:00"), at("2026-03-08T00:00"))
    assert execution.request_body["timeWindowStart"] == "2026-03-01T00:00:00"
    assert execution.request_body["timeWindowTimeZone"] == "Europe/London"
    assert run.parameters_used == {"since": "2026-03-03"}
    assert (run.window_start, run.window_end) == (at("2026-03-01T00:00"), at("2026-03-08T00:00"))


def test_test_run_never_touches_timing_or_counters(schedule, no_submission, django_capture_on_commit_callbacks):
    s = schedule(next_run_at=at("2030-01-01T06:00"), run_count=4)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_now(s)
    run.refresh_from_db()
    assert run.is_test and run.status == ScheduleRun.Status.SUBMITTED
    assert run.execution.trigger == Execution.Trigger.TEST
    s.refresh_from_db()
    assert (s.next_run_at, s.run_count, s.last_run_at) == (at("2030-01-01T06:00"), 4, None)


def _finish_execution(run, status, error_kind=""):
    Execution.objects.filter(pk=run.execution_id).update(
        status=status, error_kind=error_kind, error_message="boom" if error_kind else "", finished_at=datetime.now(UTC)
    )
    services.execution_finished(run.execution_id)
    run.refresh_from_db()
    return run


def test_transient_failures_retry_then_pause_after_the_threshold(schedule, no_submission, mailoutbox):
    s = schedule(next_run_at=at("2026-01-10T06:00"), max_retries=1, retry_delay_minutes=10, failure_threshold=2,
                 notification_emails=["team@example.com"], notify_on_failure=True)  # fmt: skip
    (run_pk,) = services.dispatch_due(now=at("2026-01-10T06:00:05"), submit=False).claimed
    services.submit_run(run_pk)
    run = _finish_execution(ScheduleRun.objects.get(pk=run_pk), Execution.Status.FAILED, "AMCServerError")
    assert run.status == ScheduleRun.Status.RETRYING and run.next_attempt_at
    assert services.resume_waiting_runs(now=run.next_attempt_at) == 1
    run.refresh_from_db()
    assert run.attempts == 2
    run = _finish_execution(run, Execution.Status.FAILED, "AMCServerError")
    assert run.status == ScheduleRun.Status.FAILED  # retries exhausted
    s.refresh_from_db()
    assert (s.consecutive_failures, s.is_active) == (1, True)
    # An SQL error is never retried; the second consecutive failure pauses the schedule.
    (second,) = services.dispatch_due(now=at("2026-01-11T06:00:05"), submit=False).claimed
    services.submit_run(second)
    run2 = _finish_execution(ScheduleRun.objects.get(pk=second), Execution.Status.FAILED, "AMCValidationError")
    assert run2.status == ScheduleRun.Status.FAILED and run2.attempts == 1
    s.refresh_from_db()
    assert (s.is_active, s.paused_by_failures, s.consecutive_failures) == (False, True, 2)
    assert "consecutive" in s.paused_reason
    subjects = [m.subject for m in mailoutbox]
    assert sum("failed" in subject for subject in subjects) == 2
    assert any("paused" in subject for subject in subjects)


def test_success_resets_the_failure_streak_and_emails_once(schedule, no_submission, mailoutbox):
    s = schedule(next_run_at=at("2026-01-10T06:00"), consecutive_failures=2, notify_on_success=True,
                 notification_emails=["team@example.com"])  # fmt: skip
    (run_pk,) = services.dispatch_due(now=at("2026-01-10T06:00:05"), submit=False).claimed
    services.submit_run(run_pk)
    run = _finish_execution(ScheduleRun.objects.get(pk=run_pk), Execution.Status.SUCCEEDED)
    services.execution_finished(run.execution_id)  # a duplicate signal / task redelivery
    assert run.status == ScheduleRun.Status.SUCCEEDED
    s.refresh_from_db()
    assert (s.consecutive_failures, s.success_count, s.run_count) == (0, 1, 1)
    assert len(mailoutbox) == 1 and "succeeded" in mailoutbox[0].subject
    assert mailoutbox[0].to == ["team@example.com"]


def test_overlap_skip_and_queue(schedule, no_submission):
    s = schedule(next_run_at=at("2026-01-10T06:00"))
    (first,) = services.dispatch_due(now=at("2026-01-10T06:00:05"), submit=False).claimed
    services.submit_run(first)
    (second,) = services.dispatch_due(now=at("2026-01-11T06:00:05"), submit=False).claimed
    assert services.submit_run(second) == "skipped"
    assert "previous run" in ScheduleRun.objects.get(pk=second).reason
    Schedule.objects.filter(pk=s.pk).update(overlap_policy=Schedule.OverlapPolicy.QUEUE)
    (third,) = services.dispatch_due(now=at("2026-01-12T06:00:05"), submit=False).claimed
    assert services.submit_run(third) == "waiting"


def test_cost_limit_skips_with_the_reason(schedule, no_submission):
    schedule(next_run_at=at("2026-01-10T06:00"), cost_limit="0.01", window_rule={"kind": "last_n_days", "n_days": 30})
    (run_pk,) = services.dispatch_due(now=at("2026-01-10T06:00:05"), submit=False).claimed
    assert services.submit_run(run_pk) == "skipped"
    run = ScheduleRun.objects.get(pk=run_pk)
    assert "above this schedule's limit" in run.reason and run.cost_estimate > 0


def test_stuck_claimed_run_is_recovered_within_a_minute(schedule, no_submission):
    schedule(next_run_at=at("2026-01-10T06:00"))
    (run_pk,) = services.dispatch_due(now=at("2026-01-10T06:00:05"), submit=False).claimed  # worker dies here
    ScheduleRun.objects.filter(pk=run_pk).update(claimed_at=datetime.now(UTC) - timedelta(seconds=61))
    assert services.recover_stuck_runs() == 1
    assert ScheduleRun.objects.get(pk=run_pk).status == ScheduleRun.Status.SUBMITTED
    assert services.recover_stuck_runs() == 0
    assert Execution.objects.count() == 1


def _dispatch_in_child(now):
    connections.close_all()
    claimed = 0
    while True:
        report = claiming.claim_due_batch(now=now, batch=50)
        claimed += len(report.claimed)
        if report.schedules == 0:
            break
    connections.close_all()
    return claimed


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_four_processes_claim_1000_due_schedules_exactly_once(user, make_instance, make_workflow):
    import multiprocessing

    workflow, instance = make_workflow(user), make_instance(user)
    due = at("2026-01-10T06:00")
    Schedule.objects.bulk_create(
        [
            Schedule(
                owner=user,
                workflow=workflow,
                instance=instance,
                name=f"s{i}",
                schedule_id=f"sched_{i:012x}",
                kind=Schedule.Kind.DAILY,
                time_of_day=time(6, 0),
                timezone="UTC",
                next_run_at=due,
            )  # fmt: skip
            for i in range(1000)
        ]
    )
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(4) as pool:
        claimed = pool.map(_dispatch_in_child, [due + timedelta(seconds=30)] * 4)
    assert sum(claimed) == 1000
    assert ScheduleRun.objects.filter(is_test=False).count() == 1000
    assert ScheduleRun.objects.values("schedule").distinct().count() == 1000
    assert not ScheduleRun.objects.exclude(status=ScheduleRun.Status.CLAIMED).exists()  # nothing skipped
    assert Schedule.objects.filter(next_run_at=at("2026-01-11T06:00")).count() == 1000


def test_a_long_outage_never_floods_amc(schedule):
    s = schedule(next_run_at=at("2025-12-01T06:00"))
    report = services.dispatch_due(now=at("2026-01-10T07:00"), submit=False)
    assert len(report.claimed) == 1  # one run, however long the outage
    assert s.runs.get(status=ScheduleRun.Status.CLAIMED).scheduled_for == at("2026-01-10T06:00")
    assert report.skipped == 6  # Jan 4-9: the last seven days are listed (skipped); older slots are not walked
    s.refresh_from_db()
    assert s.next_run_at == at("2026-01-11T06:00")
