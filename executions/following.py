"""Following executions after submission: the cycle (polls live in `executions.polling`), fetching results,
timeouts and recovery.

Every step claims its row with a conditional update (a lease on `next_poll_at`, or a status transition), so
django-q2's at-least-once delivery and several workers never double-process an execution.
"""

import logging
from datetime import timedelta

from django.db import DatabaseError, close_old_connections
from django.db.models import DateTimeField, ExpressionWrapper, F, Value
from django.utils import timezone

from recomamp import dropped_connections

from . import leases, lifecycle, polling, services
from .models import Execution

log = logging.getLogger(__name__)

TIMEOUT_GRACE = timedelta(minutes=10)
ADOPTION_LOOKBACK = timedelta(minutes=10)
# A fetch queued for a worker that has not started by then is taken over by the follower.
FETCH_TASK_GRACE = timedelta(seconds=30)


# --- One cycle ---------------------------------------------------------------------------------------------------


def follow_executions(*, now=None, limit: int = 500, max_workers: int | None = None, client_factory=None) -> dict:
    """One pass of everything that moves executions forward. Run every few seconds by the worker."""
    client_factory = client_factory or services.default_client
    now = now or timezone.now()
    step = dropped_connections.step  # a connection dropped in one step costs that step, not the cycle
    summary = {
        "submitted": step("resubmission", resubmit_due_pending, now, client_factory),
        "recovered": step("recovery", recover_stuck_submissions, now, client_factory),
        "timed_out": step("timeouts", fail_timed_out, now, client_factory),
    }
    polling_options = {"limit": limit, "max_workers": max_workers, "client_factory": client_factory}
    summary["polled"] = step("polls", polling.poll_due, now, **polling_options)
    summary["fetched"] = step("fetch takeover", take_over_fetches, now, client_factory)
    return summary


# --- Results -----------------------------------------------------------------------------------------------------


def fetch_results(execution_pk: int, *, client_factory=None) -> str:
    """Download AMC's result files into storage and mark the execution succeeded (claimed by lease)."""
    from .results.ingest import store_result

    client_factory = client_factory or services.default_client
    now = timezone.now()
    lease = leases.claim(execution_pk, now, status=Execution.Status.FETCHING, next_poll_at__lte=now)
    if lease is None:
        return "not-claimed"
    execution = Execution.objects.select_related("owner", "instance__account").get(pk=execution_pk)
    try:
        with leases.held(execution_pk, lease):
            with client_factory(execution) as client:
                links = client.get_download_urls(execution.instance, execution.amc_execution_id)
            result = store_result(execution, list(links.urls), metadata_urls=list(links.metadata_urls))
    except Exception as exc:  # any failure: try again after a short pause, the files stay on AMC
        log.warning("result fetch failed execution=%s error=%s", execution.execution_id, exc)
        Execution.objects.filter(pk=execution_pk).update(
            next_poll_at=timezone.now() + timedelta(minutes=1),
            lease_until=None,
            error_message=f"Fetching results failed: {exc}",
        )
        return "retry"
    if lifecycle.mark_succeeded(execution_pk):
        log.info("execution succeeded execution=%s rows=%s", execution.execution_id, result.row_count)
        lifecycle.execution_finished(execution_pk)
    return "stored"


def take_over_fetches(now, client_factory=None, *, limit: int = 5) -> int:
    """Fetches nobody holds and nobody started in time: their task was lost, or their worker died and its lease
    ran out. The follower fetches them itself, so results never wait for a qcluster."""
    stalled = Execution.objects.filter(
        leases.free(now), status=Execution.Status.FETCHING, next_poll_at__lte=now - FETCH_TASK_GRACE
    ).order_by("next_poll_at")
    taken = 0
    for pk in stalled.values_list("pk", flat=True)[:limit]:
        with dropped_connections.item("result fetch of execution", pk):
            taken += fetch_results(pk, client_factory=client_factory) != "not-claimed"
    return taken


# --- Recovery ----------------------------------------------------------------------------------------------------


def resubmit_due_pending(now, client_factory) -> int:
    """Pending executions whose submission task was lost or that waited out a 429."""
    due = Execution.objects.filter(status=Execution.Status.PENDING, next_poll_at__lte=now).order_by("created_at")
    count = 0
    for pk in due.values_list("pk", flat=True)[:100]:
        with dropped_connections.item("resubmission of execution", pk):
            count += services.submit_execution(pk, client_factory=client_factory) != "not-claimed"
    return count


def submit_recovery_after() -> timedelta:
    """A submission whose worker died or lost AMC's answer is free once its lease runs out (`executions.leases`)."""
    return leases.length()


def recover_stuck_submissions(now, client_factory) -> int:
    """Executions left SUBMITTING whose lease ran out (a worker died, or AMC failed to answer): ask AMC before
    submitting again. Recovery holds the row's lease while it asks, so one worker asks at a time."""
    stuck = Execution.objects.filter(leases.free(now), status=Execution.Status.SUBMITTING)
    recovered = 0
    for pk in stuck.order_by("submit_attempted_at").values_list("pk", flat=True)[:100]:
        with dropped_connections.item("submission recovery of execution", pk):
            recovered += _recover_submission(pk, now, client_factory)
    return recovered


