"""Honest statuses and one retry rule, over real HTTP to the sandbox (issue 12, points 3 and 7)."""

import threading
import time as time_module
from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connections
from django.utils import timezone

from accounts.amazon import AmazonConnectionError, ReauthorizationRequired
from executions import following, lifecycle, retry, services
from executions.models import Execution
from executions.tests.test_execution_flow import SQL, WINDOW, drive, no_sleep_client
from queries.models import Workflow
from recomamp.amc import errors as amc_errors
from recomamp.sandbox.models import RefreshToken, SandboxExecution
from schedules import services as schedule_services
from schedules.models import Schedule, ScheduleRun

pytestmark = pytest.mark.django_db(transaction=True)


# --- Point 7: one rule --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "decision"),
    [
        (amc_errors.AMCThrottledError("429", retry_after=3), retry.RETRY),
        (amc_errors.AMCServerError("503"), retry.RETRY),
        (amc_errors.AMCTimeoutError("slow"), retry.RETRY),
        (amc_errors.AMCConnectionError("reset"), retry.RETRY),
        (AmazonConnectionError("LWA answered 503"), retry.RETRY),
        (ReauthorizationRequired("Reconnect Amazon Ads"), retry.NEVER),
        (amc_errors.AMCAuthError("401 after a refresh"), retry.NEVER),
        (amc_errors.AMCValidationError("does not compile", line=1, column=2), retry.NEVER),
        (amc_errors.AMCForbiddenError("403"), retry.NEVER),
        (amc_errors.AMCQuotaError("422"), retry.NEVER),
        ("amc_internal", retry.RETRY),
        ("timeout", retry.RETRY),
        ("failed", retry.NEVER),
        ("rejected", retry.NEVER),
        ("reauth", retry.NEVER),
        ("", retry.NEVER),
    ],
)
def test_one_rule_classifies_every_failure(failure, decision):
    assert retry.classify(failure) == decision


def test_amc_failed_reasons_and_backoff():
    assert retry.amc_failure_kind("FAILED", "Internal error while running the query.") == retry.AMC_INTERNAL
    assert retry.amc_failure_kind("FAILED", "InternalServerError: try again") == retry.AMC_INTERNAL
    compile_text = "From line 3, column 1 to line 3, column 9: Column 'x' not found (internal error)"
    assert retry.amc_failure_kind("FAILED", compile_text) == "failed"
    assert retry.amc_failure_kind("REJECTED", "Internal error") == "rejected"
    base = timedelta(minutes=15)
    assert [retry.backoff(n, base) for n in (1, 2, 3)] == [base, 2 * base, 4 * base]
    assert retry.backoff(20, base) == retry.DEFAULT_CAP
    assert retry.backoff(1, timedelta(seconds=5), retry_after=30) == timedelta(seconds=30)


@pytest.fixture
def make_schedule(connected_user, demo_instance):
    def make(**fields):
        workflow = Workflow.objects.create(owner=connected_user, name=f"Reach {Workflow.objects.count()}", sql=SQL)
        values = dict(
            owner=connected_user, workflow=workflow, instance=demo_instance, name="Daily reach",
            kind=Schedule.Kind.DAILY, time_of_day=time(6, 0), timezone="UTC", window_rule={"kind": "previous_day"},
            next_run_at=datetime(2025, 11, 20, 6, tzinfo=UTC), max_retries=2, retry_delay_minutes=10,
        )  # fmt: skip
        values.update(fields)
        return Schedule.objects.create(**values)

    return make


def _first_run(schedule) -> ScheduleRun:
    (run_pk,) = schedule_services.dispatch_due(now=schedule.next_run_at + timedelta(seconds=5), submit=False).claimed
    assert schedule_services.submit_run(run_pk) == "submitted"
    return ScheduleRun.objects.select_related("execution").get(pk=run_pk)


def test_amc_internal_failure_is_retried_with_backoff_and_then_succeeds(make_schedule, settings):
    settings.SANDBOX_INTERNAL_FAILURE_RATE = 1.0  # the sandbox fails the next execution on AMC's side
    run = _first_run(make_schedule())
    failed = drive(run.execution)
    assert (failed.status, failed.amc_status, failed.error_kind) == ("failed", "FAILED", retry.AMC_INTERNAL)
    assert failed.failed_transiently
    run.refresh_from_db()
    assert run.status == ScheduleRun.Status.RETRYING and run.attempts == 1
    assert timedelta(minutes=9) < run.next_attempt_at - timezone.now() <= timedelta(minutes=10)

    settings.SANDBOX_INTERNAL_FAILURE_RATE = 0.0
    assert schedule_services.resume_waiting_runs(now=run.next_attempt_at) == 1
    run.refresh_from_db()
    assert run.attempts == 2 and run.execution_id != failed.pk
    done = drive(run.execution)
    assert done.status == Execution.Status.SUCCEEDED, done.error_message
    run.refresh_from_db()
    assert run.status == ScheduleRun.Status.SUCCEEDED


