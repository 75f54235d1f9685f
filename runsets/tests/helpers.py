"""Driving run sets the way the workers do, against the sandbox over real HTTP."""

from datetime import UTC, date, datetime

from accounts.amazon import amc_client_for
from executions import following
from executions.models import Execution
from runsets import dispatch, services, windows
from runsets.models import RunSet

SQL = """SELECT campaign, COUNT(*) AS impressions, COUNT(DISTINCT user_id) AS reach
FROM dsp_impressions
GROUP BY campaign"""
TODAY = date(2026, 1, 3)  # the sandbox data ends on 2025-12-31


def no_sleep_client(execution):
    return amc_client_for(execution.owner, execution.instance.region, sleep=lambda _s: None)


def weeks(n: int, today: date = TODAY) -> list[windows.Window]:
    return windows.generate(period="week", tz="UTC", today=today, lag_days=2, last=n)


def drain(run_set: RunSet, *, max_cycles: int = 200) -> RunSet:
    """Dispatch cells and follow their executions until the set is no longer running."""
    for _ in range(max_cycles):
        run_set.refresh_from_db()
        if run_set.status != RunSet.Status.RUNNING:
            return run_set
        dispatch.run_cycle()
        follow()
    raise AssertionError(f"run set did not finish: {services.progress(run_set).counts}")


def follow() -> None:
    Execution.objects.filter(status__in=Execution.ACTIVE_STATUSES, next_poll_at__isnull=False).update(
        next_poll_at=datetime.now(UTC)
    )
    for pk in Execution.objects.filter(status__in=Execution.ACTIVE_STATUSES).values_list("pk", flat=True):
        following.advance(pk, client_factory=no_sleep_client)
