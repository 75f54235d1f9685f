"""Run sets against the sandbox over real HTTP: every cell exactly once, budgets, pause, retry, cancel, extend."""

from collections import Counter

import pytest

from executions.models import Execution
from instances.models import AMCInstance
from queries.models import Workflow
from recomamp.sandbox.models import SandboxExecution
from runsets import dispatch, services
from runsets.models import Cell, RunSet

from .helpers import SQL, drain, follow, weeks

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def workflow(connected_user):
    return Workflow.objects.create(owner=connected_user, name="Reach by campaign", sql=SQL)


@pytest.fixture
def instances(connected_user):
    found = list(AMCInstance.objects.filter(owner=connected_user).order_by("pk"))
    assert len(found) >= 3
    return found[:3]


def make(user, workflow, instances, n=8, **kwargs):
    return services.create_run_set(owner=user, workflow=workflow, instances=instances, planned=weeks(n), **kwargs)


def test_8_weeks_by_3_instances_run_every_cell_exactly_once(connected_user, workflow, instances):
    run_set = make(connected_user, workflow, instances, start=False)
    assert run_set.cells.count() == 24
    done = drain(run_set)
    assert done.status == RunSet.Status.DONE and done.finished_at
    cells = list(done.cells.select_related("execution"))
    assert Counter(c.status for c in cells) == {Cell.Status.SUCCEEDED: 24}
    executions = Execution.objects.filter(owner=connected_user)
    assert executions.count() == 24  # one execution per cell, no more
    assert len({c.execution_id for c in cells}) == 24
    assert SandboxExecution.objects.count() == 24  # and AMC saw each once
    for cell in cells:
        assert cell.attempts == 1 and cell.row_count and cell.row_count > 0
        assert (cell.execution.time_window_start, cell.execution.time_window_end) == (
            cell.window_start,
            cell.window_end,
        )
        assert cell.execution.instance_id == cell.instance_id
        assert cell.execution.amc_workflow_id == workflow.workflow_id  # a saved-workflow run: no ad hoc quota
    # A second dispatch, and a lost signal replayed, start nothing new.
    assert dispatch.dispatch() == 0
    for cell in cells:
        dispatch.record_outcome(cell.execution_id)
    assert Execution.objects.count() == 24


def test_budget_per_instance_is_shared_with_other_runs(connected_user, workflow, instances, settings):
    settings.SANDBOX_PENDING_SECONDS = 600  # executions stay queued on AMC
    first = instances[0]
    run_set = make(connected_user, workflow, [first], n=12, start=False, max_in_flight=5)
    assert dispatch.dispatch() == 5
    assert dispatch.dispatch() == 0
    other = make(connected_user, workflow, [first], n=12, start=False)  # a second set on the same instance
    assert dispatch.dispatch(run_set_pks=[other.pk]) == 5  # AMC's 10 in all, shared
    assert Execution.objects.filter(instance=first, status__in=Execution.ACTIVE_STATUSES).count() == 10
    assert run_set.cells.filter(status=Cell.Status.SUBMITTED).count() == 5


def test_rate_and_order(connected_user, workflow, instances, settings):
    settings.SANDBOX_PENDING_SECONDS = 600
    newest = make(connected_user, workflow, [instances[0]], n=6, start=False, rate_per_minute=2)
    assert dispatch.dispatch() == 2
    started = sorted(newest.cells.filter(status=Cell.Status.SUBMITTED).values_list("first_day", flat=True))
    assert started == sorted(newest.cells.values_list("first_day", flat=True))[-2:]
    oldest = make(connected_user, workflow, [instances[1]], n=6, start=False, order=RunSet.Order.OLDEST_FIRST)
    dispatch.dispatch(run_set_pks=[oldest.pk])
    pending = oldest.cells.filter(status=Cell.Status.PENDING)
    assert pending.count() == 0 or min(oldest.cells.values_list("first_day", flat=True)) not in set(
        pending.values_list("first_day", flat=True)
    )


def test_pause_and_resume(connected_user, workflow, instances):
    run_set = make(connected_user, workflow, instances[:2], n=4, start=False, max_in_flight=1)
    dispatch.dispatch()
    services.pause(run_set)
    follow()  # the running cells finish; nothing new starts while paused
    dispatch.dispatch()
    follow()
    assert Counter(run_set.cells.values_list("status", flat=True)) == {"succeeded": 2, "pending": 6}
    services.resume(run_set)
    done = drain(run_set)
    assert done.status == RunSet.Status.DONE
    assert done.cells.filter(status=Cell.Status.SUCCEEDED).count() == 8
    assert Execution.objects.count() == 8


def test_failed_cells_are_retried_without_rerunning_the_others(connected_user, workflow, instances):
    broken = instances[1]
    AMCInstance.objects.filter(pk=broken.pk).update(status=AMCInstance.Status.INACTIVE)
    run_set = drain(make(connected_user, workflow, instances[:2], n=3, start=False))
    assert run_set.status == RunSet.Status.DONE
    failed = run_set.cells.filter(status=Cell.Status.FAILED)
    assert failed.count() == 3 and all(c.instance_id == broken.pk and "inactive" in c.error for c in failed)
    AMCInstance.objects.filter(pk=broken.pk).update(status=AMCInstance.Status.ACTIVE)
    assert services.retry_failed(run_set) == 3
    run_set = drain(run_set)
    assert run_set.cells.filter(status=Cell.Status.SUCCEEDED).count() == 6
    assert Execution.objects.count() == 6  # the three good cells were not run again


def test_extend_adds_only_new_cells(connected_user, workflow, instances):
    run_set = drain(make(connected_user, workflow, instances[:1], n=2, start=False))
    added = services.extend(run_set, instances=[instances[1]], planned=weeks(3))
    assert added == 4  # 3 windows x 2 instances = 6 cells, 2 already existed
    run_set = drain(run_set)
    assert run_set.cells.filter(status=Cell.Status.SUCCEEDED).count() == 6
    assert Execution.objects.count() == 6


def test_cancel_stops_waiting_cells_and_cancels_running_ones_on_amc(connected_user, workflow, instances, settings):
    settings.SANDBOX_PENDING_SECONDS = 600
    run_set = make(connected_user, workflow, instances[:1], n=6, start=False, max_in_flight=2)
    dispatch.dispatch()
    follow()  # submitted and queued on AMC
    services.cancel(run_set)
    follow()
    run_set.refresh_from_db()
    assert run_set.status == RunSet.Status.CANCELLED
    assert Counter(run_set.cells.values_list("status", flat=True)) == {"cancelled": 6}
    assert Counter(SandboxExecution.objects.values_list("status", flat=True)) == {"CANCELLED": 2}
    assert dispatch.dispatch() == 0


def test_an_edited_query_is_not_run_under_the_old_name(connected_user, workflow, instances):
    run_set = make(connected_user, workflow, instances[:1], n=1, start=False)
    Workflow.objects.filter(pk=workflow.pk).update(sql=SQL + "\n-- edited")
    run_set = drain(run_set)
    cell = run_set.cells.get()
    assert cell.status == Cell.Status.FAILED and "edited" in cell.error
    assert Execution.objects.count() == 0
