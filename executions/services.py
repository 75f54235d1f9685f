"""Running queries on AMC: the one path every manual, scheduled and test run takes.

`start_execution` records exactly what will be sent and hands submission to a worker; `submit_execution`
claims the row and talks to AMC. The web process never waits on AMC. Following executions (polling, fetching
results, recovery) lives in `executions.following`; every status change in `executions.lifecycle`.
"""

import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from accounts.amazon import AmazonConnectionError, amc_client_for, reused_client_for
from brands.lists import resolve_references
from queries import amc_request
from queries.models import Workflow
from queries.parameters import PreparedQuery, prepare_query
from queries.services import NOT_READ
from queries.versions import version_for_run
from recomamp import prepared as prepared_sql
from recomamp import rows
from recomamp.amc import errors as amc_errors
from recomamp.amc.client import AMCClient
from recomamp.amc.dates import off_the_hour
from recomamp.amc.records import TimeWindow
from recomamp.ids import make_readable_id

from . import leases, lifecycle, quotas, retry
from .models import Execution

log = logging.getLogger(__name__)

RELATIVE_WINDOWS = ("MOST_RECENT_DAY", "MOST_RECENT_WEEK", "CURRENT_MONTH", "PREVIOUS_MONTH")


class ExecutionInputError(ValueError):
    """The request cannot become an execution (bad parameter, window or instance); nothing was saved.

    `parameter` names the query parameter at fault, so a form can show the message beside its field.
    """

    def __init__(self, message: str, parameter: str | None = None):
        super().__init__(message)
        self.parameter = parameter


class QuotaExceeded(ExecutionInputError):
    """AMC's per-instance limit (shared by the team, `executions.quotas`) leaves no room now; nothing was saved."""


@dataclass(frozen=True)
class WindowSpec:
    """The data an execution reads: explicit bounds (aware datetimes) or one of AMC's relative types."""

    type: str = "EXPLICIT"
    start: datetime | None = None
    end: datetime | None = None
    timezone: str = "UTC"

    def validate(self) -> None:
        if self.type == "EXPLICIT":
            if not (self.start and self.end):
                raise ExecutionInputError("Choose a start and an end for the time window.")
            if self.end <= self.start:
                raise ExecutionInputError("The time window must end after it starts.")
            for name, bound in (("start", self.start), ("end", self.end)):
                if problem := off_the_hour(name, bound, self.timezone):
                    raise ExecutionInputError(problem)  # never sent to AMC to learn from a 400
        elif self.type not in RELATIVE_WINDOWS:
            raise ExecutionInputError(f"Unknown time window type {self.type}.")


@dataclass(frozen=True)
class SnowflakeTarget:
    """Where a run's result is loaded when it succeeds (copied onto the execution row)."""

    enabled: bool = False
    table: str = ""
    schema: str = ""


ClientFactory = Callable[[Execution], AMCClient]


def default_client(execution: Execution) -> AMCClient:
    return amc_client_for(execution.owner, execution.instance.region)


def submission_client(execution: Execution):
    """The client a submission uses by default: kept per thread and owner (`accounts.amazon.reused_client_for`),
    so `with` must not close it."""
    return nullcontext(reused_client_for(execution.owner, execution.instance.region))


# --- Starting ----------------------------------------------------------------------------------------------------


