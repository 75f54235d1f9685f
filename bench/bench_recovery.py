"""Benchmark how long a killed worker's step waits before another worker takes it over, with the default leases.

Run from the repository root:  .venv/bin/python bench/bench_recovery.py [--rounds 3] [--interval 5] [--alive 12]

Two sandbox servers (gunicorn, `common.web_server`) share the benchmark database. The worker about to die talks to a
slow one (every AMC call waits --stall seconds, 20 by default, under the client's 30 s timeout), so it is in the
middle of its step when it is killed; the follower talks to a normal one. For each step (a submission, a poll, a
result fetch) a worker process (this script with --worker) starts the step through the product's own function, which
claims the execution's lease and renews it every EXECUTION_HEARTBEAT_SECONDS; --alive seconds after the claim it
gets SIGKILL. Meanwhile this process runs `follow_executions` every --interval seconds, as
`executions.tasks.follow_executions_loop` does (5 s). Takeover is the time from the kill until the follower has done
the step: the execution submitted once (adopted from AMC if the dead worker's POST landed), polled, or its result
stored. The bound is what the leases promise: one lease (EXECUTION_LEASE_SECONDS, 30 s by default) after the last
renewal, plus one follower interval; a fetch also waits FETCH_TASK_GRACE after it became due. Before this change the
same steps waited EXECUTION_SUBMIT_RECOVERY_SECONDS (150 s), EXECUTION_POLL_LEASE_SECONDS (150 s) and
EXECUTION_FETCH_LEASE_SECONDS (300 s) by default; those bounds are printed beside the new ones. """

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Table, free_port, fresh_database, heading, machine, web_server  # noqa: E402

SQL = "SELECT campaign, COUNT(*) AS impressions FROM dsp_impressions GROUP BY campaign"
STEPS = ("submission", "poll", "fetch")
OLD_DEFAULT_BOUNDS = {"submission": 150, "poll": 150, "fetch": 300}  # seconds, before leases with heartbeats


def run_worker(step: str, pk: int) -> None:
    """The doomed worker: one step through the product's functions (it holds the lease until it is killed)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recomamp.settings")
    django.setup()
    from executions import following

    following.advance(pk)  # submits, polls or fetches, whichever the execution waits for (as the workers do)


def prepare(step: str, user, instance):
    """An execution waiting for `step`, created through the product's path (submitted on the fast sandbox)."""
    from django.utils import timezone

    from executions import services
    from executions.models import Execution

    window = services.WindowSpec("EXPLICIT", datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 12, 1, tzinfo=UTC))
    execution = services.start_execution(owner=user, instance=instance, sql=SQL, window=window, submit=False)
    if step == "submission":
        Execution.objects.filter(pk=execution.pk).update(next_poll_at=timezone.now() + timedelta(hours=1))
        return execution
    assert services.submit_execution(execution.pk) == "submitted"
    time.sleep(3)  # the sandbox execution runs for 1 s
    now = timezone.now()
    status = Execution.Status.RUNNING if step == "poll" else Execution.Status.FETCHING
    Execution.objects.filter(pk=execution.pk).update(status=status, next_poll_at=now, last_polled_at=None)
    return execution


def done(step: str, execution) -> bool:
    from executions.models import Execution

    row = Execution.objects.get(pk=execution.pk)
    if step == "submission":
        return bool(row.amc_execution_id)
    if step == "poll":
        return row.last_polled_at is not None
    return row.status == Execution.Status.SUCCEEDED


def claimed(step: str, execution) -> bool:
    from executions.models import Execution

    row = Execution.objects.get(pk=execution.pk)
    return row.lease_until is not None and (step != "submission" or row.status == Execution.Status.SUBMITTING)


