"""Database sessions really terminated (`pg_terminate_backend` from a second connection) at the points where the
dispatcher and the follower used to fail a whole cycle, where recovery blamed AMC for our database, and where two
dispatchers could both pass AMC's per-instance limit at 9 of 10.
"""

import logging
import threading
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

import pytest
from django.db import connections

from accounts.amazon import amc_client_for
from executions import following, leases, lifecycle, polling, quotas, services
from executions.models import Execution
from executions.tests.test_execution_flow import SQL, WINDOW, no_sleep_client
from instances.models import AMCInstance
from queries.models import Workflow
from schedules import services as schedules
from schedules.models import Schedule, ScheduleRun
from tests.db_sessions import backend_pid, side_connection, terminate

pytestmark = pytest.mark.django_db(transaction=True)


def running(owner, instance, count=1) -> list[Execution]:
    executions = []
    for _ in range(count):
        execution = services.start_execution(owner=owner, instance=instance, sql=SQL, window=WINDOW, submit=False)
        assert services.submit_execution(execution.pk, client_factory=no_sleep_client()) == "submitted"
        executions.append(execution)
    Execution.objects.filter(pk__in=[e.pk for e in executions]).update(next_poll_at=datetime.now(UTC))
    return executions


def dropping_on(victims: set[int]):
    """A client factory that terminates the calling thread's database session before the AMC call of `victims`:
    the item's next query finds its connection gone, as after a failover in the middle of a cycle."""
    real = no_sleep_client()

    def factory(execution):
        if execution.pk in victims:
            victims.discard(execution.pk)
            terminate(backend_pid())
        return real(execution)

    return factory


def in_thread(function, *args, **kwargs) -> tuple[threading.Thread, list]:
    outcome = []

    def run():
        try:
            outcome.append(function(*args, **kwargs))
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def waiting_for_advisory_lock(within=15.0) -> int:
    """The pid of a session blocked on an advisory lock (a dispatcher waiting for an instance)."""
    deadline = time.monotonic() + within
    with closing(side_connection()) as side:
        while time.monotonic() < deadline:
            row = side.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").fetchone()
            if row:
                return row[0]
            time.sleep(0.02)
    raise AssertionError("nobody waited for the instance lock")


# --- The follower ------------------------------------------------------------------------------------------------


def test_a_connection_dropped_during_one_poll_fails_only_that_poll(connected_user, demo_instance):
    first, second, third = running(connected_user, demo_instance, 3)
    cycle = following.follow_executions(client_factory=dropping_on({second.pk}), max_workers=1)

    assert cycle["polled"] == 2  # the cycle went on after the dropped one
    polled = {e.pk: e for e in Execution.objects.filter(pk__in=[first.pk, second.pk, third.pk])}
    assert polled[first.pk].last_polled_at and polled[third.pk].last_polled_at
    assert polled[second.pk].last_polled_at is None and polled[second.pk].lease_until is not None
    # Its lease runs out and a later cycle polls it, over a fresh connection.
    after_lease = datetime.now(UTC) + leases.length() + timedelta(seconds=1)
    assert polling.poll_due(after_lease, client_factory=no_sleep_client(), max_workers=1) >= 1
    assert Execution.objects.get(pk=second.pk).last_polled_at is not None


def test_recovery_reports_a_lost_database_connection_as_such_not_as_amc(connected_user, demo_instance, caplog):
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, sql=SQL, window=WINDOW, submit=False
    )
    now = datetime.now(UTC)
    lifecycle.claim_submission(execution.pk, now, lease_until=now - timedelta(seconds=1))  # its worker died
    with caplog.at_level(logging.WARNING):
        recovered = following.recover_stuck_submissions(datetime.now(UTC), dropping_on({execution.pk}))
    assert recovered == 0
    messages = [record.getMessage() for record in caplog.records]
    assert any("database connection lost during submission recovery" in m for m in messages), messages
    assert not any("could not ask AMC" in m for m in messages)
    # The next pass, once the recovery's own lease ran out, finds nothing on AMC and releases the row.
    later = datetime.now(UTC) + leases.length() + timedelta(seconds=1)
    assert following.recover_stuck_submissions(later, no_sleep_client()) == 1
    assert Execution.objects.get(pk=execution.pk).status == Execution.Status.PENDING


