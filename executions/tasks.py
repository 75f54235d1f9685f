"""django-q2 tasks of the executions app (thin: they call services)."""

import logging
import time

from django.db import close_old_connections

from . import following, services

log = logging.getLogger(__name__)


def submit_execution(execution_pk: int) -> str:
    return services.submit_execution(execution_pk)


def fetch_results(execution_pk: int) -> str:
    return following.fetch_results(execution_pk)


def follow_executions_loop(duration: float = 55.0, interval: float = 5.0) -> int:
    """Triggered every minute; follows executions every `interval` seconds for about a minute.

    django-q2 schedules have one-minute granularity, and AMC polling wants a few seconds. Overlapping loops
    are harmless: every step claims its rows.
    """
    cycles = 0
    deadline = time.monotonic() + duration
    while True:
        close_old_connections()  # drops a connection the server closed, so the next query reconnects
        try:
            following.follow_executions()
        except Exception:  # a dropped database connection or AMC outage must not end the loop
            log.exception("follow cycle failed; continuing")
        cycles += 1
        if time.monotonic() + interval >= deadline:
            return cycles
        time.sleep(interval)


def deliver_to_snowflake(delivery_pk: int):
    from .snowflake.delivery import deliver

    report = deliver(delivery_pk)
    return None if report is None else report.rows_loaded


def recover_snowflake_deliveries() -> int:
    from .snowflake.delivery import recover_stuck_deliveries

    return recover_stuck_deliveries()


def retry_snowflake_delivery(delivery_pk: int):
    from .snowflake.delivery import retry_delivery

    report = retry_delivery(delivery_pk)
    return None if report is None else report.rows_loaded