def one_round(step: str, user, instance, slow_env: dict, interval: float, alive: float) -> tuple[float, int, str]:
    """Kill a worker in the middle of `step`; returns (seconds until taken over, takeovers before the kill,
    AMC executions created for it, "adopted" when the one AMC has is the dead worker's own POST)."""
    from django.db import connections
    from django.utils import timezone

    from executions.following import follow_executions
    from recomamp.sandbox.models import SandboxExecution

    execution = prepare(step, user, instance)
    worker = subprocess.Popen(
        [sys.executable, __file__, "--worker", step, "--pk", str(execution.pk)],
        env={**os.environ, **slow_env}, start_new_session=True,
    )  # fmt: skip
    while not claimed(step, execution):
        time.sleep(0.05)
    claimed_at = time.monotonic()
    early = 0
    while time.monotonic() - claimed_at < alive:  # the follower runs beside the live worker and leaves it alone
        follow_executions()
        early += done(step, execution)
        time.sleep(min(interval, max(0.0, alive - (time.monotonic() - claimed_at))))
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    killed_at, killed_wall = time.monotonic(), timezone.now()
    while not done(step, execution):
        follow_executions()
        time.sleep(interval)
    taken_over = time.monotonic() - killed_at
    connections.close_all()
    created = list(SandboxExecution.objects.filter(workflow_id=execution.execution_id).values_list("created_at"))
    # The dead worker's POST lands while the lease is still running; a resubmission only after it ran out.
    adopted = step == "submission" and len(created) == 1 and created[0][0] < killed_wall + timedelta(seconds=20)
    return taken_over, early, f"{len(created)}{' (adopted)' if adopted else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between follower cycles")
    parser.add_argument("--alive", type=float, default=12.0, help="seconds the worker holds its step before SIGKILL")
    parser.add_argument("--stall", type=float, default=20.0, help="seconds every AMC call to the slow sandbox waits")
    parser.add_argument("--steps", default=",".join(STEPS), help="comma-separated: submission,poll,fetch")
    parser.add_argument("--worker", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--pk", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker, args.pk)
        return

    fast_port, slow_port = free_port(), free_port()
    fast = f"http://127.0.0.1:{fast_port}"
    env = {
        "SITE_URL": fast, "AMC_API_BASE_URL_NA": f"{fast}/sandbox", "LWA_TOKEN_URL": f"{fast}/sandbox/auth/o2/token",
        "SANDBOX_PENDING_SECONDS": "0", "SANDBOX_RUNNING_SECONDS": "1", "SANDBOX_FAULTS": "{}",
    }  # fmt: skip
    slow_env = {"AMC_API_BASE_URL_NA": f"http://127.0.0.1:{slow_port}/sandbox"}
    stall = f'{{"latency_ms": {int(args.stall * 1000)}}}'
    with fresh_database("recovery", env):
        from django.conf import settings

        from accounts.models import User
        from executions.following import FETCH_TASK_GRACE
        from home.demo import connect_to_sandbox, ensure_sandbox_instances
        from instances.models import AMCInstance
        from recomamp.sandbox.seed import DEMO_INSTANCE_ID

        lease, beat = settings.EXECUTION_LEASE_SECONDS, settings.EXECUTION_HEARTBEAT_SECONDS
        heading(f"Takeover of a killed worker's step, default leases ({machine()})")
        print(f"EXECUTION_LEASE_SECONDS={lease}, EXECUTION_HEARTBEAT_SECONDS={beat}, follower every "
              f"{args.interval:g} s, worker killed {args.alive:g} s after its claim, "
              f"slow AMC calls {args.stall:g} s")  # fmt: skip
        user = User.objects.create_user(email="bench-recovery@example.com")
        connect_to_sandbox(user)
        ensure_sandbox_instances(user)
        instance = AMCInstance.objects.select_related("account").get(owner=user, instance_id=DEMO_INSTANCE_ID)
        table = Table(
            "step", "takeover s (median)", "max s", "bound s (lease + interval)", "median / bound",
            "old default bound s", "taken over while alive", "AMC executions per run",
        )  # fmt: skip
        with web_server(fast_port), web_server(slow_port, env={"SANDBOX_FAULTS": stall}):
            for step in args.steps.split(","):
                results = [one_round(step, user, instance, slow_env, args.interval, args.alive)
                           for _ in range(args.rounds)]  # fmt: skip
                seconds = [r[0] for r in results]
                wait = max(lease, FETCH_TASK_GRACE.total_seconds()) if step == "fetch" else lease
                bound = wait + args.interval
                median = statistics.median(seconds)
                table.row(
                    step, f"{median:.1f}", f"{max(seconds):.1f}", f"{bound:.0f}", f"{median / bound:.2f}",
                    OLD_DEFAULT_BOUNDS[step], sum(r[1] for r in results), "/".join(str(r[2]) for r in results),
                )  # fmt: skip


if __name__ == "__main__":
    main()
