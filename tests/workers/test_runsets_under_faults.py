"""A run set (8 weeks × 3 instances) on real processes under injected AMC faults, a worker SIGKILLed mid-way.

The same stack as test_workers_under_faults (web server with the sandbox, three qclusters, the follower) plus the
run-set dispatcher. Every cell must end with exactly one live execution per attempt and none submitted twice.
"""

from collections import Counter
from datetime import date

import pytest
from django.db import connection

from tests.workers.harness import FAULTS, SQL, Stack, StackConfig, _busy_cluster

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stack(transactional_db, sandbox_dataset, tmp_path, settings, monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)  # this process only enqueues; the real clusters run the tasks
    config = StackConfig(
        database=connection.settings_dict["NAME"], data_path=sandbox_dataset, work_dir=tmp_path, faults=FAULTS
    )
    settings.MEDIA_ROOT = config.media_root
    settings.SANDBOX_DATA_PATH = sandbox_dataset
    with Stack(config) as running:
        yield running


def test_a_run_set_completes_every_cell_exactly_once_with_a_killed_worker(stack):
    from accounts.models import User
    from executions.models import Execution
    from home.demo import connect_to_sandbox, ensure_sandbox_instances
    from instances.models import AMCInstance
    from queries.models import Workflow
    from recomamp.background import ensure_background_schedules
    from recomamp.sandbox.models import SandboxExecution
    from runsets import services, windows
    from runsets.models import Cell, RunSet

    ensure_background_schedules()
    user = User.objects.create_user(email="runsets@example.com", password="reliability-check-1")
    connect_to_sandbox(user)
    ensure_sandbox_instances(user)
    instances = list(AMCInstance.objects.filter(owner=user).order_by("pk"))[:3]
    workflow = Workflow.objects.create(owner=user, name="Reach by campaign", sql=SQL)
    stack.start_web()
    stack.start_workers(3)
    stack.start("runset-dispatcher", "dispatch_run_sets", "--interval", "2")
    planned = windows.generate(period="week", tz="UTC", today=date(2026, 1, 3), last=8)
    run_set = services.create_run_set(owner=user, workflow=workflow, instances=instances, planned=planned)
    cells = Cell.objects.filter(run_set=run_set)
    assert cells.count() == 24

    stack.wait_until(lambda: cells.filter(status__in=Cell.FINAL).count() >= 7, timeout=240, what="a third final")
    victim = _busy_cluster(stack, ["qcluster-1", "qcluster-2", "qcluster-3"])
    in_flight = stack.kill(victim)
    stack.restart(victim)
    stack.wait_until(
        lambda: RunSet.objects.get(pk=run_set.pk).status == RunSet.Status.DONE, timeout=420, what="the set done"
    )
    logs = f"killed {victim} with {in_flight} in flight\n{stack.log_tail()}"

    statuses = Counter(cells.values_list("status", flat=True))
    # Only an AMC auth failure right after a token refresh is not transient (see test_workers_under_faults).
    failed = cells.exclude(status=Cell.Status.SUCCEEDED)
    assert all("AMCAuthError" in c.error for c in failed), (statuses, logs)
    assert statuses[Cell.Status.SUCCEEDED] >= 22, (statuses, logs)
    # Exactly once: one execution per cell attempt, each cell's window and instance, nothing sent to AMC twice.
    executions = Execution.objects.filter(owner=user)
    assert executions.count() == sum(cells.values_list("attempts", flat=True)), logs
    for cell in cells.select_related("execution"):
        assert (cell.execution.instance_id, cell.execution.time_window_start) == (cell.instance_id, cell.window_start)
    ours = set(executions.exclude(amc_execution_id="").values_list("amc_execution_id", flat=True))
    on_amc = list(SandboxExecution.objects.values_list("execution_id", flat=True))
    assert len(on_amc) == len(set(on_amc)) == len(ours), logs
    assert all(cell.row_count for cell in cells.filter(status=Cell.Status.SUCCEEDED))
