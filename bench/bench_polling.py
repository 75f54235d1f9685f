"""Benchmark one poll cycle (`executions.following.poll_due`) over 2,000 running executions on the sandbox.

Run from the repository root:  .venv/bin/python bench/bench_polling.py [--executions 2000] [--latency-ms 50]

The sandbox runs in a `manage.py runserver` subprocess with SANDBOX_FAULTS={"latency_ms": 50} (every AMC call
waits 50 ms first, like a real round trip) and durations long enough that nothing finishes during the run.
AMC runs at most 10 executions per instance and allows 30 ad hoc runs per instance per day, so the executions
are spread over 200 sandbox instances, 10 each: all of them are really RUNNING on the sandbox, and 10 ad hoc
runs per instance stay under the daily quota. They are created through the AMC client, concurrently.

For each worker count W the same 2,000 executions are made due and one `poll_due(now, limit=2000,
max_workers=W)` is timed. The ceiling is pure latency: 2,000 × 50 ms / W. A second server without injected
latency shows the CPU-bound floor of this machine (client, server and PostgreSQL share 2 cores).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    Table,
    WebServer,
    free_port,
    fresh_database,
    heading,
    machine,
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


class _KeptOpenTransport(httpx.HTTPTransport):
    """One transport (so one TLS context) shared by every client of a cycle; clients must not close it."""

    def close(self) -> None:
        pass


def shared_transport_factory():
    """The proposed fix, as a client factory: AMC clients that share one transport instead of building their own.

    Keep-alive is off so that the only difference from the product's factory is the TLS context built per client
    (reusing connections to runserver, one thread per connection, would measure the dev server instead).
    """
    from accounts.amazon import amc_client_for

    transport = _KeptOpenTransport(limits=httpx.Limits(max_keepalive_connections=0))
    return lambda execution: amc_client_for(execution.owner, execution.instance.region, transport=transport)


@dataclass
class Cycle:
    seconds: float
    polled: int
    failed: int  # polls that ended in an error or changed the status
    client_cpu_ms: float  # this process (poll_due and its threads), per poll
    server_cpu_ms: float  # the runserver process, per poll

    def cells(self) -> list[object]:
        return [
            self.polled, self.failed, f"{self.seconds:.2f}", f"{self.polled / self.seconds:.0f}",
            f"{self.client_cpu_ms:.1f}", f"{self.server_cpu_ms:.1f}",
        ]  # fmt: skip


def poll_cycle(server: WebServer, total: int, workers: int, client_factory=None) -> Cycle:
    """Make every execution due, then time one poll_due."""
    from django.db.models import Q
    from django.utils import timezone

    from executions.following import poll_due
    from executions.models import Execution

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--workers", default="1,8,16,32", help="comma-separated worker counts")
    parser.add_argument("--quick", action="store_true", help="200 executions")
    args = parser.parse_args()
    if args.quick:
        args.executions = 200
    worker_counts = [int(w) for w in args.workers.split(",")]
    total = args.executions
    port = free_port()
    faults = json.dumps({"latency_ms": args.latency_ms})
    env = {"SITE_URL": f"http://127.0.0.1:{port}", "SANDBOX_FAULTS": faults, **ALWAYS_RUNNING}

    with fresh_database("poll", env):
        from recomamp.sandbox.models import SandboxExecution

        heading(f"Poll cycle over {total:,} running executions ({machine()})")
        user, instances = create_instances(-(-total // PER_INSTANCE))
        factories = [("default (product)", None), ("shared transport (proposed)", shared_transport_factory())]
        with web_server(port) as server:
            created, rate = submit_on_sandbox(user, instances, total)
            record_executions(user, created)
            print(f"created {len(created):,} sandbox executions on {len(instances)} instances through the client: "
                  f"{rate:.0f}/s with 16 threads and {args.latency_ms} ms latency")  # fmt: skip
            poll_cycle(server, total, max(worker_counts))  # warm-up: the sandbox starts its executions on the 1st GET
            running = SandboxExecution.objects.filter(status=SandboxExecution.Status.RUNNING).count()
            print(f"sandbox executions RUNNING after the warm-up cycle: {running:,} of {total:,}")
            table = Table(
                "client factory", "injected latency", "W", "polled", "failed polls", "seconds per cycle", "polls/s",
                "poller CPU ms/poll", "server CPU ms/poll", "ceiling s (N × latency / W)", "ceiling polls/s",
                "cycle / ceiling",
            )  # fmt: skip
            for name, factory in factories:
                for workers in worker_counts:
                    ceiling = total * args.latency_ms / 1000 / workers
                    cycle = poll_cycle(server, total, workers, factory)
                    table.row(
                        name, f"{args.latency_ms} ms", workers, *cycle.cells(), f"{ceiling:.2f}",
                        f"{total / ceiling:.0f}", f"{cycle.seconds / ceiling:.1f}×",
                    )  # fmt: skip
        with web_server(port, env={"SANDBOX_FAULTS": "{}"}) as server:
            for name, factory in factories:
                cycle = poll_cycle(server, total, max(worker_counts), factory)
                table.row(name, "none", max(worker_counts), *cycle.cells(), "-", "-", "-")
        print(f"\nfresh PostgreSQL connection from Django: {connection_setup_ms():.1f} ms (median of 30)")


if __name__ == "__main__":
    main()
