"""Benchmark comparing two runs of 100,000 rows each (`executions.comparison.compare_results`), against its ceiling.

Run from the repository root:  .venv/bin/python bench/bench_compare.py [--quick] [--sizes 10000,100000] [--json F]

Two results shaped like a campaign × day report (2 dimensions, 3 additive metrics and 1 non-additive) are stored
as the app stores them (CSV plus the Parquet copy, `executions.results.ingest.build_sidecar`). The second run drops
2 % of the rows, adds 2 % new ones and changes 30 %. Timed: the compare page's work for the first page of
differences, the first page ordered by the largest change in a metric, and the last page of all rows. The ceiling,
measured in the same run on the same files, is DuckDB's full outer join of the two Parquet copies on the
dimensions with a count, and nothing else; the ratio says what matching in order, statuses, totals and paging cost.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Measure, Table, cli, fresh_database, heading, machine, median_ms, stopwatch  # noqa: E402

HEADER = "campaign,day,impressions,clicks,spend,reach\r\n"
DAYS = 50


def write_csv(path: Path, rows: int, *, second: bool) -> None:
    """Row i is campaign i // DAYS on day i % DAYS; the second run drops, adds and changes rows deterministically."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(HEADER)
        for i in range(rows):
            if second and i % 50 == 7:
                continue  # removed (2 %)
            factor = 1.1 if second and i % 10 < 3 else 1.0  # changed (30 %)
            campaign, day = f"Campaign {i // DAYS}", f"2026-{(i % DAYS) // 28 + 1:02d}-{i % DAYS % 28 + 1:02d}"
            impressions = int((i * 7919) % 100000 * factor)
            spend, reach = f"{(i * 31) % 10000 / 100:.2f}", (i * 13) % 50000
            handle.write(f"{campaign},{day},{impressions},{i % 997},{spend},{reach}\r\n")
        if second:
            for i in range(rows // 50):  # added (2 %)
                handle.write(f"New campaign {i},2026-01-01,{i * 3},{i % 7},1.00,{i}\r\n")


SIZES = {"quick": [1_000, 10_000, 100_000], "full": [10_000, 100_000, 1_000_000]}  # rows per run


def run(sizes=None, quick=False) -> list[Measure]:
    runs = 3 if quick else 5
    measures = []
    with fresh_database("compare"):
        for rows in sizes or SIZES["quick" if quick else "full"]:
            measures += measure(rows, runs)
    return measures


def measure(rows: int, runs: int) -> list[Measure]:
    args = argparse.Namespace(rows=rows, runs=runs)
    measures = []
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        from django.core.files import File
        from django.test.utils import override_settings

        from executions.comparison import compare_results
        from executions.models import Execution, ExecutionResult
        from executions.results import duckdb_connect, sidecar_name
        from executions.results.ingest import build_sidecar

        with override_settings(MEDIA_ROOT=tmp + "/media"):
            runs = []
            for number, second in ((1, False), (2, True)):
                csv_path, parquet_path = Path(tmp) / f"r{number}.csv", Path(tmp) / f"r{number}.parquet"
                write_csv(csv_path, args.rows, second=second)
                _, types = build_sidecar(csv_path, parquet_path, ["string", "date", "integer", "integer", "decimal",
                                                               "integer"])  # fmt: skip
                names = HEADER.strip().split(",")
                result = ExecutionResult(columns=[{"name": n, "type": t} for n, t in zip(names, types, strict=True)])
                storage = result.file.storage
                with open(csv_path, "rb") as handle:
                    result.file.name = storage.save(f"results/bench/r{number}.csv", File(handle))
                with open(parquet_path, "rb") as handle:
                    storage.save(sidecar_name(result.file.name), File(handle))
                with duckdb_connect() as con:
                    result.row_count = con.execute("SELECT count(*) FROM read_parquet($p)",
                                                   {"p": str(parquet_path)}).fetchone()[0]  # fmt: skip
                execution = Execution(execution_id=f"exec_bench{number}")
                result.execution = execution  # also caches execution.result
                runs.append(execution)
            a, b = runs
            paths = {"pa": storage.path(sidecar_name(a.result.file.name)),
                     "pb": storage.path(sidecar_name(b.result.file.name))}  # fmt: skip

            heading(f"Comparing two runs of {args.rows:,} rows — {machine()}")
            with stopwatch() as once:
                first = compare_results(a, b)
            print(f"\nfirst call {once() * 1000:.0f} ms; counts {first.counts}; totals for "
                  f"{[t.name for t in first.totals]}, never summed: {first.non_additive}")  # fmt: skip

            def ceiling():
                with duckdb_connect() as con:
                    return con.execute(
                        "SELECT count(*) FROM read_parquet($pa) a FULL OUTER JOIN read_parquet($pb) b "
                        "ON a.c0 IS NOT DISTINCT FROM b.c0 AND a.c1 IS NOT DISTINCT FROM b.c1", paths
                    ).fetchone()[0]

            join_ms, joined = median_ms(ceiling, args.runs)
            table = Table("case", f"median of {args.runs} (ms)", "ratio to the join alone")
            table.row(f"DuckDB full outer join alone ({joined:,} rows)", f"{join_ms:.0f}", "1.0")
            cases = {
                "first page of differences": {},
                "first page by largest change in impressions": {"sort": "impressions", "show": "all"},
                "last page of all rows": {"show": "all", "page": 10**6},
            }
            for label, kwargs in cases.items():
                ms, _ = median_ms(lambda kwargs=kwargs: compare_results(a, b, **kwargs), args.runs)
                table.row(label, f"{ms:.0f}", f"{ms / join_ms:.1f}")
                measures.append(Measure.of(f"compare two runs: {label}", ms, join_ms, "ms", args.rows))
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"\npeak RSS of the benchmark process: {rss:.0f} MB")
    return measures


if __name__ == "__main__":
    cli(run, SIZES, __doc__.splitlines()[0])