def _recover_submission(pk: int, now, client_factory) -> int:
    lease = leases.claim(pk, now, status=Execution.Status.SUBMITTING)
    if lease is None:
        return 0
    execution = Execution.objects.select_related("owner", "instance__account", "workflow").get(pk=pk)
    try:
        with leases.held(pk, lease):
            adopted = adopt_existing_submission(execution, client_factory)
    except DatabaseError:
        raise  # our database, not AMC: `dropped_connections.item` says so and the next cycle tries again
    except Exception as exc:  # AMC unreachable: the lease runs out and a later pass asks again
        log.warning("recovery could not ask AMC execution=%s error=%s", execution.execution_id, exc)
        return 0
    if not adopted:
        lifecycle.release_stuck_submission(execution)
    return 1


def adopt_existing_submission(execution: Execution, client_factory) -> bool:
    """Find the AMC execution a lost submission created and record it, instead of submitting again.

    Every run of a saved workflow shares its workflow id, so a candidate must also carry our time window and
    parameter values, and must not already belong to another of our executions.
    """
    body = execution.request_body
    workflow_id = body.get("workflowId") or body.get("workflow", {}).get("workflowId")
    since = execution.submit_attempted_at - ADOPTION_LOOKBACK
    with client_factory(execution) as client:
        candidates = client.list_executions(execution.instance, workflow_id=workflow_id, min_creation_time=since)
    taken = set(
        Execution.objects.filter(instance=execution.instance, amc_execution_id__in=[c.execution_id for c in candidates])
        .exclude(pk=execution.pk)
        .values_list("amc_execution_id", flat=True)
    )
    matching = [c for c in candidates if c.execution_id not in taken and _same_request(execution, c)]
    for candidate in sorted(matching, key=lambda c: c.create_time or since):
        if lifecycle.record_submission(execution, candidate.execution_id, candidate.status):
            log.info("recovery adopted execution=%s amc_execution=%s", execution.execution_id, candidate.execution_id)
            services.honour_cancel_request(execution.pk, client_factory)
            return True
    return False


def _same_request(execution: Execution, candidate) -> bool:
    """Whether an AMC execution is the one our request would have created (window and parameter values)."""
    raw = candidate.raw
    if raw.get("timeWindowType", "EXPLICIT") != execution.time_window_type:
        return False
    if execution.time_window_type == "EXPLICIT" and (
        candidate.time_window_start is None
        or candidate.time_window_end is None
        or abs((candidate.time_window_start - execution.time_window_start).total_seconds()) > 1
        or abs((candidate.time_window_end - execution.time_window_end).total_seconds()) > 1
    ):
        return False
    return (raw.get("parameterValues") or {}) == (execution.request_body.get("parameterValues") or {})


def fail_timed_out(now, client_factory) -> int:
    """Executions running past their timeout (plus grace) are cancelled on AMC and failed with the reason."""
    deadline = ExpressionWrapper(
        F("submitted_at") + F("timeout_seconds") * Value(timedelta(seconds=1)) + Value(TIMEOUT_GRACE),
        output_field=DateTimeField(),
    )
    overdue = (
        Execution.objects.filter(status__in=Execution.POLLED_STATUSES)
        .annotate(deadline=deadline)
        .filter(deadline__lt=now)
        .select_related("owner", "instance__account")[:100]
    )
    for execution in overdue:
        try:
            with client_factory(execution) as client:
                client.cancel_execution(execution.instance, execution.amc_execution_id)
        except Exception as exc:  # cancelling is best effort; the failure below is what matters
            log.warning("could not cancel timed-out execution=%s error=%s", execution.execution_id, exc)
        lifecycle.fail_execution(
            execution, "timeout", f"The execution exceeded its timeout of {execution.timeout_seconds} seconds."
        )
    close_old_connections()
    return len(overdue)


def advance(execution_pk: int, *, now=None, client_factory=None) -> str:
    """Move one execution forward by one step, whatever it is waiting for (used by `run_query --wait`).

    Goes through the same claiming functions as the workers, so running it beside them is harmless.
    """
    client_factory = client_factory or services.default_client
    now = now or timezone.now()
    execution = Execution.objects.get(pk=execution_pk)
    if execution.status == Execution.Status.PENDING:
        return services.submit_execution(execution_pk, client_factory=client_factory)
    if execution.status in Execution.POLLED_STATUSES:
        if execution.next_poll_at and execution.next_poll_at <= now:
            polling.poll_one(execution_pk, execution.next_poll_at, now, client_factory)
        return "polled"
    if execution.status == Execution.Status.FETCHING:
        return fetch_results(execution_pk, client_factory=client_factory)
    if execution.status == Execution.Status.SUBMITTING:
        return "recovered" if recover_stuck_submissions(now, client_factory) else "waiting"
    return "final"