def start_execution(
    *,
    owner,
    instance,
    window: WindowSpec,
    workflow=None,
    sql: str | None = None,
    parameters: dict | None = None,
    trigger: str = Execution.Trigger.MANUAL,
    timeout_seconds: int | None = None,
    delivery: SnowflakeTarget = SnowflakeTarget(),
    submit: bool = True,
    usage: quotas.Usage | None = None,
    latest_version=NOT_READ,
) -> Execution:
    """Record an execution with the exact SQL, parameters and window it will send, then queue its submission.

    Raises ExecutionInputError (nothing saved) when the input cannot be sent, QuotaExceeded when AMC's limits for
    the instance (counted for everyone using it) leave no room now. `usage`: the instance's usage the caller
    counted after `quotas.lock_instance` in its still-open transaction (the count is not made twice).
    `latest_version`: the workflow's latest version (or None) when the caller read it with the workflow.
    """
    if instance.owner_id != owner.pk or (workflow is not None and workflow.owner_id != owner.pk):
        raise ExecutionInputError("That instance or query does not belong to you.")
    if instance.status != instance.Status.ACTIVE:
        raise ExecutionInputError(f"Instance {instance.name} is inactive; sync instances or choose another.")
    if workflow is None and not (sql or "").strip():
        raise ExecutionInputError("There is no SQL to run.")
    window.validate()
    # A saved query's run may carry the editor's unsaved SQL: still that query's run, sent ad hoc (amc_request).
    source_sql = sql if (sql or "").strip() else workflow.sql
    definitions = workflow.parameter_definitions() if workflow is not None else {}
    try:
        parameters = resolve_references(owner, parameters or {})  # brand lists, as they are now (brands/lists.py)
        prepared = prepare_query(source_sql, definitions, parameters)
    except ValueError as exc:  # ParameterError is a ValueError with an analyst-facing message
        raise ExecutionInputError(str(exc), parameter=getattr(exc, "name", None)) from None
    if timeout_seconds is not None and not 900 <= timeout_seconds <= 86400:
        raise ExecutionInputError("The timeout must be between 900 seconds (15 minutes) and 86400 (24 hours).")

    # No savepoint inside a caller's transaction (submit_run, run sets): a refusal leaves the block normally and is
    # raised after it, so nothing was written and the caller's transaction stays usable.
    with transaction.atomic(savepoint=False):
        # Count and create under the instance's lock: two processes never both take AMC's last slot.
        if usage is None:
            quotas.lock_instance(instance)
        adhoc = not amc_request.runs_saved_workflow(workflow, prepared)
        problem = quotas.problem(instance, timezone.now(), adhoc=adhoc, used=usage)
        if problem is None:
            execution = _save_execution(
                Execution(
                    owner=owner,
                    workflow=workflow,
                    # The version it ran; none when the editor sent unsaved SQL (that is in sql_sent, not a version).
                    query_version=version_for_run(workflow, user=owner, latest=latest_version)
                    if workflow is not None and source_sql == workflow.sql
                    else None,
                    instance=instance,
                    trigger=trigger,
                    sql_sent=prepared.sql,
                    parameters_sent={**prepared.parameter_values, **prepared.placeholder_values},
                    time_window_type=window.type,
                    time_window_start=window.start if window.type == "EXPLICIT" else None,
                    time_window_end=window.end if window.type == "EXPLICIT" else None,
                    time_window_timezone=window.timezone,
                    snowflake_enabled=delivery.enabled,
                    snowflake_table=delivery.table,
                    snowflake_schema=delivery.schema,
                    next_poll_at=timezone.now() + lifecycle.SUBMIT_TASK_GRACE,
                    **({} if timeout_seconds is None else {"timeout_seconds": timeout_seconds}),
                ),
                prepared,
                submit,
            )
    if problem is not None:
        raise QuotaExceeded(problem)
    log.info("execution created execution=%s trigger=%s instance=%s", execution.execution_id, trigger, instance.pk)
    return execution


# Every start's insert and its query's run count, in one fixed statement: through the ORM the two (and a lookup of the
# readable id) cost more CPU than the rest of a start. ON CONFLICT: a readable id already taken (rare) is drawn again
# instead of raising an error that would abort the caller's transaction; the unique column stays the guarantee.
INSERT = prepared_sql.Statement(
    "recomamp_start_execution",
    f"""
    WITH created AS ({rows.insert_sql(Execution)} ON CONFLICT (execution_id) DO NOTHING RETURNING id, workflow_id),
         counted AS (UPDATE {Workflow._meta.db_table} SET execution_count = execution_count + 1, last_executed_at = %s
                     WHERE id = (SELECT workflow_id FROM created))
    SELECT id FROM created
""",
)
ID_ATTEMPTS = 10


