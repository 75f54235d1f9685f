import re
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction

from executions.models import Execution
from queries.models import Workflow
from schedules.models import Schedule, ScheduleRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedule(user, make_instance, make_workflow):
    return Schedule.objects.create(
        owner=user, workflow=make_workflow(user), instance=make_instance(user), name="Daily reach"
    )


def test_readable_ids_have_their_prefix_and_are_unique(user, make_instance, make_workflow, schedule):
    workflows = [make_workflow(user, name=f"q{i}") for i in range(20)]
    assert all(re.fullmatch(r"wf_[0-9a-f]{8}", w.workflow_id) for w in workflows)
    assert len({w.workflow_id for w in workflows}) == 20
    execution = Execution.objects.create(owner=user, workflow=workflows[0], instance=schedule.instance)
    assert re.fullmatch(r"exec_[0-9a-f]{12}", execution.execution_id)
    assert re.fullmatch(r"sched_[0-9a-f]{12}", schedule.schedule_id)


def test_readable_id_is_unique_in_the_database(user, make_workflow):
    first = make_workflow(user)
    with pytest.raises(IntegrityError), transaction.atomic():
        Workflow.objects.create(owner=user, name="copy", sql="SELECT 1", workflow_id=first.workflow_id)


def test_second_run_for_the_same_slot_is_rejected(schedule):
    slot = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)
    ScheduleRun.objects.create(schedule=schedule, scheduled_for=slot)
    with pytest.raises(IntegrityError), transaction.atomic():
        ScheduleRun.objects.create(schedule=schedule, scheduled_for=slot)
    assert ScheduleRun.objects.filter(schedule=schedule, scheduled_for=slot).count() == 1


def test_test_runs_are_not_fenced_by_the_slot_constraint(schedule):
    slot = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)
    ScheduleRun.objects.create(schedule=schedule, scheduled_for=slot)
    ScheduleRun.objects.create(schedule=schedule, scheduled_for=slot, is_test=True)
    ScheduleRun.objects.create(schedule=schedule, scheduled_for=slot, is_test=True)
    assert schedule.runs.count() == 3


def test_instance_amc_ref_carries_amc_ids_not_ours(user, make_instance):
    instance = make_instance(user, instance_id="amcxyz789", entity_id="ENTITY42")
    ref = instance.amc_ref()
    assert ref.instance_id == "amcxyz789"
    assert ref.entity_id == "ENTITY42"
    assert ref.marketplace_id == "ATVPDKIKX0DER"
    assert str(instance.pk) not in (ref.instance_id, ref.entity_id)


def test_str_of_every_model_is_readable(user, schedule):
    execution = Execution.objects.create(owner=user, workflow=schedule.workflow, instance=schedule.instance)
    run = ScheduleRun.objects.create(schedule=schedule, scheduled_for=datetime(2026, 1, 2, 3, 4, tzinfo=UTC))
    assert str(user) == "analyst@example.com"
    assert str(execution) == execution.execution_id
    assert schedule.schedule_id in str(schedule)
    assert str(run) == f"{schedule.schedule_id} run for 2026-01-02 03:04Z"
    assert schedule.workflow.workflow_id in str(schedule.workflow)
