"""A schedule over several instances: each slot makes one run per target instance, each exactly once."""

import multiprocessing
from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connections

from executions.models import Execution
from schedules import claiming, services, targets
from schedules.models import Schedule, ScheduleRun

SLOT = datetime(2026, 1, 10, 6, tzinfo=UTC)


@pytest.fixture
def no_submission(monkeypatch):
    monkeypatch.setattr("executions.services.enqueue_submission", lambda pk: None)


@pytest.fixture
def two_instance_schedule(user, make_instance, make_workflow):
    def make(count=1, **fields):
        first, second = make_instance(user, "amcfirst"), make_instance(user, "amcsecond")
        schedules = Schedule.objects.bulk_create(
            Schedule(
                owner=user,
                workflow=make_workflow(user),
                instance=first,
                name=f"Daily {i}",
                schedule_id=f"sched_t{i:010x}",
                kind=Schedule.Kind.DAILY,
                time_of_day=time(6, 0),
                timezone="UTC",
                window_rule={"kind": "previous_day"},
                next_run_at=SLOT,
                **fields,
            )  # fmt: skip
            for i in range(count)
        )
        for schedule in schedules:
            schedule.extra_instances.add(second)
        return schedules, first, second

    return make


@pytest.mark.django_db
def test_targets_are_the_schedule_instance_then_the_owners_extra_instances(
    user, other_user, make_instance, two_instance_schedule
):
    (schedule,), first, second = two_instance_schedule()
    theirs = make_instance(other_user, "amctheirs", entity_id="THEIRS")
    schedule.extra_instances.add(theirs, first)  # another user's instance and a repeat are ignored
    assert targets.target_instance_ids([schedule]) == {schedule.pk: [first.pk, second.pk]}
    assert targets.target_instances(schedule) == [first, second]


@pytest.mark.django_db
def test_each_slot_makes_one_run_per_instance_and_submits_each_to_its_instance(two_instance_schedule, no_submission):
    (schedule,), first, second = two_instance_schedule()
    report = services.dispatch_due(now=SLOT + timedelta(seconds=30))
    runs = list(ScheduleRun.objects.order_by("instance__instance_id"))
    assert len(report.claimed) == 2 and [r.instance for r in runs] == [first, second]
    assert {r.scheduled_for for r in runs} == {SLOT}
    assert all(r.status == ScheduleRun.Status.SUBMITTED and r.execution.instance == r.instance for r in runs)
    assert Execution.objects.count() == 2
    # The fence: the same slot claimed again (next_run_at pushed back) records nothing new on either instance.
    Schedule.objects.filter(pk=schedule.pk).update(next_run_at=SLOT)
    assert services.dispatch_due(now=SLOT + timedelta(seconds=40)).claimed == []
    assert ScheduleRun.objects.count() == 2 and Execution.objects.count() == 2
    # The next slot: again one run per instance; a slot missed meanwhile is skipped on each instance.
    report = services.dispatch_due(now=SLOT + timedelta(days=2, seconds=30), submit=False)
    assert (len(report.claimed), report.skipped) == (2, 2)
    assert ScheduleRun.objects.filter(instance=second).count() == 3


@pytest.mark.django_db
def test_overlap_is_per_instance(two_instance_schedule, no_submission):
    (schedule,), first, second = two_instance_schedule()
    services.dispatch_due(now=SLOT + timedelta(seconds=30))
    ScheduleRun.objects.filter(instance=first).update(status=ScheduleRun.Status.SUCCEEDED)  # first is done
    services.dispatch_due(now=SLOT + timedelta(days=1, seconds=30))
    next_runs = {r.instance_id: r for r in ScheduleRun.objects.filter(scheduled_for=SLOT + timedelta(days=1))}
    assert next_runs[first.pk].status == ScheduleRun.Status.SUBMITTED
    assert next_runs[second.pk].status == ScheduleRun.Status.SKIPPED  # its own previous run is still going
    assert "previous run" in next_runs[second.pk].reason


def _dispatch_in_child(now):
    connections.close_all()
    claimed = []
    while True:
        report = claiming.claim_due_batch(now=now, batch=20)
        claimed += report.claimed
        if report.schedules == 0:
            break
    connections.close_all()
    return claimed


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_dispatchers_make_each_run_exactly_once(two_instance_schedule):
    schedules, first, second = two_instance_schedule(count=200)
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        claimed = pool.map(_dispatch_in_child, [SLOT + timedelta(seconds=30)] * 2)
    assert len(claimed[0]) + len(claimed[1]) == 400 and not set(claimed[0]) & set(claimed[1])
    real = ScheduleRun.objects.filter(is_test=False)
    assert real.count() == 400 == real.values("schedule", "instance", "scheduled_for").distinct().count()
    assert real.filter(instance=first).count() == real.filter(instance=second).count() == 200
    assert not real.exclude(status=ScheduleRun.Status.CLAIMED).exists()


@pytest.mark.django_db
def test_the_wizard_saves_also_run_on_with_the_owners_instances_only(
    user_client, user, other_user, make_instance, make_workflow
):
    from django.urls import reverse

    first, second = make_instance(user, "amcfirst"), make_instance(user, "amcsecond")
    theirs = make_instance(other_user, "amctheirs", entity_id="THEIRS")
    page = user_client.get(reverse("schedule_create") + "?step=all").content.decode()
    assert "Also run on" in page and "amctheirs" not in page and page.count('name="extra_instances"') == 2
    data = {
        "step": "all", "name": "Daily reach", "workflow": make_workflow(user).workflow_id, "instance": first.pk,
        "extra_instances": [second.pk], "kind": "daily", "time_of_day": "06:00", "timezone": "UTC",
        "start_date": "2026-03-05", "is_active": "on", "window_kind": "previous_day", "lag_days": "2",
        "max_retries": "2", "retry_delay_minutes": "15", "failure_threshold": "3", "overlap_policy": "skip",
    }  # fmt: skip
    response = user_client.post(reverse("schedule_create") + "?step=all", data)
    schedule = Schedule.objects.get()
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(schedule.extra_instances.all()) == [second]
    refused = user_client.post(
        reverse("schedule_edit", args=[schedule.schedule_id]) + "?step=all", {**data, "extra_instances": [theirs.pk]}
    )
    assert refused.status_code == 200 and list(schedule.extra_instances.all()) == [second]
    detail = user_client.get(reverse("schedule_detail", args=[schedule.schedule_id])).content.decode()
    assert "Acme US" in detail and detail.count('href="/instances/') >= 2