def _save_execution(execution: Execution, prepared: PreparedQuery, submit: bool) -> Execution:
    for _ in range(ID_ATTEMPTS):
        # The readable id doubles as the ad hoc workflow id, so it must exist before the body is built.
        execution.execution_id = make_readable_id("exec")
        execution.request_body = _request_body(execution, prepared)
        created = prepared_sql.fetch_one(INSERT, [*rows.insert_values(execution), timezone.now()])
        if created is not None:
            break
    else:
        raise RuntimeError(f"could not find a free exec_ id after {ID_ATTEMPTS} attempts")
    execution.pk = created[0]
    execution._state.adding, execution._state.db = False, connection.alias  # as Model.save leaves it
    if submit:
        transaction.on_commit(lambda: enqueue_submission(execution.pk))
    return execution


def enqueue_submission(execution_pk: int) -> None:
    from django_q.tasks import async_task

    async_task("executions.tasks.submit_execution", execution_pk, task_name=f"submit-{execution_pk}")


def _request_body(execution: Execution, prepared: PreparedQuery) -> dict:
    """The JSON body we will POST (kept on the row so the analyst sees exactly what was sent)."""
    return amc_request.execution_body(
        prepared,
        window=_window(execution),
        saved_workflow_id=execution.workflow.workflow_id
        if amc_request.runs_saved_workflow(execution.workflow, prepared)
        else None,
        adhoc_workflow_id=execution.execution_id,
        timeout_seconds=execution.timeout_seconds,
        synthetic_data=execution.instance.is_sandbox,
    )


def _window(execution: Execution) -> TimeWindow:
    if execution.time_window_type == "EXPLICIT":
        return TimeWindow(
            "EXPLICIT", execution.time_window_start, execution.time_window_end, execution.time_window_timezone
        )
    return TimeWindow(execution.time_window_type, time_zone=execution.time_window_timezone)


# --- Submitting --------------------------------------------------------------------------------------------------


def submit_execution(execution_pk: int, *, client_factory: ClientFactory = submission_client) -> str:
    """Claim a pending execution and submit it to AMC. Safe to call twice: only one call claims the row."""
    now = timezone.now()
    lease = now + leases.length()
    # The claim refuses a row whose cancel was asked, so the cancel is looked for only when the claim fails.
    claimed = lifecycle.claim_submission(execution_pk, now, lease_until=lease)
    if claimed is None:
        return "cancelled" if lifecycle.cancel_if_requested(execution_pk) else "not-claimed"
    execution = claimed.execution
    try:
        # The heartbeat keeps the lease while AMC answers; an unknown outcome keeps the last lease, so recovery
        # asks AMC only once a late answer has had time to land.
        with leases.held(execution_pk, lease), client_factory(execution) as client:
            if lifecycle.uses_saved_workflow(execution):
                amc_execution = _submit_saved(client, execution, claimed.sync)
            else:
                amc_execution = _submit_adhoc(client, execution)
    except AmazonConnectionError as exc:  # re-authorisation never retries; a refresh that failed for now may
        lifecycle.fail_execution(execution, retry.kind_of(exc), str(exc))
        return "failed"
    except amc_errors.AMCThrottledError as exc:
        # 429 means nothing was created: try again after AMC's Retry-After.
        lifecycle.back_to_pending(execution, exc, delay=timedelta(seconds=max(exc.retry_after or 0, 30)))
        return "throttled"
    except (amc_errors.AMCServerError, amc_errors.AMCTimeoutError, amc_errors.AMCConnectionError) as exc:
        # AMC may have created the execution before failing to answer: leave SUBMITTING for recovery, which asks
        # AMC before submitting again (never submit the same execution twice).
        lifecycle.record_error(execution, exc)
        log.warning("submission outcome unknown execution=%s error=%s", execution.execution_id, exc)
        return "unknown"
    except amc_errors.AMCError as exc:
        lifecycle.fail_with_amc_error(execution, exc)
        return "failed"
    recorded = lifecycle.record_submission(execution, amc_execution.execution_id, amc_execution.status)
    if recorded and execution.cancel_requested_at is not None:  # asked while AMC was answering
        honour_cancel_request(execution.pk, client_factory)
    return "submitted"


