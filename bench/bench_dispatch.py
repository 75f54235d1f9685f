"""Benchmark the dispatcher: 10,000 schedules due in the same minute, claimed by 4 worker processes.

Run from the repository root:  .venv/bin/python bench/bench_dispatch.py [--schedules 10000] [--submit 2000]

1. Claim: 4 forked processes (each closes Django's connections first) run `dispatch_due(now, submit=False)`,
   the loop of `claim_due_batch` the every-minute task runs. Reports slots/s, duplicates and missed slots
   (both must be 0), with 1 process for comparison.
2. Ceiling: the same 4 processes looping one SQL statement that locks 100 due rows with FOR UPDATE SKIP LOCKED,
   advances `next_run_at` by a day and inserts the run rows.
3. Submission, a smaller set (10 schedules on each of 200 sandbox instances, AMC's concurrency limit): the
   4 processes claim, call `submit_run` for each run (`dispatch_due(submit=True)`), then `submit_execution`
   for each execution against the sandbox in a runserver subprocess (what the django-q workers do). Reports
   the time until every slot is submitted to the sandbox.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Table, free_port, fresh_database, heading, machine, web_server  # noqa: E402

SQL = "SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY campaign"
PER_INSTANCE = 10  # AMC's concurrent executions per instance: more would make `submit_run` wait
ALWAYS_RUNNING = {"SANDBOX_PENDING_SECONDS": "0", "SANDBOX_RUNNING_SECONDS": "86400"}
BATCH = 100

RAW_CLAIM = """
WITH claimed AS (
    UPDATE schedules_schedule SET next_run_at = next_run_at + interval '1 day', last_run_at = next_run_at
    WHERE id IN (
        SELECT id FROM schedules_schedule WHERE next_run_at <= %(now)s AND is_active
        ORDER BY next_run_at LIMIT %(batch)s FOR UPDATE SKIP LOCKED
    )
    RETURNING id, instance_id, last_run_at
)
INSERT INTO schedules_schedulerun
    (schedule_id, instance_id, scheduled_for, status, is_test, attempts, parameters_used, window_timezone, error,
     reason, claimed_at)
