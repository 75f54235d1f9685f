"""Benchmark one poll cycle (`executions.polling.poll_due`) over 2,000 running executions on the sandbox.

Run from the repository root:  .venv/bin/python bench/bench_polling.py [--quick] [--sizes 20,200,2000]

The sandbox runs in a gunicorn subprocess (`common.web_server`) with SANDBOX_FAULTS={"latency_ms": 50} (every
AMC call waits 50 ms first, like a real round trip) and durations long enough that nothing finishes during the run.
AMC runs at most 10 executions per instance and allows 30 ad hoc runs per instance per day, so the executions
are spread over 200 sandbox instances, 10 each: all of them are really RUNNING on the sandbox, and 10 ad hoc
runs per instance stay under the daily quota. They are created through the AMC client, concurrently.

At each size N the N executions are made due and one `poll_due(now, limit=N, max_workers=32)` is timed (after
a warm-up cycle). Ceilings measured in the same run: for the cycle, pure latency (N × 50 ms / 32) and its CPU
floor (N × (bare poll CPU + the sandbox server's CPU per poll) / cores: client, server and PostgreSQL share the
machine's cores, and PostgreSQL's own CPU is left out, so the floor is low); for the poller's CPU per poll, a bare
poll in the same 32 threads (one AMC client per thread asks for the status, one UPDATE records it, on a kept
connection).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    Measure,
    WebServer,
    cli,
    free_port,
    fresh_database,
    heading,
    machine,
    sizes_for,
    stopwatch,
    web_server,
)

PER_INSTANCE = 10  # AMC's concurrent executions per instance
SQL = "SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY campaign"
ALWAYS_RUNNING = {"SANDBOX_PENDING_SECONDS": "0", "SANDBOX_RUNNING_SECONDS": "86400"}


def create_instances(count: int):
    """`count` sandbox instances in the demo account, mirrored for a user connected to the sandbox."""
    from accounts.models import User
    from home.demo import connect_to_sandbox, ensure_sandbox_instances
    from instances.models import AMCInstance
    from recomamp.sandbox.models import SandboxAccount, SandboxInstance
    from recomamp.sandbox.seed import ensure_sandbox_catalog

    ensure_sandbox_catalog()
    account = SandboxAccount.objects.order_by("pk").first()
    SandboxInstance.objects.bulk_create(
        SandboxInstance(instance_id=f"amcbench{i:04d}", name=f"Bench {i}", account=account) for i in range(count)
    )
    user = User.objects.create_user(email="bench-poll@example.com")
    connect_to_sandbox(user)
    ensure_sandbox_instances(user)
    instances = list(
        AMCInstance.objects.filter(owner=user, instance_id__startswith="amcbench")
        .select_related("account")
        .order_by("instance_id")
    )
    return user, instances


def submit_on_sandbox(user, instances, total: int, workers: int = 16) -> tuple[list[tuple[object, str]], float]:
    """Create `total` ad hoc executions on the sandbox through the AMC client; returns (instance, AMC id) pairs."""
    from django.db import connections

    from accounts.amazon import amc_client_for
    from recomamp.amc.records import TimeWindow

    targets = [instances[i // PER_INSTANCE] for i in range(total)]

    def submit(chunk: list) -> list[tuple[object, str]]:
        try:
            with amc_client_for(user) as client:
                window = TimeWindow("MOST_RECENT_WEEK", time_zone="UTC")
                return [(i, client.create_adhoc_execution(i, SQL, window=window).execution_id) for i in chunk]
        finally:
            connections.close_all()

    chunks = [targets[n::workers] for n in range(workers)]
    with stopwatch() as elapsed, ThreadPoolExecutor(workers) as pool:
        created = [pair for part in pool.map(submit, chunks) for pair in part]
    return created, total / elapsed()


def record_executions(user, created) -> None:
    """Our side: one RUNNING execution per AMC execution, as `record_submission` leaves them."""
    from django.utils import timezone

    from executions.models import Execution

    now = timezone.now()
    Execution.objects.bulk_create(
        Execution(
            execution_id=f"exec_p{n:010d}", owner=user, instance=instance, amc_execution_id=amc_id,
            status=Execution.Status.RUNNING, amc_status="RUNNING", sql_sent=SQL, submitted_at=now, next_poll_at=now,
        )
        for n, (instance, amc_id) in enumerate(created)
    )  # fmt: skip


@dataclass
class Cycle:
    seconds: float
    polled: int
    failed: int  # polls that ended in an error or changed the status
    client_cpu_ms: float  # this process (poll_due and its threads), per poll
    server_cpu_ms: float  # the sandbox server processes, per poll

    def cells(self) -> list[object]:
        return [
            self.polled, self.failed, f"{self.seconds:.2f}", f"{self.polled / self.seconds:.0f}",
            f"{self.client_cpu_ms:.1f}", f"{self.server_cpu_ms:.1f}",
        ]  # fmt: skip


def poll_cycle(server: WebServer, total: int, workers: int, client_factory=None) -> Cycle:
    """Make every execution due, then time one poll_due."""
    from django.db.models import Q
    from django.utils import timezone

    from executions.models import Execution
    from executions.polling import poll_due

    Execution.objects.update(status=Execution.Status.RUNNING, next_poll_at=timezone.now(), poll_failures=0)
    now = timezone.now()
    client_cpu, server_cpu = time.process_time(), server.cpu_seconds()
    with stopwatch() as elapsed:
        polled = poll_due(now, limit=total, max_workers=workers, client_factory=client_factory)
    client_cpu, server_cpu = time.process_time() - client_cpu, server.cpu_seconds() - server_cpu
    failed = Execution.objects.filter(Q(poll_failures__gt=0) | ~Q(status=Execution.Status.RUNNING)).count()
    per_poll = 1000 / max(polled, 1)
    return Cycle(elapsed(), polled, failed, client_cpu * per_poll, server_cpu * per_poll)


def connection_setup_ms(runs: int = 30) -> float:
    """What a fresh PostgreSQL connection costs Django (a threaded poll opens one per execution)."""
    from django.db import connection

    samples = []
    for _ in range(runs):
        connection.close()
        start = time.perf_counter()
        connection.ensure_connection()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def bare_poll_cpu_ms(user, total: int, workers: int) -> float:
    """The ceiling for CPU per poll: the irreducible work of a poll, in the same threads and on the same rows.

    One AMC client per thread (token cached in it) asks for the execution's status and one UPDATE of the row
    records it, on a connection the thread keeps. Everything the product does beyond this is overhead.
    """
    import threading

    from django.db import connection, connections

    from accounts.amazon import amc_client_for
    from executions.models import Execution

    rows = list(Execution.objects.select_related("instance").order_by("pk")[:total])
    local = threading.local()
    opened: list = []

    def poll(execution) -> None:
        if not hasattr(local, "client"):
            local.client = amc_client_for(user)
            opened.append(local.client)
        status = local.client.get_execution(execution.instance, execution.amc_execution_id).status
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE executions_execution SET amc_status = %s, last_polled_at = now() WHERE id = %s",
                [status, execution.pk],
            )

    cpu = time.process_time()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(poll, rows))
    cpu = time.process_time() - cpu
    for client in opened:
        client.close()
    connections.close_all()
    return cpu * 1000 / len(rows)


SIZES = {"quick": [5, 50, 500], "full": [20, 200, 2_000]}  # running executions, 10 per sandbox instance
WORKERS, LATENCY_MS = 32, 50


def run(sizes: list[int] | None = None, quick: bool = False) -> list[Measure]:
    """Per size: one poll cycle (W=32, 50 ms latency) against N × latency / W, and CPU per poll against a bare poll."""
    chosen = sizes_for(SIZES, sizes, quick)
    port = free_port()
    env = {"SITE_URL": f"http://127.0.0.1:{port}", "SANDBOX_FAULTS": json.dumps({"latency_ms": LATENCY_MS}),
           **ALWAYS_RUNNING}  # fmt: skip
    measures = []
    with fresh_database("poll", env):
        from executions import polling  # noqa: F401  (imported before timing)
        from executions.models import Execution

        heading(f"Poll cycles, W={WORKERS}, {LATENCY_MS} ms latency ({machine()})")
        user, instances = create_instances(-(-max(chosen) // PER_INSTANCE))
        with web_server(port) as server:
            created, rate = submit_on_sandbox(user, instances, max(chosen))
            print(f"created {len(created):,} sandbox executions through the client: {rate:.0f}/s")
            for size in chosen:
                Execution.objects.all().delete()
                record_executions(user, created[:size])
                poll_cycle(server, size, WORKERS)  # warm-up: the sandbox starts its executions on the 1st GET
                cycle = poll_cycle(server, size, WORKERS)
                bare = bare_poll_cpu_ms(user, size, WORKERS)
                ceiling = size * LATENCY_MS / 1000 / WORKERS
                print(f"{size:,} executions: cycle {cycle.seconds:.2f} s (latency ceiling {ceiling:.2f} s), "
                      f"failed {cycle.failed}, poller CPU {cycle.client_cpu_ms:.2f} ms/poll (bare poll {bare:.2f}), "
                      f"server CPU {cycle.server_cpu_ms:.1f} ms/poll")  # fmt: skip
                if cycle.failed or cycle.polled != size:
                    raise RuntimeError(f"{cycle.polled} polled of {size}, {cycle.failed} failed")
                # The machine's floor: the bare poll's CPU and the sandbox server's, spread over every core.
                cpu_floor = size * (bare + cycle.server_cpu_ms) / 1000 / (os.cpu_count() or 1)
                measures += [
                    Measure.of(f"poll cycle, W={WORKERS}, {LATENCY_MS} ms latency", cycle.seconds, ceiling, "s", size),
                    Measure.of("poll cycle vs its CPU floor (bare poll + sandbox server)", cycle.seconds, cpu_floor,
                               "s", size),  # fmt: skip
                    Measure.of("poller CPU per poll vs a bare poll", cycle.client_cpu_ms, bare, "ms", size),
                ]
        print(f"fresh PostgreSQL connection from Django: {connection_setup_ms():.1f} ms (median of 30)")
    return measures


if __name__ == "__main__":
    cli(run, SIZES, __doc__.splitlines()[0])