def _submit_adhoc(client: AMCClient, execution: Execution):
    return client.create_execution(execution.instance, execution.request_body)


def _submit_saved(client: AMCClient, execution: Execution, sync):
    """Run the saved workflow, creating or updating it on AMC first; recreate it if it was deleted there.
    `sync`: its copy on the instance as the claim read it (None: never pushed there)."""
    from queries.services import ensure_workflow_on_amc, mark_missing_on_amc

    ensure_workflow_on_amc(client, execution.workflow, execution.instance, sync=sync)
    try:
        return client.create_execution(execution.instance, execution.request_body)
    except amc_errors.AMCNotFoundError:
        mark_missing_on_amc(execution.workflow, execution.instance)
        ensure_workflow_on_amc(client, execution.workflow, execution.instance, force=True)
        return client.create_execution(execution.instance, execution.request_body)


# --- Cancel and re-run -------------------------------------------------------------------------------------------


def cancel_execution(execution: Execution, *, client_factory: ClientFactory = default_client) -> Execution:
    """Cancel on AMC (PUT), then read back the state AMC confirms. Not yet submitted: cancelled locally. Being
    submitted (no AMC id yet): the cancel is recorded and the submitting worker cancels on AMC once it has the id."""
    if not lifecycle.cancel_pending(execution) and not lifecycle.request_cancel(execution):
        execution.refresh_from_db()  # the submission may have got its AMC id meanwhile
        if execution.amc_execution_id and execution.is_active:
            _cancel_on_amc(execution, client_factory)
    execution.refresh_from_db()
    if execution.status == Execution.Status.CANCELLED:
        lifecycle.execution_finished(execution.pk)
    return execution


def _cancel_on_amc(execution: Execution, client_factory: ClientFactory) -> None:
    with client_factory(execution) as client:
        client.cancel_execution(execution.instance, execution.amc_execution_id)
        confirmed = client.get_execution(execution.instance, execution.amc_execution_id)
    lifecycle.apply_amc_status(execution, confirmed)


def honour_cancel_request(execution_pk: int, client_factory: ClientFactory = default_client) -> bool:
    """Cancel on AMC an execution whose cancel was asked while it was being submitted (it now has AMC's id)."""
    if not Execution.objects.filter(pk=execution_pk, cancel_requested_at__isnull=False).exists():
        return False  # the usual case, answered without reading the row
    execution = Execution.objects.select_related("owner", "instance__account").get(pk=execution_pk)
    if execution.cancel_requested_at is None or not execution.amc_execution_id or not execution.is_active:
        return False
    try:
        _cancel_on_amc(execution, client_factory)
    except (amc_errors.AMCError, AmazonConnectionError) as exc:  # still running on AMC: the user can cancel again
        log.warning("could not cancel on AMC as asked execution=%s error=%s", execution.execution_id, exc)
        return False
    log.info("cancelled on AMC as asked during submission execution=%s", execution.execution_id)
    return True


def rerun_execution(execution: Execution, *, trigger: str = Execution.Trigger.MANUAL) -> Execution:
    """Run again with the same SQL source, parameters, window and options."""
    window = WindowSpec(
        type=execution.time_window_type,
        start=execution.time_window_start,
        end=execution.time_window_end,
        timezone=execution.time_window_timezone,
    )
    return start_execution(
        owner=execution.owner,
        instance=execution.instance,
        window=window,
        workflow=execution.workflow,
        sql=None if execution.workflow else execution.sql_sent,
        parameters=execution.parameters_sent,
        trigger=trigger,
        timeout_seconds=execution.timeout_seconds,
        delivery=SnowflakeTarget(execution.snowflake_enabled, execution.snowflake_table, execution.snowflake_schema),
    )