SELECT id, instance_id, last_run_at, 'claimed', false, 0, '{}', '', '', '', now() FROM claimed
"""


# --- Fixtures -----------------------------------------------------------------------------------------------------


def create_owner(instance_count: int):
    """A user connected to the sandbox, `instance_count` sandbox instances mirrored for it, one saved query."""
    from accounts.models import User
    from home.demo import connect_to_sandbox, ensure_sandbox_instances
    from instances.models import AMCInstance
    from queries.models import Workflow
    from recomamp.sandbox.models import SandboxAccount, SandboxInstance
    from recomamp.sandbox.seed import ensure_sandbox_catalog

    ensure_sandbox_catalog()
    account = SandboxAccount.objects.order_by("pk").first()
    SandboxInstance.objects.bulk_create(
        SandboxInstance(instance_id=f"amcbench{i:04d}", name=f"Bench {i}", account=account)
        for i in range(instance_count)
    )
    user = User.objects.create_user(email="bench-dispatch@example.com")
    connect_to_sandbox(user)
    ensure_sandbox_instances(user)
    instances = list(AMCInstance.objects.filter(owner=user, instance_id__startswith="amcbench").order_by("instance_id"))
    workflow = Workflow.objects.create(owner=user, name="Reach by campaign", sql=SQL, status=Workflow.Status.ACTIVE)
    return user, instances, workflow


def create_schedules(user, instances, workflow, count: int, slot) -> None:
    """`count` daily schedules whose next slot is `slot`, `count / len(instances)` per instance."""
    from schedules.models import Schedule

    per_instance = -(-count // len(instances))
    Schedule.objects.bulk_create(
        (
            Schedule(
                schedule_id=f"sched_b{i:010d}", owner=user, workflow=workflow, instance=instances[i // per_instance],
                name=f"Daily {i}", kind=Schedule.Kind.DAILY, time_of_day=slot.time(), timezone="UTC",
                next_run_at=slot,
            )
            for i in range(count)
        ),
        batch_size=5000,
    )  # fmt: skip
    vacuum()


def reset_schedules(slot) -> None:
    """Every schedule due again at `slot`, no runs: the state before a measurement."""
    from schedules.models import Schedule, ScheduleRun

    ScheduleRun.objects.all().delete()
    Schedule.objects.update(next_run_at=slot, last_run_at=None)
    vacuum()


def vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE schedules_schedule")
        cursor.execute("VACUUM ANALYZE schedules_schedulerun")


# --- Worker processes ---------------------------------------------------------------------------------------------


def in_processes(target, processes: int, *args) -> list:
    """Run `target(*args)` in `processes` forked processes started together; returns their results.

    Each result is (start, end, value) with monotonic clock readings, comparable across processes on Linux.
    """
    from django.db import connections

    connections.close_all()  # a forked child must never share the parent's socket
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(processes), context.Queue()

    def run() -> None:
        connections.close_all()
        barrier.wait()
        start = time.monotonic()
        value = target(*args)
        results.put((start, time.monotonic(), value))
        connections.close_all()

    children = [context.Process(target=run) for _ in range(processes)]
    for child in children:
        child.start()
    collected = [results.get() for _ in children]
    for child in children:
        child.join()
        if child.exitcode:
            raise RuntimeError(f"a worker process failed with exit code {child.exitcode}")
    return collected


def claim_with_orm(now) -> list[int]:
    from schedules.services import dispatch_due

    return dispatch_due(now=now, batch=BATCH, submit=False).claimed


def claim_with_sql(now) -> int:
    from django.db import connection, transaction

    claimed = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(RAW_CLAIM, {"now": now, "batch": BATCH})
            inserted = cursor.rowcount
        claimed += inserted
        if inserted < BATCH:
            return claimed


def claim_and_submit(now) -> tuple[float, dict[str, int]]:
    """What the dispatcher and the workers do for a slot; returns (when all runs were submitted, outcomes)."""
    from executions.services import submit_execution
    from schedules.models import ScheduleRun
    from schedules.services import dispatch_due

    claimed = dispatch_due(now=now, batch=BATCH, submit=True).claimed
    runs_done = time.monotonic()
    outcomes: dict[str, int] = {}
    for execution_pk in ScheduleRun.objects.filter(pk__in=claimed).exclude(execution=None).values_list("execution"):
        outcome = submit_execution(execution_pk[0])
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return runs_done, outcomes


# --- Checks -------------------------------------------------------------------------------------------------------


def slot_check(slot, claimed_pks: list[int]) -> tuple[int, int]:
    """(duplicates, missed): runs claimed twice or recorded twice for a slot, and schedules without their run."""
    from django.db.models import Count

    from schedules.models import Schedule, ScheduleRun

    twice_claimed = len(claimed_pks) - len(set(claimed_pks))
    twice_recorded = (
        ScheduleRun.objects.filter(is_test=False)
        .values("schedule", "scheduled_for")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    missed = Schedule.objects.exclude(runs__scheduled_for=slot, runs__is_test=False).count()
    return twice_claimed + twice_recorded, missed


def measure_claims(slot, now, count: int, processes_list: list[int]) -> None:
    table = Table(
        "method", "schedules due", "processes", "batch", "slots claimed", "duplicates", "missed", "seconds", "slots/s"
    )
    for processes in processes_list:
        for method, target in (("claim_due_batch (ORM)", claim_with_orm), ("raw SQL ceiling", claim_with_sql)):
            reset_schedules(slot)
            results = in_processes(target, processes, now)
            seconds = max(end for _, end, _ in results) - min(start for start, _, _ in results)
            if target is claim_with_orm:
                claimed_pks = [pk for _, _, pks in results for pk in pks]
                claimed = len(claimed_pks)
                duplicates, missed = slot_check(slot, claimed_pks)
            else:
                claimed = sum(value for _, _, value in results)
                duplicates, missed = slot_check(slot, [])
            table.row(
                method, f"{count:,}", processes, BATCH, claimed, duplicates, missed, f"{seconds:.2f}",
                f"{claimed / seconds:,.0f}",
            )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--submit", type=int, default=10_000, help="slots taken all the way to the sandbox")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="1,000 schedules, 200 submissions")
    args = parser.parse_args()
    if args.quick:
        args.schedules, args.submit = 1_000, 200
    port = free_port()

    with fresh_database("dispatch", {"SITE_URL": f"http://127.0.0.1:{port}", **ALWAYS_RUNNING}):
        from django.utils import timezone

        from executions.models import Execution
        from recomamp.sandbox.models import SandboxExecution
        from schedules.models import Schedule, ScheduleRun

        heading(f"Dispatch of {args.schedules:,} schedules due in the same minute ({machine()})")
        user, instances, workflow = create_owner(-(-args.submit // PER_INSTANCE))
        now = timezone.now()
        slot = now.replace(second=0, microsecond=0)
        create_schedules(user, instances, workflow, args.schedules, slot)
        measure_claims(slot, now, args.schedules, [1, args.processes])

        Schedule.objects.all().delete()
        now = timezone.now()
        slot = now.replace(second=0, microsecond=0)
        create_schedules(user, instances, workflow, args.submit, slot)
        with web_server(port):
            results = in_processes(claim_and_submit, args.processes, now + timedelta(seconds=1))
        start = min(begin for begin, _, _ in results)
        runs_seconds = max(runs_done for _, _, (runs_done, _) in results) - start
        all_seconds = max(end for _, end, _ in results) - start
        outcomes: dict[str, int] = {}
        for _, _, (_, counts) in results:
            for outcome, n in counts.items():
                outcomes[outcome] = outcomes.get(outcome, 0) + n
        on_sandbox = SandboxExecution.objects.count()
        recorded = Execution.objects.exclude(amc_execution_id="").count()
        runs_submitted = ScheduleRun.objects.filter(status=ScheduleRun.Status.SUBMITTED).count()
        duplicates, missed = slot_check(slot, [])
        Table(
            "slots", "processes", "claim + submit_run done (s)", "all on the sandbox (s)", "slots/s end to end",
            "runs SUBMITTED", "AMC executions recorded", "sandbox executions", "duplicates", "missed",
            "submit_execution outcomes",
        ).row(
            f"{args.submit:,}", args.processes, f"{runs_seconds:.1f}", f"{all_seconds:.1f}",
            f"{args.submit / all_seconds:.0f}", runs_submitted, recorded, on_sandbox, duplicates, missed,
            ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())),
        )  # fmt: skip


if __name__ == "__main__":
    main()
