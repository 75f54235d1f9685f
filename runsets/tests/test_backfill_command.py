import io

import pytest
from django.core.management import CommandError, call_command

from executions.models import Execution
from instances.models import AMCInstance
from queries.models import Workflow
from runsets.models import Cell, RunSet

from .helpers import SQL

pytestmark = pytest.mark.django_db(transaction=True)


def test_backfill_runs_every_cell_and_prints_progress(connected_user):
    workflow = Workflow.objects.create(owner=connected_user, name="Reach", sql=SQL)
    ids = list(AMCInstance.objects.filter(owner=connected_user).order_by("pk").values_list("instance_id", flat=True))
    out = io.StringIO()
    call_command(
        "backfill", "--user", connected_user.email, "--workflow", workflow.workflow_id, "--instance", ids[0],
        "--instance", ids[1], "--every", "week", "--from", "2025-12-01", "--to", "2025-12-21", "--param", "x=1",
        "--wait", "--drive", "--interval", "0.5", stdout=out,
    )  # fmt: skip
    run_set = RunSet.objects.get()
    assert run_set.status == RunSet.Status.DONE and run_set.parameters == {"x": "1"}
    assert run_set.cells.filter(status=Cell.Status.SUCCEEDED).count() == 6 == Execution.objects.count()
    text = out.getvalue()
    assert "6 cells (3 windows × 2 instances)" in text and "6/6 final" in text and "done: 6 cells" in text


def test_backfill_exits_non_zero_when_a_cell_failed(connected_user):
    workflow = Workflow.objects.create(owner=connected_user, name="Reach", sql=SQL)
    instance = AMCInstance.objects.filter(owner=connected_user).order_by("pk").first()
    AMCInstance.objects.filter(pk=instance.pk).update(status=AMCInstance.Status.INACTIVE)
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 of 1 cells failed"):
        call_command(
            "backfill", "--user", connected_user.email, "--workflow", workflow.name, "--instance",
            instance.instance_id, "--every", "month", "--from", "2025-11-01", "--to", "2025-11-30", "--wait",
            "--drive", "--interval", "0.2", stdout=io.StringIO(), stderr=err,
        )  # fmt: skip
    assert "inactive" in err.getvalue()
    with pytest.raises(CommandError, match="no instance"):
        call_command("backfill", "--user", connected_user.email, "--workflow", workflow.name, "--instance", "nope")
