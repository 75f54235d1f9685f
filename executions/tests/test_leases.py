"""Leases with heartbeats: a live worker keeps its step however long it takes, a dead one loses it within one lease
and the follower takes the step over (results too, without a qcluster), never submitting twice."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings

from accounts.amazon import amc_client_for
from executions import following, leases, lifecycle, services
from executions.models import Execution
from executions.tests.test_execution_flow import SQL, WINDOW, no_sleep_client
from recomamp.sandbox.models import SandboxExecution
from tests.db_sessions import backend_pid, side_connection

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, within=15.0):
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def fetching(connected_user, demo_instance) -> Execution:
    """An execution AMC finished whose result nobody has fetched yet (its fetch task is not run)."""
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, sql=SQL, window=WINDOW, submit=False
    )
    assert services.submit_execution(execution.pk, client_factory=no_sleep_client()) == "submitted"
    Execution.objects.filter(pk=execution.pk).update(
        status=Execution.Status.FETCHING, next_poll_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    return Execution.objects.get(pk=execution.pk)


def test_the_default_lease_lets_a_dead_workers_step_be_taken_over_within_a_minute():
    lease, beat = django_settings.EXECUTION_LEASE_SECONDS, django_settings.EXECUTION_HEARTBEAT_SECONDS
    follow_interval = 5  # executions.tasks.follow_executions_loop
    # A dead worker renewed at most just before dying; its fetch is due since it entered FETCHING.
    assert max(lease, following.FETCH_TASK_GRACE.total_seconds()) + follow_interval < 60
    assert lease >= 3 * beat  # two missed beats do not lose a live lease


def test_a_live_workers_heartbeat_keeps_its_lease_past_the_lease_length(settings, connected_user, demo_instance):
    settings.EXECUTION_LEASE_SECONDS, settings.EXECUTION_HEARTBEAT_SECONDS = 1, 0.2
    execution = fetching(connected_user, demo_instance)
    token = leases.claim(execution.pk, datetime.now(UTC), status=Execution.Status.FETCHING)
    with leases.held(execution.pk, token) as heartbeat:
        wait_for(lambda: heartbeat.beats >= 8)  # well past the 1 s lease it started with
        assert following.take_over_fetches(datetime.now(UTC), no_sleep_client()) == 0
        assert Execution.objects.get(pk=execution.pk).lease_until > token + timedelta(seconds=1)
    assert not heartbeat.lost


def renewer_threads() -> list:
    return [thread for thread in threading.enumerate() if thread.name == "lease-renewer"]


def test_one_thread_renews_every_held_lease_stops_at_once_and_ends_when_none_is_held(
    settings, connected_user, demo_instance
):
    settings.EXECUTION_LEASE_SECONDS, settings.EXECUTION_HEARTBEAT_SECONDS = 1, 0.1
    first, second = fetching(connected_user, demo_instance), fetching(connected_user, demo_instance)
    now = datetime.now(UTC)
    tokens = [leases.claim(e.pk, now, status=Execution.Status.FETCHING) for e in (first, second)]
    with leases.held(first.pk, tokens[0]) as one, leases.held(second.pk, tokens[1]) as other:
        wait_for(lambda: one.beats >= 3 and other.beats >= 3)
        assert len(renewer_threads()) == 1
    stopped_at = Execution.objects.get(pk=first.pk).lease_until
    time.sleep(0.4)  # four intervals
    assert Execution.objects.get(pk=first.pk).lease_until == stopped_at  # never renewed once the step ended
    wait_for(lambda: not renewer_threads())
    assert not one.lost and not other.lost


def test_a_heartbeat_survives_its_connection_being_terminated(settings, connected_user, demo_instance):
    settings.EXECUTION_LEASE_SECONDS, settings.EXECUTION_HEARTBEAT_SECONDS = 2, 0.2
    execution = fetching(connected_user, demo_instance)
    token = leases.claim(execution.pk, datetime.now(UTC), status=Execution.Status.FETCHING)
    with leases.held(execution.pk, token) as heartbeat, side_connection() as side:
        wait_for(lambda: heartbeat.beats >= 1)
        # The heartbeat's session is the one that last wrote this row's lease.
        ended = side.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid NOT IN (pg_backend_pid(), %s) AND query LIKE %s",
            [backend_pid(), "%lease_until%"],
        ).fetchall()
        assert ended == [(True,)]
        beats = heartbeat.beats
        wait_for(lambda: heartbeat.beats >= beats + 3)  # reconnected and renewing again
    assert not heartbeat.lost


def test_a_dead_workers_fetch_is_taken_over_by_the_follower(connected_user, demo_instance):
    execution = fetching(connected_user, demo_instance)
    now = datetime.now(UTC)
    Execution.objects.filter(pk=execution.pk).update(lease_until=now + timedelta(seconds=20))  # a live fetch
    assert following.follow_executions(client_factory=no_sleep_client())["fetched"] == 0
    Execution.objects.filter(pk=execution.pk).update(lease_until=now - timedelta(seconds=1))  # its worker died
    assert following.follow_executions(client_factory=no_sleep_client())["fetched"] == 1
    execution.refresh_from_db()
    assert execution.status == Execution.Status.SUCCEEDED and execution.result.row_count > 0


def test_a_dead_submitter_is_recovered_once_its_lease_runs_out_and_never_submitted_twice(connected_user, demo_instance):
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, sql=SQL, window=WINDOW, submit=False
    )
    now = datetime.now(UTC)
    # A worker claims the row and posts to AMC, then is killed before recording the answer.
    assert lifecycle.claim_submission(execution.pk, now, lease_until=now + leases.length())
    execution.refresh_from_db()
    with amc_client_for(connected_user) as client:
        landed = client.create_execution(demo_instance, execution.request_body)
    assert following.recover_stuck_submissions(datetime.now(UTC), no_sleep_client()) == 0  # still leased
    after_lease = now + leases.length() + timedelta(seconds=1)
    assert following.recover_stuck_submissions(after_lease, no_sleep_client()) == 1
    execution.refresh_from_db()
    assert execution.status in (Execution.Status.QUEUED, Execution.Status.RUNNING)
    assert execution.amc_execution_id == landed.execution_id and execution.lease_until is None
    assert SandboxExecution.objects.filter(workflow_id=execution.execution_id).count() == 1
