"""Benchmark run sets and dashboards.

Run from the repository root:  .venv/bin/python bench/bench_runsets.py [--quick] [--sizes 1000,10000,100000]
                               .venv/bin/python bench/bench_runsets.py --drain 500   (the drain alone, minutes)

1. Planning: `size` cells (size/40 daily windows × 40 instances): generating the windows and saving the set with its
   cells (`create_run_set`, one bulk insert behind the unique fence). Ceiling: the same rows inserted with one
   `bulk_create` and nothing else.
2. Draining (`--drain N`, not part of run_all): N cells (10 weekly windows on each of N/10 sandbox instances)
   against the sandbox in a
   gunicorn subprocess with faults (10% 429, 5% 503, 50 ms latency), driven in this process the way the
   workers do (the run-set cycle and the execution follower every 0.5 s, tasks inline). Reports cells/min and
   compares it with the concurrency ceiling: in-flight slots (10 per instance) × 60 / the measured mean cell time.
3. Dashboard: 52 windows × 10/100/1,000 rows each (full: ×10), the dashboard page through Django's test
   client (server time; aim under 300 ms) against its ceiling `data.compute` alone (the DuckDB work it renders).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Measure, Table, cli, free_port, fresh_database, heading, machine, median_ms, sizes_for, web_server  # noqa: E402

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


def bench_planning(user, instances, workflow, size: int) -> Measure:
    """`size` cells (size/40 daily windows × 40 instances): create_run_set against a bare bulk_create of them."""
    from runsets import services, windows
    from runsets.models import Cell, RunSet

    last = max(1, size // len(instances))
    planned = windows.generate(period="day", tz="America/New_York", today=date(2026, 1, 3), last=last)

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
    print(f"create_run_set: {cells:,} cells {create_ms:.0f} ms, bare bulk_create {ceiling_ms:.0f} ms")
    return Measure.of("run set planning: create_run_set vs bulk_create", create_ms, ceiling_ms, "ms", size)


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


def bench_dashboard(rows: int) -> Measure:
    """The dashboard page over 52 windows × `rows` rows against `data.compute` alone (its DuckDB work)."""
    from django.core.files.base import ContentFile
    from django.test import Client

    from dashboards import data
    from dashboards.models import Dashboard
    from executions.models import Execution, ExecutionResult
    from queries.models import Workflow
    from runsets.models import Cell, RunSet

    heading(f"Dashboard over 52 windows × {rows:,} rows")
    user, instances = user_with_instances(f"dash{rows}@example.com", 1, f"dash{rows}")
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
            f"campaign {n:04d},{(n * 37 + week * 11) % 5000},{(n * 13 + week) % 900}\n" for n in range(rows)
        )
        result = ExecutionResult(execution=execution, columns=columns, row_count=rows)
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
    page_ms, response = median_ms(lambda: client.get(url), runs=5)
    filtered_ms, _ = median_ms(lambda: client.get(url + "?value=campaign%200001&from=2025-06-02"), runs=5)
    print(f"data.compute {compute_ms:.0f} ms ({len(computed['windows'])} windows); page {page_ms:.0f} ms "
          f"(status {response.status_code}, aim 300 ms); filtered page {filtered_ms:.0f} ms")  # fmt: skip
    import duckdb

    with duckdb.connect() as con:
        ceiling_ms, _ = median_ms(lambda: dashboard_ceiling(dashboard, con), runs=5)
    print(f"one DuckDB GROUP BY over the same files {ceiling_ms:.0f} ms")
    return Measure.of("dashboard page vs one DuckDB GROUP BY, 52 windows", page_ms, ceiling_ms, "ms", rows * 52)


def dashboard_ceiling(dashboard, con) -> list:
    """The least a dashboard page can do: list the parts and, on an open DuckDB connection, read the 52 Parquet
    files and group both metrics by window and dimension value in one query, fetching the groups (no tags join,
    no additivity, series or page)."""
    from dashboards import data
    from executions.results.reader import local_sidecar

    paths = []
    for part in data.parts_for(dashboard):
        with local_sidecar(part.result) as path:
            paths.append(str(path))
    listed = ", ".join(f"'{path}'" for path in paths)
    return con.execute(
        "SELECT filename, c0, SUM(TRY_CAST(c1 AS DOUBLE)), SUM(TRY_CAST(c2 AS DOUBLE)), COUNT(*) "
        f"FROM read_parquet([{listed}], filename = true) GROUP BY filename, c0"
    ).fetchall()


# Cells planned: 40 instances × 1/10/100 windows (a run set allows at most 50 instances and 104 windows).
INSTANCES = 40
SIZES = {"quick": [40, 400, 4_000], "full": [40, 400, 4_000]}
DASHBOARD_ROWS = {"quick": [10, 100, 1_000], "full": [100, 1_000, 10_000]}  # rows per window, 52 windows


def environment(port: int, work: Path) -> dict[str, str]:
    return {
        "SITE_URL": f"http://127.0.0.1:{port}", "AMC_API_BASE_URL": f"http://127.0.0.1:{port}/sandbox",
        "LWA_TOKEN_URL": f"http://127.0.0.1:{port}/sandbox/auth/o2/token", "SANDBOX_FAULTS": json.dumps(FAULTS),
        "SANDBOX_PENDING_SECONDS": "1", "SANDBOX_RUNNING_SECONDS": "1", "MEDIA_ROOT": str(work / "media"),
        "SANDBOX_DATA_PATH": str(work / "amc.duckdb"),
    }  # fmt: skip


def run(sizes: list[int] | None = None, quick: bool = False) -> list[Measure]:
    """Planning at each size (cells) and the dashboard at DASHBOARD_ROWS; the drain runs alone."""
    work = Path(tempfile.mkdtemp(prefix="bench-runsets-"))
    measures = []
    with fresh_database("runsets", environment(free_port(), work)):
        from queries.models import Workflow

        heading(f"Run sets and dashboards ({machine()})")
        user, instances = user_with_instances("plan@example.com", INSTANCES, "plan")
        workflow = Workflow.objects.create(owner=user, name="Reach", sql=SQL)
        for size in sizes_for(SIZES, sizes, quick):
            measures.append(bench_planning(user, instances, workflow, size))
        for rows in DASHBOARD_ROWS["quick" if quick else "full"]:
            measures.append(bench_dashboard(rows))
    return measures


def drain(cells: int) -> None:
    """The drain against the sandbox with faults (minutes; not part of run_all)."""
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="bench-runsets-"))
    with fresh_database("runsets", environment(port, work)):
        from recomamp.sandbox.engine import generate

        print(f"machine: {machine()}")
        generate(work / "amc.duckdb", scale=0.03, seed=11, end_date=date(2025, 12, 31))
        with web_server(port):
            bench_drain(cells, work / "amc.duckdb")


if __name__ == "__main__":
    if "--drain" in sys.argv:
        drain(int(sys.argv[sys.argv.index("--drain") + 1]))
    else:
        cli(run, SIZES, __doc__.splitlines()[0])
