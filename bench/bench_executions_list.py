"""Benchmark the executions list page (`executions.views.execution_list`) at three sizes a factor 10 apart.

Run from the repository root:  .venv/bin/python bench/bench_executions_list.py [--quick] [--sizes 10000,100000]

One user owns every execution (the worst case for one list). Each page is requested in-process with Django's
test `Client` (logged in with `force_login`), so the time is the server's: middleware, queries, template.
Two measures per request, each beside a ceiling measured in the same run:
- database: the `EXPLAIN ANALYZE` time of every query the request runs on the list's tables (page, capped
  count, workflow names for a search), against the page query alone (target ≤ 3×);
- server: the request's wall time, against a bare authenticated page (bench/bare_page.py: base.html with nothing
  in it, through every middleware) plus the page query. The two pages are requested alternately, so both medians
  see the same load on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    Measure,  # noqa: E402
    Table,
    fresh_database,
    heading,
    machine,
    stopwatch,
)

SIZES = {"quick": [1_000, 10_000, 100_000], "full": [10_000, 100_000, 1_000_000]}
PAGE_SIZE = 50  # the view's page size
TEMPLATE_ROWS = 5_000  # rows made through the ORM; the rest are SQL copies of them (every cycle divides 5,000)
# Status mix of a busy account: mostly finished runs, a few in flight.
STATUS_CYCLE = ["succeeded"] * 16 + ["failed"] * 2 + ["cancelled", "running"]
TRIGGER_CYCLE = ["manual", "schedule", "schedule", "test"]
LIST_TABLES = ("executions_execution", "queries_workflow")


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


def add_executions(user, instances, workflows, start: int, stop: int) -> float:
    """Executions numbered [start, stop), one every 5 minutes (higher number = newer); returns rows per second.

    The first TEMPLATE_ROWS are made with `bulk_create`; the others are copies of them made in SQL with their own
    ids and times, which is what a million rows need to be made in seconds rather than minutes.
    """
    from django.db import connection

    from executions.models import Execution

    with stopwatch() as elapsed:
        if start < TEMPLATE_ROWS:
            Execution.objects.bulk_create(
                Execution(
                    execution_id=f"exec_b{i:010d}", owner=user, instance=instances[i % len(instances)],
                    workflow=workflows[i % len(workflows)] if i % 5 else None,  # one in five ad hoc
                    status=STATUS_CYCLE[i % len(STATUS_CYCLE)], trigger=TRIGGER_CYCLE[i % len(TRIGGER_CYCLE)],
                    amc_execution_id=f"00000000-0000-4000-8000-{i:012d}",
                    sql_sent="SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY 1",
                )
                for i in range(start, min(stop, TEMPLATE_ROWS))
            )  # fmt: skip
        columns = [f.column for f in Execution._meta.concrete_fields if not f.primary_key]
        computed = {
            "execution_id": "'exec_b' || lpad(g::text, 10, '0')",
            "amc_execution_id": "'00000000-0000-4000-8000-' || lpad(g::text, 12, '0')",
            "created_at": "timestamptz '2016-01-01 00:00+00' + g * interval '5 minutes'",
        }
        select = ", ".join(computed.get(c, f't."{c}"') for c in columns)
        names = ", ".join(f'"{c}"' for c in columns)
        with connection.cursor() as cursor:
            if start < TEMPLATE_ROWS:
                cursor.execute(
                    "UPDATE executions_execution SET created_at = timestamptz '2016-01-01 00:00+00'"
                    " + substr(execution_id, 7)::int * interval '5 minutes'"
                )
            if stop > TEMPLATE_ROWS:
                cursor.execute(
                    f"INSERT INTO executions_execution ({names}) SELECT {select} "
                    "FROM generate_series(%s, %s) g JOIN executions_execution t "
                    "ON t.execution_id = 'exec_b' || lpad((g %% %s)::text, 10, '0')",
                    [max(start, TEMPLATE_ROWS), stop - 1, TEMPLATE_ROWS],
                )
        _vacuum()
    return (stop - start) / elapsed()


def _vacuum() -> None:
    """VACUUM ANALYZE, as autovacuum would do on a live table: fresh statistics, GIN pending lists merged."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE executions_execution")


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


def cursor_at(user, offset: int, **filters) -> str:
    """The `older` cursor that starts a page right after the row at `offset` (newest first)."""
    from executions.listing import Cursor
    from executions.models import Execution

    qs = Execution.objects.filter(owner=user, **filters).order_by("-created_at", "-pk")
    return Cursor.of(qs[max(0, offset) : max(0, offset) + 1].get()).encode()


