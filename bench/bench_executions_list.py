"""Benchmark the executions list page (`executions.views.execution_list`) at 1,000 and 100,000 executions.

Run from the repository root:  .venv/bin/python bench/bench_executions_list.py [--rows 100000] [--runs 20]

One user owns every execution (the worst case for one list). Each page is requested in-process with Django's
test `Client` (logged in with `force_login`), so the time is the server's: middleware, queries, template.
The ceiling is what PostgreSQL needs for the page itself: `EXPLAIN ANALYZE` of the page query (LIMIT/OFFSET),
shown next to the paginator's COUNT(*) so it is clear which of the two grows with the table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Table, fresh_database, heading, machine, median_ms, stopwatch  # noqa: E402

PAGE_SIZE = 50  # the view's page size
# Status mix of a busy account: mostly finished runs, a few in flight.
STATUS_CYCLE = ["succeeded"] * 16 + ["failed"] * 2 + ["cancelled", "running"]
TRIGGER_CYCLE = ["manual", "schedule", "schedule", "test"]


def create_fixtures():
    from accounts.models import User
    from instances.models import AdvertiserAccount, AMCInstance
    from queries.models import Workflow

    user = User.objects.create_user(email="bench-list@example.com")
    account = AdvertiserAccount.objects.create(owner=user, entity_id="ENTITYBENCH", name="Bench", marketplace_id="X")
    instances = [
        AMCInstance.objects.create(owner=user, account=account, instance_id=f"amcbench{i:03d}", name=f"Bench {i}")
        for i in range(5)
    ]
    workflows = [Workflow.objects.create(owner=user, name=f"Query {i}", sql="SELECT 1") for i in range(20)]
    return user, instances, workflows


def add_executions(user, instances, workflows, start: int, stop: int, batch: int = 5000) -> float:
    """Bulk-insert executions numbered [start, stop); returns rows per second."""
    from django.db import connection

    from executions.models import Execution

    with stopwatch() as elapsed:
        for first in range(start, stop, batch):
            Execution.objects.bulk_create(
                [
                    Execution(
                        execution_id=f"exec_b{i:010d}",
                        owner=user,
                        instance=instances[i % len(instances)],
                        workflow=workflows[i % len(workflows)] if i % 5 else None,  # one in five ad hoc
                        status=STATUS_CYCLE[i % len(STATUS_CYCLE)],
                        trigger=TRIGGER_CYCLE[i % len(TRIGGER_CYCLE)],
                        amc_execution_id=f"00000000-0000-4000-8000-{i:012d}",
                        sql_sent="SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY 1",
                    )
                    for i in range(first, min(stop, first + batch))
                ]
            )
        # auto_now_add stamped every row with the same instant: spread them, one execution every 5 minutes.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE executions_execution SET created_at = now() - (%s - id) * interval '5 minutes' WHERE id > 0",
                [stop],
            )
            cursor.execute("ANALYZE executions_execution")
    return (stop - start) / elapsed()


def explain_ms(sql: str, runs: int = 5) -> float:
    """Median planning + execution time PostgreSQL reports for `sql` (already interpolated by Django)."""
    from django.db import connection

    samples = []
    with connection.cursor() as cursor:
        for _ in range(runs):
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            samples.append(plan[0]["Planning Time"] + plan[0]["Execution Time"])
    return statistics.median(samples)


def measure(client, total: int, runs: int, table: Table) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pages = -(-total // PAGE_SIZE)
    failed_pages = -(-sum(1 for i in range(total) if STATUS_CYCLE[i % len(STATUS_CYCLE)] == "failed") // PAGE_SIZE)
    cases = [
        ("page 1", {"page": 1}),
        (f"middle page ({pages // 2})", {"page": max(1, pages // 2)}),
        (f"last page ({pages})", {"page": pages}),
        ("status=failed, page 1", {"status": "failed", "page": 1}),
        (f"status=failed, middle page ({failed_pages // 2})", {"status": "failed", "page": max(1, failed_pages // 2)}),
        ("search q=Query 7, page 1", {"q": "Query 7", "page": 1}),
    ]
    for label, params in cases:
        ms, response = median_ms(lambda params=params: client.get("/executions/", params), runs)
        assert response.status_code == 200, response.status_code  # a sanity check of the setup, not a timing
        with CaptureQueriesContext(connection) as captured:
            client.get("/executions/", params)
        sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
        count_sql = next(q["sql"] for q in captured.captured_queries if "COUNT(*)" in q["sql"])
        page_sql = next(q["sql"] for q in captured.captured_queries if f"LIMIT {PAGE_SIZE}" in q["sql"])
        count_ms, page_ms = explain_ms(count_sql), explain_ms(page_sql)
        table.row(
            f"{total:,}", label, f"{ms:.1f}", len(captured.captured_queries), f"{sql_ms:.0f}",
            f"{count_ms:.2f}", f"{page_ms:.2f}", f"{ms - page_ms:.1f}",
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000, help="the first size measured")
    parser.add_argument("--runs", type=int, default=20, help="requests per case (median)")
    parser.add_argument("--quick", action="store_true", help="10,000 executions, 5 requests per case")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.runs = 10_000, 5

    with fresh_database("list"):
        from django.test import Client

        heading(f"Executions list ({machine()})")
        user, instances, workflows = create_fixtures()
        client = Client()
        client.force_login(user)
        rate = add_executions(user, instances, workflows, 0, args.small)
        table = Table(
            "executions", "request", f"server ms (median of {args.runs})", "queries", "SQL ms in request (1 ms steps)",
            "COUNT(*) EXPLAIN ms", "page query EXPLAIN ms (ceiling)", "server − ceiling ms",
        )  # fmt: skip
        measure(client, args.small, args.runs, table)
        rate = add_executions(user, instances, workflows, args.small, args.rows)
        measure(client, args.rows, args.runs, table)
        print(f"\nbulk_create: {rate:,.0f} executions/s in batches of 5,000 (then created_at spread over "
              f"{timedelta(minutes=5 * args.rows).days} days and ANALYZE)")  # fmt: skip


if __name__ == "__main__":
    main()