# --- The dispatcher and the per-instance lock --------------------------------------------------------------------


def due_schedules(owner, instances) -> None:
    workflow = Workflow.objects.create(owner=owner, name="Reach", sql=SQL)
    slot = datetime(2026, 1, 10, 6, tzinfo=UTC)
    for instance in instances:
        Schedule.objects.create(
            owner=owner, workflow=workflow, instance=instance, name=f"Daily {instance.instance_id}",
            kind=Schedule.Kind.DAILY, time_of_day=clock_time(6, 0), timezone="UTC",
            window_rule={"kind": "previous_day"}, next_run_at=slot,
        )  # fmt: skip


def hold_instance_lock(side, instance) -> None:
    """What a dispatcher holds between counting an instance's executions and committing the one it creates."""
    side.execute("BEGIN")
    side.execute("SELECT pg_advisory_xact_lock(%s)", [quotas.lock_key(instance)])


def test_a_connection_dropped_during_one_submission_fails_only_that_run(connected_user):
    instances = list(AMCInstance.objects.filter(owner=connected_user).order_by("instance_id"))[:3]
    due_schedules(connected_user, instances[:3])
    with closing(side_connection()) as side:
        hold_instance_lock(side, instances[1])
        thread, outcome = in_thread(schedules.dispatch_due, now=datetime(2026, 1, 10, 6, 1, tzinfo=UTC))
        # The dispatcher's session dies while it waits for that instance: only that run is lost.
        terminate(waiting_for_advisory_lock())
        thread.join(timeout=60)
    assert outcome and not thread.is_alive()  # the cycle ended normally
    statuses = dict(ScheduleRun.objects.values_list("schedule__instance", "status"))
    assert statuses == {
        instances[0].pk: ScheduleRun.Status.SUBMITTED,
        instances[1].pk: ScheduleRun.Status.CLAIMED,  # rolled back with its connection: no execution
        instances[2].pk: ScheduleRun.Status.SUBMITTED,
    }
    blocked = ScheduleRun.objects.get(schedule__instance=instances[1])
    assert schedules.submit_run(blocked.pk) == "submitted"  # what recover_stuck_runs does next
    assert Execution.objects.filter(trigger=Execution.Trigger.SCHEDULE).count() == 3  # one per slot


def test_the_instance_lock_keeps_two_dispatchers_from_both_passing_at_nine(connected_user, demo_instance):
    for _ in range(9):  # nine active executions already on the instance (rows only; AMC is not asked)
        Execution.objects.create(owner=connected_user, instance=demo_instance, status=Execution.Status.RUNNING)
    workflow = Workflow.objects.create(owner=connected_user, name="Reach", sql=SQL)
    slot = datetime(2026, 1, 10, 6, tzinfo=UTC)
    for name in ("A", "B"):
        Schedule.objects.create(
            owner=connected_user, workflow=workflow, instance=demo_instance, name=name, kind=Schedule.Kind.DAILY,
            time_of_day=clock_time(6, 0), timezone="UTC", window_rule={"kind": "previous_day"}, next_run_at=slot,
        )  # fmt: skip
    first, second = schedules.dispatch_due(now=slot + timedelta(seconds=5), submit=False).claimed
    with closing(side_connection()) as side:
        hold_instance_lock(side, demo_instance)  # another dispatcher is between its count and its create
        threads = [in_thread(schedules.submit_run, pk) for pk in (first, second)]
        victim = waiting_for_advisory_lock()
        side_pid = side.execute("SELECT pg_backend_pid()").fetchone()[0]
        assert victim != side_pid
        terminate(side_pid)  # that dispatcher's connection drops: its lock goes with it, nothing was created
        for thread, _ in threads:
            thread.join(timeout=60)
    outcomes = sorted(outcome[0] for _, outcome in threads)
    assert outcomes == ["submitted", "waiting"]
    assert Execution.objects.filter(instance=demo_instance, status__in=Execution.ACTIVE_STATUSES).count() == 10
    with amc_client_for(connected_user) as client:
        assert client.get_execution(
            demo_instance, Execution.objects.exclude(amc_execution_id="").get().amc_execution_id
        )