def test_a_connection_needing_reauthorisation_is_never_retried(make_schedule):
    RefreshToken.objects.update(revoked_at=timezone.now())  # revoked on Amazon's side: its access tokens die too
    run = _first_run(make_schedule())
    failed = drive(run.execution)
    assert (failed.status, failed.error_kind) == ("failed", retry.REAUTH)
    assert not failed.failed_transiently
    run.refresh_from_db()
    assert run.status == ScheduleRun.Status.FAILED and run.attempts == 1  # two retries allowed, none used


def test_a_compile_error_is_never_retried(make_schedule, connected_user):
    broken = Workflow.objects.create(
        owner=connected_user, name="Broken", sql="SELECT campaign,\n  COUNT(*) AS n\nFROM dsp_impressions\nLIMIT 10"
    )
    run = _first_run(make_schedule(workflow=broken))
    failed = drive(run.execution)
    assert failed.error_kind == "AMCValidationError" and not failed.failed_transiently
    run.refresh_from_db()
    assert run.status == ScheduleRun.Status.FAILED and run.attempts == 1


# --- Point 3: statuses as AMC says them; cancelling a run still being submitted -----------------------------------


def test_publishing_is_stored_and_shown_as_publishing(connected_user, demo_instance, settings, monkeypatch, client):
    from recomamp.sandbox import clock

    settings.SANDBOX_PUBLISHING_SECONDS = 30
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, sql=SQL, window=WINDOW, submit=False
    )
    following.advance(execution.pk, client_factory=no_sleep_client())  # submitted: AMC says PENDING
    execution.refresh_from_db()
    Execution.objects.filter(pk=execution.pk).update(next_poll_at=timezone.now())
    following.advance(execution.pk, client_factory=no_sleep_client())  # ran at once, now publishing for 30 s
    execution.refresh_from_db()
    assert (execution.status, execution.amc_status) == (Execution.Status.PUBLISHING, "PUBLISHING")
    assert execution.started_at is not None and execution.is_active
    assert execution.status in Execution.ON_AMC_STATUSES
    client.force_login(connected_user)
    page = client.get(f"/executions/{execution.execution_id}/").content.decode()
    assert 'class="badge status-publishing"' in page and "Publishing on AMC" in page

    later = timezone.now() + timedelta(seconds=31)
    monkeypatch.setattr(clock, "now", lambda: later)  # the sandbox's time: publishing is over
    done = drive(execution)
    assert done.status == Execution.Status.SUCCEEDED, done.error_message
    assert done.result.row_count > 0


def test_a_pending_run_is_cancelled_at_once(connected_user, demo_instance):
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, sql=SQL, window=WINDOW, submit=False
    )
    cancelled = services.cancel_execution(execution, client_factory=no_sleep_client())
    assert cancelled.status == Execution.Status.CANCELLED and not cancelled.amc_execution_id
    assert services.submit_execution(execution.pk, client_factory=no_sleep_client()) == "not-claimed"
    assert not SandboxExecution.objects.exists()


def test_a_run_being_submitted_is_cancelled_on_amc_once_it_has_an_id(connected_user, demo_instance, settings):
    settings.SANDBOX_PENDING_SECONDS = 600  # it would wait on AMC, so only our cancel can end it
    settings.SANDBOX_FAULTS = {"latency_ms": 1500}  # every AMC call takes 1.5 s: time to cancel mid-submission
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, sql=SQL, window=WINDOW, submit=False
    )
    outcome = []

    def submit():
        try:
            outcome.append(services.submit_execution(execution.pk, client_factory=no_sleep_client()))
        finally:
            connections.close_all()

    worker = threading.Thread(target=submit)
    worker.start()
    deadline = time_module.monotonic() + 5
    while Execution.objects.get(pk=execution.pk).status != Execution.Status.SUBMITTING:
        assert time_module.monotonic() < deadline, "the worker never claimed the row"
        time_module.sleep(0.02)
    asked = services.cancel_execution(execution, client_factory=no_sleep_client())
    assert asked.status == Execution.Status.SUBMITTING and asked.cancel_requested_at and not asked.amc_execution_id
    worker.join(timeout=30)
    assert outcome == ["submitted"]
    execution.refresh_from_db()
    assert execution.status == Execution.Status.CANCELLED and execution.amc_execution_id
    on_amc = SandboxExecution.objects.get(execution_id=execution.amc_execution_id)
    assert on_amc.status == SandboxExecution.Status.CANCELLED


def test_a_cancel_asked_during_a_throttled_submission_ends_it_without_resubmitting(connected_user, demo_instance):
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, sql=SQL, window=WINDOW, submit=False
    )
    assert lifecycle.claim_submission(execution.pk, timezone.now())
    assert lifecycle.request_cancel(execution)
    lifecycle.back_to_pending(execution, amc_errors.AMCThrottledError("429"), delay=timedelta(0))  # AMC said 429
    assert services.submit_execution(execution.pk, client_factory=no_sleep_client()) == "cancelled"
    execution.refresh_from_db()
    assert execution.status == Execution.Status.CANCELLED
    assert not SandboxExecution.objects.exists()
