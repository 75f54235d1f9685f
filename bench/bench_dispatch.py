"""Benchmark the dispatcher's claim: schedules due in the same minute, claimed by 4 worker processes.

Run from the repository root:  .venv/bin/python bench/bench_dispatch.py [--quick] [--sizes 1000,10000,100000]

1. Claim: 4 forked processes (each closes Django's connections first) run `dispatch_due(now, submit=False)`,
   the claim loop (`claiming.claim_due`) the every-minute task runs. Checks that no slot is claimed twice or missed
   (the module fails otherwise).
2. Ceiling, in the same run: the same 4 processes looping one autocommit SQL statement that locks 100 due rows
   with FOR UPDATE SKIP LOCKED, advances `next_run_at` by a day, inserts the run rows behind the slot fence and
   returns their ids: the product's writes with nothing computed.

Submission to the sandbox is measured by bench_submission.py, which reuses this module's fixtures.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Measure, cli, fresh_database, heading, machine, sizes_for  # noqa: E402

SQL = "SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY campaign"
PER_INSTANCE = 10  # AMC's concurrent executions per instance: more would make `submit_run` wait
ALWAYS_RUNNING = {"SANDBOX_PENDING_SECONDS": "0", "SANDBOX_RUNNING_SECONDS": "86400"}
BATCH = 100

# The product's work in one hand-written autocommit statement: lock a batch in index order, advance it by a day,
# insert the runs behind the slot fence and return their ids (the product returns them to submit the runs). The
# locked ids go to the primary key as one array: for `id IN (…)` or a join the planner hashed the whole table on
# every batch.
RAW_CLAIM = """
WITH due AS (
    SELECT id FROM schedules_schedule WHERE next_run_at <= %(now)s AND is_active
    ORDER BY next_run_at LIMIT %(batch)s FOR UPDATE SKIP LOCKED
),
claimed AS (
    UPDATE schedules_schedule AS s
    SET next_run_at = s.next_run_at + interval '1 day', last_run_at = s.next_run_at, updated_at = now()
    WHERE s.id = ANY (ARRAY(SELECT id FROM due))
    RETURNING s.id, s.instance_id, s.last_run_at
)
INSERT INTO schedules_schedulerun
    (schedule_id, instance_id, scheduled_for, status, is_test, attempts, parameters_used, window_timezone, error,
     reason, claimed_at)
SELECT id, instance_id, last_run_at, 'claimed', false, 0, '{}', '', '', '', now() FROM claimed
ON CONFLICT DO NOTHING RETURNING id
"""


# --- Fixtures -----------------------------------------------------------------------------------------------------


def create_owner(instance_count: int, *, prefix: str = "amcbench", email: str = "bench-dispatch@example.com"):
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
        SandboxInstance(instance_id=f"{prefix}{i:05d}", name=f"Bench {i}", account=account)
        for i in range(instance_count)
    )
    user = User.objects.create_user(email=email)
    connect_to_sandbox(user)
    ensure_sandbox_instances(user)
    instances = list(AMCInstance.objects.filter(owner=user, instance_id__startswith=prefix).order_by("instance_id"))
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
    from django.db import connection

    claimed = 0
    while True:
        with connection.cursor() as cursor:  # autocommit, like the product's planned batches
            cursor.execute(RAW_CLAIM, {"now": now, "batch": BATCH})
            inserted = len(cursor.fetchall())
        claimed += inserted
        if inserted < BATCH:
            return claimed


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


def claim_rates(slot, now, count: int, processes: int) -> tuple[float, float]:
    """(product slots/s, ceiling slots/s) for `count` due schedules; raises if a slot is claimed twice or missed."""
    rates = []
    for method, target in (("dispatch_due", claim_with_orm), ("raw SQL ceiling", claim_with_sql)):
        reset_schedules(slot)
        results = in_processes(target, processes, now)
        seconds = max(end for _, end, _ in results) - min(start for start, _, _ in results)
        if target is claim_with_orm:
            claimed_pks = [pk for _, _, pks in results for pk in pks]
            claimed = len(claimed_pks)
        else:
            claimed_pks, claimed = [], sum(value for _, _, value in results)
        duplicates, missed = slot_check(slot, claimed_pks)
        print(
            f"{method}: {count:,} due, {processes} processes, batch {BATCH}: claimed {claimed:,}, "
            f"duplicates {duplicates}, missed {missed}, {seconds:.2f} s, {claimed / seconds:,.0f} slots/s"
        )
        if duplicates or missed or claimed != count:
            raise RuntimeError(f"{method}: {claimed} claimed of {count}, {duplicates} duplicates, {missed} missed")
        rates.append(claimed / seconds)
    return rates[0], rates[1]


SIZES = {"quick": [100, 1_000, 10_000], "full": [1_000, 10_000, 100_000]}
PROCESSES = 4


def run(sizes: list[int] | None = None, quick: bool = False) -> list[Measure]:
    """Claim `size` schedules due in the same minute with 4 processes, product and raw SQL ceiling in turn."""
    measures = []
    with fresh_database("dispatch"):
        from django.utils import timezone

        from schedules import services  # noqa: F401  (imported before forking: not timed in the workers)
        from schedules.models import Schedule

        heading(f"Claiming due schedules, {PROCESSES} processes ({machine()})")
        user, instances, workflow = create_owner(10)
        for size in sizes_for(SIZES, sizes, quick):
            Schedule.objects.all().delete()
            now = timezone.now()
            slot = now.replace(second=0, microsecond=0)
            create_schedules(user, instances, workflow, size, slot)
            product, ceiling = claim_rates(slot, now, size, PROCESSES)
            measures.append(Measure.of(f"claim due slots, {PROCESSES} processes", product, ceiling, "slots/s", size))
    return measures


if __name__ == "__main__":
    cli(run, SIZES, __doc__.splitlines()[0])