def cases(user, total: int) -> list[tuple[str, dict]]:
    failed = total * STATUS_CYCLE.count("failed") // len(STATUS_CYCLE)
    middle = total // 2
    return [
        ("page 1", {}),
        ("middle page", {"older": cursor_at(user, middle)}),
        ("last page", {"older": cursor_at(user, total - PAGE_SIZE - 1)}),
        ("newer page from the middle", {"newer": cursor_at(user, middle)}),
        ("status=failed, page 1", {"status": "failed"}),
        ("status=failed, middle page", {"status": "failed", "older": cursor_at(user, failed // 2, status="failed")}),
        ("search a query name (q=Query 7)", {"q": "Query 7"}),
        ("search an AMC id fragment (1 match)", {"q": f"8000-{middle:012d}"}),
    ]


def alternate_ms(client, params: dict, runs: int) -> tuple[float, float, object]:
    """Medians (ms) of the bare page and of the list with `params`, requested in turn, and the list's response."""
    from bare_page import BARE_URL

    bare, page, response = [], [], None
    for _ in range(runs + 1):  # the first pair warms up
        for url, data, samples in ((BARE_URL, {}, bare), ("/executions/", params, page)):
            start = time.perf_counter()
            response = client.get(url, data)
            samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(bare[1:]), statistics.median(page[1:]), response


def measure(client, user, total: int, runs: int, table: Table) -> list[Measure]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results = []
    for label, params in cases(user, total):
        bare_ms, ms, response = alternate_ms(client, params, runs)
        assert response.status_code == 200, response.status_code  # a sanity check of the setup, not a timing
        with CaptureQueriesContext(connection) as captured:
            client.get("/executions/", params)
        listing = [q["sql"] for q in captured.captured_queries if any(t in q["sql"] for t in LIST_TABLES)]
        page_sql = next(sql for sql in listing if f"LIMIT {PAGE_SIZE + 1}" in sql and "COUNT(" not in sql)
        page_ms = explain_ms(page_sql)
        database_ms = sum(explain_ms(sql) for sql in listing)
        ceiling = bare_ms + page_ms
        results += [
            Measure.of(f"executions list, {label}: database", database_ms, page_ms, "ms", total),
            Measure.of(f"executions list, {label}: server", ms, ceiling, "ms", total),
        ]
        table.row(
            f"{total:,}", label, f"{ms:.1f}", len(captured.captured_queries), f"{database_ms:.2f}", f"{page_ms:.2f}",
            f"{database_ms / page_ms:.1f}×", f"{bare_ms:.1f}", f"{ceiling:.1f}", f"{ms / ceiling:.1f}×",
        )  # fmt: skip
    return results


def run(sizes: list[int] | None = None, quick: bool = False, runs: int | None = None) -> list[Measure]:
    sizes = sorted(sizes or SIZES["quick" if quick else "full"])
    runs = runs or (5 if quick else 15)
    with fresh_database("list"):
        from django.test import Client, override_settings

        heading(f"Executions list ({machine()})")
        user, instances, workflows = create_fixtures()
        client = Client()
        client.force_login(user)
        table = Table(
            "executions", "request", f"server ms (median of {runs})", "queries", "database ms (EXPLAIN, all list "
            "queries)", "page query ms (ceiling)", "database ratio", "bare page ms",
            "bare page + page query ms (ceiling)", "server ratio",
        )  # fmt: skip
        results, done = [], 0
        for size in sizes:
            rate = add_executions(user, instances, workflows, done, size)
            done = size
            with override_settings(ROOT_URLCONF="bare_page"):
                results += measure(client, user, size, runs, table)
            print(f"\n{size:,} executions made at {rate:,.0f}/s", flush=True)
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help="comma-separated execution counts (default: 10k, 100k, 1M)")
    parser.add_argument("--runs", type=int, help="requests per case (median)")
    parser.add_argument("--quick", action="store_true", help="1k, 10k and 100k executions, 5 requests per case")
    parser.add_argument("--json", help="write the measures to this file")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else None
    results = run(sizes, quick=args.quick, runs=args.runs)
    if args.json:
        Path(args.json).write_text(json.dumps([m.as_dict() for m in results], indent=1))


if __name__ == "__main__":
    main()
