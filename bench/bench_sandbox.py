"""Benchmark the sandbox engine on every library template, at three data sizes a factor 10 apart.

Run from the repository root:  .venv/bin/python bench/bench_sandbox.py [--quick] [--scales 0.1,1,10]

For each size, `generate` writes a sandbox database (`--scale 1` is 1M DSP impressions); each template of
queries/library is rendered with values found in that data (parameters.prepare_query, as a run would) and run
through `engine.run_query` over the whole 13 months, with AMC's per-class thresholds. Product: the median wall
time of a run as the sandbox serves it (compiled SQL and the DuckDB connection reused after the first run).
Ceiling: the same DuckDB SQL the engine runs (the template translated, user counts included), executed on an
open connection: what DuckDB alone needs for that template. The first (cold) run is shown too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recomamp.settings")

from common import Measure  # noqa: E402

SIZES = {"quick": [0.01, 0.1, 1.0], "full": [0.1, 1.0, 10.0]}  # × 1M DSP impressions
IMPRESSIONS_PER_SCALE = 1_000_000


def values_for(con, parameters, window_start: datetime) -> dict:
    """A value for each template parameter, taken from the data so the filters select something."""

    def top(sql: str) -> list[str]:
        return [str(row[0]) for row in con.execute(sql).fetchall()]

    asin_column = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE column_name IN ('asin', 'tracked_asin') "
        "ORDER BY table_name LIMIT 1"
    ).fetchone()
    values = {}
    for p in parameters:
        if p.default not in (None, "", []):
            values[p.name] = p.default
        elif p.type == "campaign_list":
            values[p.name] = top(
                "SELECT campaign_id_string FROM dsp_impressions GROUP BY 1 ORDER BY count(*) DESC LIMIT 5"
            )
        elif p.type == "asin_list":
            table, column = asin_column
            values[p.name] = top(f"SELECT {column} FROM {table} GROUP BY 1 ORDER BY count(*) DESC LIMIT 5")
        elif p.type == "date":
            days = 30 if "start" in p.name else 60
            values[p.name] = (window_start + timedelta(days=days)).date().isoformat()
        elif p.type == "integer":
            values[p.name] = 7
        else:
            values[p.name] = ["x"] if p.type.endswith("list") else "x"
    return values


def timed(function, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def measure_size(scale: float, folder: Path, runs: int) -> list[Measure]:
    import duckdb

    from queries.catalog_dirs import read_library
    from queries.parameters import definitions_from_json, prepare_query
    from recomamp.sandbox.engine import TimeWindow, generate, reuse, run_query

    size = round(scale * IMPRESSIONS_PER_SCALE)
    started = time.perf_counter()
    stats = generate(folder / f"sandbox-{scale}.duckdb", scale=scale, seed=42)
    print(f"\n{size:,} DSP impressions (scale {scale}): generated in {time.perf_counter() - started:.1f} s", flush=True)
    window = {
        "time_window_start": datetime.combine(stats.start_date, datetime.min.time()),
        "time_window_end": datetime.combine(stats.end_date + timedelta(days=1), datetime.min.time()),
    }
    ceiling_con = duckdb.connect(str(stats.path), read_only=True)
    ceiling_con.execute("SET TimeZone = 'UTC'")
    print("\n| template | rows | first run ms | run ms (product) | DuckDB alone ms (ceiling) | ratio |")
    print("|---|---|---|---|---|---|")
    results = []
    for template in read_library(ROOT / "queries" / "library"):
        definitions = definitions_from_json([p.as_dict() for p in template.parameters])
        prepared = prepare_query(
            template.sql, definitions, values_for(ceiling_con, template.parameters, window["time_window_start"])
        )
        declared = [p["name"] for p in prepared.input_parameters]

        def product(prepared=prepared, declared=declared):
            return run_query(
                prepared.sql, db_path=stats.path, parameter_values=prepared.parameter_values,
                declared_parameters=declared, min_users=None, **window,
            )  # fmt: skip

        start = time.perf_counter()
        try:
            result = product()
        except Exception as exc:  # a template the engine cannot run is reported, not fatal
            print(f"| {template.slug} | failed: {type(exc).__name__}: {str(exc)[:80]} | | | | |", flush=True)
            continue
        first = (time.perf_counter() - start) * 1000
        compiled = reuse.compile_query(
            prepared.sql, declared_parameters=declared, parameter_values=prepared.parameter_values,
            window=TimeWindow(window["time_window_start"], window["time_window_end"]),
        )  # fmt: skip
        ceiling_con.execute(compiled.duck_sql).fetchall()  # warm, like the product's warm runs
        product_ms = timed(product, runs)
        ceiling_ms = timed(lambda sql=compiled.duck_sql: ceiling_con.execute(sql).fetchall(), runs)
        measure = Measure.of(f"sandbox template {template.slug}", product_ms, ceiling_ms, "ms", size)
        results.append(measure)
        print(
            f"| {template.slug} | {len(result.rows)} | {first:.1f} | {product_ms:.1f} | {ceiling_ms:.1f} | "
            f"{measure.ratio}× |",
            flush=True,
        )
    ceiling_con.close()
    ratios = [m.ratio for m in results]
    if ratios:
        print(f"\nratio: median {statistics.median(ratios):.2f}×, worst {max(ratios):.2f}×", flush=True)
    return results


def run(sizes: list[float] | None = None, quick: bool = False, runs: int | None = None) -> list[Measure]:
    import django

    django.setup()
    scales = sorted(sizes or SIZES["quick" if quick else "full"])
    runs = runs or (3 if quick else 5)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        for scale in scales:
            results += measure_size(scale, Path(tmp), runs)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", help="comma-separated generate_sandbox_data scales (default 0.1, 1, 10)")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--quick", action="store_true", help="scales 0.01, 0.1 and 1, three runs per template")
    parser.add_argument("--json", help="write the measures to this file")
    args = parser.parse_args()
    scales = [float(s) for s in args.scales.split(",")] if args.scales else None
    results = run(scales, quick=args.quick, runs=args.runs)
    if args.json:
        Path(args.json).write_text(json.dumps([m.as_dict() for m in results], indent=1))


if __name__ == "__main__":
    main()
