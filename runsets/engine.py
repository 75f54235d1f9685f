"""The only module of this app that calls the execution layer: one place to adjust if that layer moves.

Cells run as saved-workflow executions through `start_execution`, like every manual and scheduled run, so
recovery, adoption and polling are the execution layer's; cancelling goes through its `cancel_execution`.
"""

from executions import quotas, retry
from executions.models import Execution
from executions.services import (
    ExecutionInputError,
    QuotaExceeded,
    SnowflakeTarget,
    WindowSpec,
    cancel_execution,
    start_execution,
)
from executions.signals import execution_finished

__all__ = [
    "Execution", "ExecutionInputError", "QuotaExceeded", "execution_finished", "quotas", "retry",
    "start_cell_execution", "cancel",
]  # fmt: skip


def start_cell_execution(cell, run_set) -> Execution:
    """Create (and queue the submission of) the execution of one cell; raises ExecutionInputError."""
    return start_execution(
        owner=run_set.owner,
        instance=cell.instance,
        workflow=run_set.workflow,
        window=WindowSpec("EXPLICIT", cell.window_start, cell.window_end, run_set.timezone),
        parameters=run_set.parameters_for(cell.instance_id),
        trigger=Execution.Trigger.MANUAL,
        delivery=SnowflakeTarget(run_set.snowflake_enabled, run_set.snowflake_table, run_set.snowflake_schema),
    )


def cancel(execution: Execution) -> Execution:
    return cancel_execution(execution)


def active_on_instances(instance_pks) -> dict[int, int]:
    """Executions in flight per instance, whatever started them (AMC's concurrency is per instance)."""
    from django.db.models import Count

    rows = (
        Execution.objects.filter(instance_id__in=list(instance_pks), status__in=Execution.ACTIVE_STATUSES)
        .values("instance_id")
        .annotate(n=Count("pk"))
    )
    return {row["instance_id"]: row["n"] for row in rows}


def follow_once() -> dict:
    """One pass of the execution follower (polling, fetching, recovery), for tools that run without a worker."""
    from executions.following import follow_executions

    return follow_executions()
