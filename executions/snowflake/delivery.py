"""Delivering an execution's stored result to the owner's Snowflake table, one SnowflakeDelivery row at a time.

Safe under django-q2's at-least-once delivery: a task first claims its row with a conditional update and returns
quietly when another worker already has it, and the load itself is a MERGE, so running it twice changes nothing.
A failed delivery keeps its error and can be retried from the stored result, without running AMC again.
"""

import logging
from contextlib import closing
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from .. import snowflake
from ..models import Execution, ExecutionResult, SnowflakeConfig, SnowflakeDelivery
from . import liveness

logger = logging.getLogger(__name__)

Status = SnowflakeDelivery.Status
# A delivery claimed this recently may not hold its load lock yet (claimed by a worker of an older release).
STUCK_AFTER = timedelta(seconds=10)
INTERRUPTED = "The load was interrupted (worker stopped); retry it."


def create_delivery(execution: Execution) -> SnowflakeDelivery | None:
    """The delivery row an execution asked for at submission (None if it asked for none); created once."""
    if not execution.snowflake_enabled or not execution.snowflake_table:
        return None
    delivery, _ = SnowflakeDelivery.objects.get_or_create(
        execution=execution, schema_name=execution.snowflake_schema, table_name=execution.snowflake_table
    )
    return delivery


def deliver(
    delivery_id: int,
    *,
    now: datetime | None = None,
    batch_size: int = snowflake.DEFAULT_BATCH_SIZE,
    key_columns: list[str] | None = None,
) -> SnowflakeDelivery | None:
    """Load the result for a pending or failed delivery. Returns None when the row was not ours to claim."""
    return _claim_and_load(delivery_id, [Status.PENDING, Status.FAILED], now, batch_size, key_columns)


def retry_delivery(
    delivery_id: int, *, now: datetime | None = None, batch_size: int = snowflake.DEFAULT_BATCH_SIZE
) -> SnowflakeDelivery | None:
    """Load a failed delivery again from the stored result. Returns None unless it was failed."""
    return _claim_and_load(delivery_id, [Status.FAILED], now, batch_size, None)


def fail_stuck_deliveries(*, now: datetime | None = None, after: timedelta = STUCK_AFTER) -> list[int]:
    """Mark deliveries left running by a worker that died as failed, so they can be retried; returns their ids.

    Dead means nobody holds the load lock (`liveness`): a live load is never touched, however long it runs.
    `after` only skips loads claimed a moment ago.
    """
    now = now or timezone.now()
    running = SnowflakeDelivery.objects.filter(status=Status.RUNNING, started_at__lt=now - after)
    failed = []
    for delivery_id, started_at in running.values_list("pk", "started_at")[:100]:
        with liveness.abandoned(delivery_id) as dead:
            rows = SnowflakeDelivery.objects.filter(pk=delivery_id, status=Status.RUNNING, started_at=started_at)
            if dead and rows.update(status=Status.FAILED, error=INTERRUPTED, finished_at=now):
                failed.append(delivery_id)
    return failed


def recover_stuck_deliveries(*, now: datetime | None = None) -> int:
    """Every minute (recomamp/background.py): fail the loads nobody is doing and load them again."""
    from django_q.tasks import async_task

    failed = fail_stuck_deliveries(now=now)
    for delivery_id in failed:
        logger.warning("Snowflake delivery %s was left running by a stopped worker; loading it again", delivery_id)
        async_task("executions.tasks.retry_snowflake_delivery", delivery_id)
    return len(failed)


def record_connection_test(config: SnowflakeConfig, *, now: datetime | None = None) -> tuple[bool, str]:
    """Test the connection and remember the outcome on the config (for the "test connection" button)."""
    ok, message = snowflake.test_connection(config)
    config.last_tested_at = now or timezone.now()
    config.last_test_ok = ok
    config.last_test_error = "" if ok else message
    config.save(update_fields=["last_tested_at", "last_test_ok", "last_test_error", "updated_at"])
    return ok, message


def _claim_and_load(delivery_id, statuses, now, batch_size, key_columns) -> SnowflakeDelivery | None:
    with liveness.loading(delivery_id):  # held until the outcome is recorded: the worker is alive
        return _claim_and_load_locked(delivery_id, statuses, now, batch_size, key_columns)


def _claim_and_load_locked(delivery_id, statuses, now, batch_size, key_columns) -> SnowflakeDelivery | None:
    now = now or timezone.now()
    claimed = SnowflakeDelivery.objects.filter(pk=delivery_id, status__in=statuses).update(
        status=Status.RUNNING, attempts=F("attempts") + 1, started_at=now, finished_at=None, error=""
    )
    if claimed != 1:
        return None
    delivery = SnowflakeDelivery.objects.select_related("execution__instance").get(pk=delivery_id)
    secrets: list[str] = []
    try:
        rows_loaded = _load(delivery, now, batch_size, key_columns, secrets)
    except Exception as exc:
        message = snowflake.classify_error(exc, secrets)
        if isinstance(exc, snowflake.EXPECTED_ERRORS):
            logger.warning("Snowflake delivery %s failed: %s", delivery_id, message)
        else:  # a bug of ours: keep the traceback (it holds no credentials, only our code and the message)
            logger.exception("Snowflake delivery %s failed unexpectedly: %s", delivery_id, message)
        _finish(delivery, Status.FAILED, error=message)
    else:
        _finish(delivery, Status.SUCCEEDED, rows_loaded=rows_loaded)
    return delivery


def _load(delivery: SnowflakeDelivery, now: datetime, batch_size: int, key_columns, secrets: list[str]) -> int:
    execution = delivery.execution
    if execution.status != Execution.Status.SUCCEEDED:
        raise snowflake.SnowflakeError("The execution has not succeeded, so there is no result to deliver.")
    result = ExecutionResult.objects.filter(execution=execution).first()
    if result is None:
        raise snowflake.SnowflakeError("The execution has no stored result to deliver.")
    config = SnowflakeConfig.objects.filter(owner_id=execution.owner_id).first()
    if config is None:
        raise snowflake.SnowflakeError("No Snowflake connection is set up: add one in your settings.")
    credentials = snowflake.credentials_from(config)
    secrets.extend(credentials.secrets)

    target = snowflake.LoadTarget(
        database=config.database, schema=delivery.schema_name or config.schema, table=delivery.table_name
    )
    columns = [snowflake.Column(c["name"], c.get("type") or "string") for c in result.columns]
    run = snowflake.RunInfo(
        amc_instance_id=execution.instance.instance_id,
        time_window_start=execution.time_window_start,
        time_window_end=execution.time_window_end,
        execution_id=execution.execution_id,
        loaded_at=now,
    )
    with result.file.open("rb") as stream, closing(snowflake.connect(credentials)) as conn:
        report = snowflake.load_rows(
            conn,
            target,
            columns,
            snowflake.read_csv_rows(stream, columns),
            run,
            key_columns=key_columns,
            batch_size=batch_size,
        )
    return report.rows_loaded


def _finish(delivery: SnowflakeDelivery, status: str, *, rows_loaded: int = 0, error: str = "") -> None:
    delivery.status = status
    delivery.error = error
    if status == Status.SUCCEEDED:
        delivery.rows_loaded = rows_loaded
    delivery.finished_at = timezone.now()
    delivery.save(update_fields=["status", "error", "rows_loaded", "finished_at"])
