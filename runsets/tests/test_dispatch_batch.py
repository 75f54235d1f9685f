"""The batched dispatch: one transaction per run set claims cells on all its instances within each budget,
exactly once, also with two dispatcher processes racing."""

import multiprocessing
from collections import Counter

import pytest
from django.db import connections

from executions.models import Execution
from runsets import dispatch, services
from runsets.models import Cell

from .helpers import weeks

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_submission(monkeypatch):
    """Executions are created (and count against AMC's 10) but not sent: the budgets are what is measured."""
    monkeypatch.setattr("executions.services.enqueue_submission", lambda pk: None)


@pytest.fixture
def three_instances(user, make_instance):
    return [make_instance(user, f"amcbatch{i}") for i in range(3)]


def _dispatch_in_child(_):
    connections.close_all()
    started = sum(dispatch.dispatch() for _ in range(3))
    connections.close_all()
    return started


def test_two_dispatchers_fill_every_instance_to_its_budget_exactly_once(user, make_workflow, three_instances):
    run_set = services.create_run_set(
        owner=user, workflow=make_workflow(user), instances=three_instances, planned=weeks(12), start=False
    )
    busy = three_instances[0]
    Execution.objects.create(owner=user, instance=busy, status=Execution.Status.RUNNING)  # a manual run
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        started = pool.map(_dispatch_in_child, [0, 1])
    submitted = run_set.cells.filter(status=Cell.Status.SUBMITTED)
    assert sum(started) == submitted.count() == 9 + 10 + 10  # AMC's 10 per instance, shared with the manual run
    assert Counter(submitted.values_list("instance_id", flat=True)) == {
        busy.pk: 9,
        three_instances[1].pk: 10,
        three_instances[2].pk: 10,
    }
    executions = Execution.objects.filter(run_set_cells__run_set=run_set)
    assert executions.count() == 29 == len(set(submitted.values_list("execution_id", flat=True)))
    newest = sorted({c.first_day for c in run_set.cells.all()})[-10:]
    assert set(run_set.cells.filter(instance=three_instances[1], status="submitted").values_list(
        "first_day", flat=True)) == set(newest)  # fmt: skip


def test_the_rate_is_shared_by_the_sets_instances(user, make_workflow, three_instances):
    run_set = services.create_run_set(owner=user, workflow=make_workflow(user), instances=three_instances,
                                      planned=weeks(6), start=False, rate_per_minute=7)  # fmt: skip
    assert dispatch.dispatch() == 7
    assert dispatch.dispatch() == 0  # the minute's rate is spent
    per_instance = Counter(run_set.cells.filter(status="submitted").values_list("instance_id", flat=True))
    assert sorted(per_instance.values()) == [2, 2, 3]  # spread over the instances, not all on the first
