"""AMC's quotas belong to the instance: counted across every user of it, for manual runs too, under a lock
(issue 12, point 6). Real PostgreSQL; runs that go through reach the sandbox over real HTTP."""

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from executions import quotas, services
from executions.models import Execution
from executions.tests.test_execution_flow import SQL, WINDOW, drive
from home.demo import connect_to_sandbox, ensure_sandbox_instances
from instances.models import AMCInstance
from queries.models import Workflow

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def team(connected_user, demo_instance, other_user):
    """Two people, each with their own row for the same AMC instance (as after each one's sync)."""
    connect_to_sandbox(other_user)
    ensure_sandbox_instances(other_user)
    theirs = AMCInstance.objects.get(owner=other_user, instance_id=demo_instance.instance_id)
    assert theirs.pk != demo_instance.pk and theirs.region == demo_instance.region
    return demo_instance, theirs


def occupy(instance, count, *, status=Execution.Status.RUNNING, adhoc=False):
    """Executions of `instance`'s owner that already hold AMC's slots (or today's ad hoc runs)."""
    now = timezone.now()
    for n in range(count):
        Execution.objects.create(
            owner=instance.owner, instance=instance, status=status, sql_sent=SQL, submitted_at=now,
            amc_execution_id=f"amc-{instance.pk}-{status}-{n}" if adhoc else "",
        )  # fmt: skip


def test_teammates_runs_count_and_a_manual_run_is_refused_with_a_clear_message(team, client):
    mine, theirs = team
    occupy(theirs, 9)
    occupy(mine, 1, status=Execution.Status.PUBLISHING)  # on AMC, so it holds a slot
    assert quotas.usage(mine, timezone.now()) == quotas.Usage(adhoc_today=0, running=10, users=2)
    client.force_login(mine.owner)
    response = client.post(
        reverse("execution_run"),
        {"sql": SQL, "instance": mine.pk, "window_type": "EXPLICIT", "start_date": "2025-11-01",
         "end_date": "2025-11-30", "timezone": "UTC", "timeout_minutes": 360},
    )  # fmt: skip
    assert response.status_code == 200
    assert "AMC runs at most 10 executions at once on instance" in response.content.decode()
    assert Execution.objects.count() == 10  # nothing saved, nothing sent

    Execution.objects.filter(instance=theirs).first().delete()  # a teammate's run finished: one slot free
    execution = services.start_execution(owner=mine.owner, instance=mine, sql=SQL, window=WINDOW, submit=False)
    assert drive(execution).status == Execution.Status.SUCCEEDED  # it goes through, over HTTP to the sandbox


def test_the_daily_ad_hoc_quota_is_the_teams(team, connected_user, tmp_path):
    mine, theirs = team
    occupy(theirs, 20, status=Execution.Status.SUCCEEDED, adhoc=True)
    occupy(mine, 10, status=Execution.Status.SUCCEEDED, adhoc=True)
    with pytest.raises(services.QuotaExceeded, match="used AMC's 30 ad hoc runs for today"):
        services.start_execution(owner=connected_user, instance=mine, sql=SQL, window=WINDOW, submit=False)
    sql_file = tmp_path / "q.sql"
    sql_file.write_text(SQL)
    with pytest.raises(CommandError, match="30 ad hoc runs"):
        call_command(
            "run_query", user=connected_user.email, instance=mine.instance_id, sql_file=str(sql_file),
            start="2025-11-01", end="2025-11-30",
        )  # fmt: skip
    # Saved-workflow runs do not count against it, and still run.
    workflow = Workflow.objects.create(owner=connected_user, name="Reach", sql=SQL)
    saved = services.start_execution(owner=connected_user, instance=mine, workflow=workflow, window=WINDOW)
    assert drive(saved).status == Execution.Status.SUCCEEDED


def _start_together(instances) -> list[str]:
    """Each instance's owner starts a run in its own thread (own database connection), at the same moment."""
    barrier = threading.Barrier(len(instances))
    outcomes = []

    def start(instance):
        try:
            barrier.wait()
            services.start_execution(owner=instance.owner, instance=instance, sql=SQL, window=WINDOW, submit=False)
            outcomes.append("started")
        except services.QuotaExceeded:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=start, args=(instance,)) for instance in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


def test_two_processes_starting_at_nine_never_exceed_ten(team):
    mine, theirs = team
    for round_ in range(5):  # without quotas.lock_instance both start in most rounds (tried)
        Execution.objects.all().delete()
        occupy(theirs, 9)
        assert _start_together([mine, theirs]) == ["refused", "started"], round_
        assert quotas.usage(mine, timezone.now()).running == 10


def test_lock_instance_needs_a_transaction(demo_instance):
    with pytest.raises(RuntimeError, match="transaction"):
        quotas.lock_instance(demo_instance)


def test_the_home_page_shows_the_teams_use_per_instance(team, client):
    mine, theirs = team
    occupy(theirs, 3)
    occupy(mine, 2, status=Execution.Status.SUCCEEDED, adhoc=True)
    client.force_login(mine.owner)
    body = client.get(reverse("home")).content.decode()
    card = body[body.index(f'data-testid="quota-{mine.instance_id}"') :][:600]
    assert "2 / 30" in card and "3 / 10" in card and "used by 2 people" in card


def test_a_schedule_waits_while_teammates_fill_the_instance(team, connected_user):
    from datetime import UTC, datetime, time, timedelta

    from schedules import services as schedule_services
    from schedules.models import Schedule, ScheduleRun

    mine, theirs = team
    occupy(theirs, 10)
    slot = datetime(2025, 11, 20, 6, tzinfo=UTC)
    Schedule.objects.create(
        owner=connected_user, workflow=Workflow.objects.create(owner=connected_user, name="Reach", sql=SQL),
        instance=mine, name="Daily", kind=Schedule.Kind.DAILY, time_of_day=time(6, 0), timezone="UTC",
        window_rule={"kind": "previous_day"}, next_run_at=slot,
    )  # fmt: skip
    (run_pk,) = schedule_services.dispatch_due(now=slot + timedelta(seconds=5), submit=False).claimed
    assert schedule_services.submit_run(run_pk) == "waiting"
    run = ScheduleRun.objects.get(pk=run_pk)
    assert run.status == ScheduleRun.Status.WAITING and "10 executions already running" in run.reason
    assert not Execution.objects.filter(instance=mine).exists()


def test_a_refusal_inside_a_callers_transaction_saves_nothing_and_leaves_it_usable(team):
    from django.db import transaction

    mine, theirs = team
    occupy(theirs, 10)
    with transaction.atomic():
        with pytest.raises(services.QuotaExceeded):
            services.start_execution(owner=mine.owner, instance=mine, sql=SQL, window=WINDOW, submit=False)
        assert Execution.objects.count() == 10  # no savepoint, and the caller's transaction still answers
        quotas.lock_instance(mine)
        counted = quotas.usage(mine, timezone.now())
        with pytest.raises(services.QuotaExceeded):  # the count a caller made under the lock is what is checked
            services.start_execution(owner=mine.owner, instance=mine, sql=SQL, window=WINDOW, submit=False,
                                     usage=counted)  # fmt: skip
    assert counted.running == 10 and Execution.objects.count() == 10
