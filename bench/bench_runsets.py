"""Benchmark run sets and dashboards.

Run from the repository root:  .venv/bin/python bench/bench_runsets.py [--cells 500] [--quick]

1. Planning: 104 weekly windows × 50 instances (5,200 cells): generating the windows and saving the set with its
   cells (`create_run_set`, one bulk insert behind the unique fence). Ceiling: the same rows inserted with one
   `bulk_create` and nothing else.
2. Draining: `--cells` cells (10 weekly windows on each of cells/10 sandbox instances) against the sandbox in a
   runserver subprocess with faults (10% 429, 5% 503, 50 ms latency), driven in this process the way the
   workers do (the run-set cycle and the execution follower every 0.5 s, tasks inline). Reports cells/min and
   compares it with the concurrency ceiling: in-flight slots (10 per instance) × 60 / the measured mean cell time.
   Also one dispatch pass alone (500 cells, submission left out): time and SQL statements per cell.
3. Dashboard: 52 windows × 1,000 rows each (52 stored results), `data.compute` and the dashboard page through
   Django's test client (server time per page; aim under 300 ms). Ceiling: listing the parts and one DuckDB
   GROUP BY (file, value) over the same Parquet files on an open connection, fetched (`dashboard_ceiling`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Table, free_port, fresh_database, heading, machine, median_ms, web_server  # noqa: E402

SQL = (
    "SELECT campaign, COUNT(*) AS impressions, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY campaign"
)
FAULTS = {"latency_ms": 50, "throttle_rate": 0.1, "retry_after_seconds": 1, "server_error_rate": 0.05}


def user_with_instances(email: str, count: int, prefix: str):
    from accounts.models import User
    from home.demo import connect_to_sandbox, ensure_sandbox_instances
    from instances.models import AMCInstance
    from recomamp.sandbox.models import SandboxAccount, SandboxInstance
    from recomamp.sandbox.seed import ensure_sandbox_catalog

    ensure_sandbox_catalog()
    account = SandboxAccount.objects.order_by("pk").first()
    SandboxInstance.objects.bulk_create(
        SandboxInstance(instance_id=f"amc{prefix}{i:04d}", name=f"Bench {i}", account=account) for i in range(count)
    )
    user = User.objects.create_user(email=email)
    connect_to_sandbox(user)
    ensure_sandbox_instances(user)
    instances = list(AMCInstance.objects.filter(owner=user, instance_id__startswith=f"amc{prefix}").order_by("pk"))
    return user, instances


def bench_planning() -> None:
    from queries.models import Workflow
    from runsets import services, windows
    from runsets.models import Cell, RunSet

    heading("Planning 104 windows × 50 instances")
    user, instances = user_with_instances("plan@example.com", 50, "plan")
    workflow = Workflow.objects.create(owner=user, name="Reach", sql=SQL)
    generate_ms, planned = median_ms(
        lambda: windows.generate(period="week", tz="America/New_York", today=date(2026, 1, 3), last=104), runs=5
    )

    def create():
        RunSet.objects.all().delete()
        return services.create_run_set(owner=user, workflow=workflow, instances=instances, planned=planned, start=False)

    create_ms, run_set = median_ms(create, runs=3)
    cells = run_set.cells.count()

    def ceiling():
        RunSet.objects.all().delete()
        bare = RunSet.objects.create(owner=user, workflow=workflow, name="bare", sql_snapshot=SQL)
        Cell.objects.bulk_create(
            [Cell(run_set=bare, instance=i, first_day=w.first_day, end_day=w.end_day, window_start=w.start_utc,
                  window_end=w.end_utc) for i in instances for w in planned],
            batch_size=1000,
        )  # fmt: skip

    ceiling_ms, _ = median_ms(ceiling, runs=3)
    RunSet.objects.all().delete()  # leave nothing for the draining benchmark's dispatcher to start
    table = Table("step", "median ms", "ceiling ms", "ratio")
    table.row("generate 104 weekly windows (zone America/New_York)", f"{generate_ms:.2f}", "", "")
    table.row(f"create_run_set: {cells:,} cells", f"{create_ms:.0f}", f"{ceiling_ms:.0f} (bare bulk_create)",
              f"{create_ms / ceiling_ms:.2f}")  # fmt: skip


def bench_dispatch_pass() -> None:
    """One dispatch pass starting 500 cells (10 windows × 50 instances), submission to AMC left out: the cost of
    claiming and creating the executions, in time and SQL statements."""
    from django.db import connection

    import executions.services
    from queries.models import Workflow
    from runsets import dispatch, services, windows
    from runsets.models import RunSet

    heading("One dispatch pass: 500 cells on 50 instances (no submission)")
    user, instances = user_with_instances("pass@example.com", 50, "pass")
    workflow = Workflow.objects.create(owner=user, name="Reach", sql=SQL)
    planned = windows.generate(period="week", tz="UTC", today=date(2026, 1, 3), last=10)
    enqueue = executions.services.enqueue_submission
    executions.services.enqueue_submission = lambda pk: None
    samples = []
    try:
        for _ in range(3):
            RunSet.objects.all().delete()
            executions.services.Execution.objects.filter(owner=user).delete()
            run_set = services.create_run_set(owner=user, workflow=workflow, instances=instances, planned=planned,
                                              start=False)  # fmt: skip
            statements = []

            def counting(execute, sql, params, many, context, statements=statements):
                statements.append(1)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(counting):
                started = time.perf_counter()
                count = dispatch.dispatch(run_set_pks=[run_set.pk])
                samples.append(((time.perf_counter() - started) * 1000, len(statements), count))
    finally:
        executions.services.enqueue_submission = enqueue
        RunSet.objects.all().delete()
        executions.services.Execution.objects.filter(owner=user).delete()
    ms, statements, count = sorted(samples)[1]
    table = Table("figure", "value")
    table.row("cells started", f"{count} (of {len(planned) * len(instances)})")
    table.row("median ms (3 passes)", f"{ms:.0f}")
    table.row("ms per cell", f"{ms / max(1, count):.1f}")
    table.row("SQL statements", f"{statements} ({statements / max(1, count):.1f} per cell)")


def bench_drain(total: int, dataset: Path) -> None:
    from django.conf import settings
    from django_q.conf import Conf

    from executions.following import follow_executions
    from queries.models import Workflow
    from runsets import dispatch, services, windows
    from runsets.models import Cell

    heading(f"Draining {total} cells against the sandbox with faults")
    Conf.SYNC = True  # tasks (submission, fetch, next dispatch) run inline in this process
    user, instances = user_with_instances("drain@example.com", max(1, total // 10), "drain")
    workflow = Workflow.objects.create(owner=user, name="Reach", sql=SQL)
    planned = windows.generate(period="week", tz="UTC", today=date(2026, 1, 3), last=10)
    run_set = services.create_run_set(owner=user, workflow=workflow, instances=instances, planned=planned, start=False)
    started = time.perf_counter()
    while run_set.status == "running":
        dispatch.run_cycle()
        follow_executions()
        run_set.refresh_from_db()
        time.sleep(0.5)
    elapsed = time.perf_counter() - started
    progress = services.progress(run_set)
    done = progress.counts.get(Cell.Status.SUCCEEDED, 0)
    mean = progress.average_seconds or 0
    slots = min(total, len(instances) * 10)
    ceiling = slots * 60 / mean if mean else 0
    rate = done * 60 / elapsed
    table = Table("figure", "value")
    table.row("cells / instances / in-flight slots", f"{total} / {len(instances)} / {slots}")
    table.row("cells succeeded / failed", f"{done} / {progress.counts.get(Cell.Status.FAILED, 0)}")
    table.row("wall time (s)", f"{elapsed:.1f}")
    table.row("mean cell time, submission to final (s)", f"{mean:.1f}")
    table.row("cells/min measured", f"{rate:.0f}")
    table.row("cells/min ceiling (slots × 60 / mean cell time)", f"{ceiling:.0f}")
    table.row("ratio", f"{rate / ceiling:.2f}" if ceiling else "n/a")
    del settings


def bench_dashboard() -> None:
    from django.core.files.base import ContentFile
    from django.test import Client

    from dashboards import data
    from dashboards.models import Dashboard
    from executions.models import Execution, ExecutionResult
    from queries.models import Workflow
    from runsets.models import Cell, RunSet

    heading("Dashboard over 52 windows × 1,000 rows")
    user, instances = user_with_instances("dash@example.com", 1, "dash")
    user.set_password("bench-password-1")
    user.save()
    workflow = Workflow.objects.create(owner=user, name="Reach", sql=SQL)
    run_set = RunSet.objects.create(owner=user, workflow=workflow, name="52 weeks", sql_snapshot=SQL, status="done")
    first = date(2025, 1, 6)
    columns = [{"name": "campaign", "type": "string"}, {"name": "impressions", "type": "integer"},
               {"name": "reach", "type": "integer"}]  # fmt: skip
    for week in range(52):
        day = first + timedelta(days=7 * week)
        start = datetime.combine(day, datetime.min.time(), UTC)
        execution = Execution.objects.create(
            owner=user, instance=instances[0], workflow=workflow, status="succeeded", time_window_start=start,
            time_window_end=start + timedelta(days=7),
        )  # fmt: skip
        body = "campaign,impressions,reach\n" + "".join(
            f"campaign {n:04d},{(n * 37 + week * 11) % 5000},{(n * 13 + week) % 900}\n" for n in range(1000)
        )
        result = ExecutionResult(execution=execution, columns=columns, row_count=1000)
        result.file.save(f"{execution.execution_id}.csv", ContentFile(body.encode()))
        Cell.objects.create(run_set=run_set, instance=instances[0], first_day=day, end_day=day + timedelta(days=7),
                            window_start=start, window_end=start + timedelta(days=7), status="succeeded",
                            execution=execution)  # fmt: skip
    dashboard = Dashboard.objects.create(owner=user, name="Weekly", run_set=run_set, metrics=["impressions", "reach"],
                                         dimension="campaign", split="dimension", top_n=5)  # fmt: skip
    compute_ms, computed = median_ms(lambda: data.compute(dashboard), runs=7, warmup=2)  # warm-up builds Parquet
    client = Client()
    client.force_login(user)
    url = f"/dashboards/{dashboard.dashboard_id}/"
    page_ms, response = median_ms(lambda: client.get(url), runs=7, warmup=1)
    filtered_ms, _ = median_ms(lambda: client.get(url + "?value=campaign%200001&from=2025-06-02"), runs=7)
    import duckdb

    with duckdb.connect() as con:
        ceiling_ms, _ = median_ms(lambda: dashboard_ceiling(dashboard, con), runs=7)
    table = Table("step", "median ms", "ceiling ms", "ratio", "target ms")
    table.row(f"data.compute (2 metrics, {len(computed['windows'])} windows, 52,000 rows)", f"{compute_ms:.0f}",
              f"{ceiling_ms:.0f}", f"{compute_ms / ceiling_ms:.2f}", "")  # fmt: skip
    table.row(f"dashboard page, full (status {response.status_code})", f"{page_ms:.0f}", f"{ceiling_ms:.0f}",
              f"{page_ms / ceiling_ms:.2f}", "300")  # fmt: skip
    table.row("dashboard page, filtered by one value and a date range", f"{filtered_ms:.0f}", "", "", "300")


def dashboard_ceiling(dashboard, con) -> list:
    """The least a dashboard page can do: list the parts and, on an open DuckDB connection, read the 52 Parquet
    files and group both metrics by window and dimension value in one query, fetching the groups (no tags join,
    no additivity, series or page)."""
    from dashboards import data
    from executions.results.reader import local_sidecar

    parts = data.parts_for(dashboard)
    paths = []
    for part in parts:
        with local_sidecar(part.result) as path:
            paths.append(str(path))
    listed = ", ".join(f"'{path}'" for path in paths)
    return con.execute(
        "SELECT filename, c0, SUM(TRY_CAST(c1 AS DOUBLE)), SUM(TRY_CAST(c2 AS DOUBLE)), COUNT(*) "
        f"FROM read_parquet([{listed}], filename = true) GROUP BY filename, c0"
    ).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="100 cells")
    parser.add_argument("--skip-drain", action="store_true")
    parser.add_argument("--dispatch-only", action="store_true", help="planning and one dispatch pass only")
    args = parser.parse_args()
    total = 100 if args.quick else args.cells
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="bench-runsets-"))
    env = {
        "SITE_URL": f"http://127.0.0.1:{port}", "AMC_API_BASE_URL": f"http://127.0.0.1:{port}/sandbox",
        "LWA_TOKEN_URL": f"http://127.0.0.1:{port}/sandbox/auth/o2/token", "SANDBOX_FAULTS": json.dumps(FAULTS),
        "SANDBOX_PENDING_SECONDS": "1", "SANDBOX_RUNNING_SECONDS": "1", "MEDIA_ROOT": str(work / "media"),
        "SANDBOX_DATA_PATH": str(work / "amc.duckdb"),
    }  # fmt: skip
    with fresh_database("runsets", env):
        from recomamp.sandbox.engine import generate

        print(f"machine: {machine()}")
        generate(work / "amc.duckdb", scale=0.03, seed=11, end_date=date(2025, 12, 31))
        bench_planning()
        bench_dispatch_pass()
        if args.dispatch_only:
            return
        bench_dashboard()
        if not args.skip_drain:
            with web_server(port):
                bench_drain(total, work / "amc.duckdb")


if __name__ == "__main__":
    main()
