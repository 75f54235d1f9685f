"""Benchmark storing and reading a large execution result (default 1,000,000 rows in 3 files).

Run from the repository root:  .venv/bin/python bench/bench_results.py [--rows 1000000] [--files 3]

1. Ingest: the files are served by a local HTTP server and fetched with `executions.results.ingest.fetch_files`
   (download and join, record count, type inference and check, Parquet copy), then saved to a temporary
   MEDIA_ROOT. This is `store_result` without its one database row. Reports seconds, tracemalloc peak (Python
   allocations) and the process's peak RSS (which includes DuckDB's native memory).
2. Pages: first page unsorted, sorted by a numeric and a text column, and the last page, through
   `reader.read_page`; the same queries straight over the CSV show what the Parquet copy buys.
3. A chart aggregation and an export pass for scale.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recomamp.settings")

import django  # noqa: E402

django.setup()

import duckdb  # noqa: E402
from django.core.files import File  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from executions.models import ExecutionResult  # noqa: E402
from executions.results import sidecar_name  # noqa: E402
from executions.results.charts import chart_data  # noqa: E402
from executions.results.export import iter_json  # noqa: E402
from executions.results.ingest import fetch_files  # noqa: E402
from executions.results.reader import read_page  # noqa: E402

HEADER = "campaign,day,impressions,clicks,spend,reach,note\r\n"


def write_parts(folder: Path, rows: int, files: int) -> list[Path]:
    """AMC-like parts, each with the header; one row in 50 has a quoted line break."""
    paths = []
    per_file = -(-rows // files)
    for number in range(files):
        path = folder / f"part{number + 1}.csv"
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(HEADER)
            for i in range(number * per_file, min(rows, (number + 1) * per_file)):
                note = f'"first line\nsecond {i}"' if i % 50 == 0 else f"note {i % 1000}"
                handle.write(
                    f"Campaign {i % 2000},2024-{i % 12 + 1:02d}-{i % 28 + 1:02d},{(i * 7919) % 100000},"
                    f"{i % 997},{(i * 31) % 10000 / 100:.2f},{(i * 13) % 50000},{note}\r\n"
                )
        paths.append(path)
    return paths


def serve(folder: Path) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            path = folder / self.path.split("?")[0].lstrip("/")
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(path.stat().st_size))
            self.end_headers()
            with open(path, "rb") as handle:
                shutil.copyfileobj(handle, self.wfile, 256 * 1024)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def timed(function, runs: int) -> tuple[float, object]:
    """Median milliseconds over `runs` calls, and the last value."""
    samples, value = [], None
    for _ in range(runs):
        start = time.perf_counter()
        value = function()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-results-") as tmp, override_settings(MEDIA_ROOT=tmp + "/media"):
        tmp_path = Path(tmp)
        (tmp_path / "served").mkdir()
        parts = write_parts(tmp_path / "served", args.rows, args.files)
        size_mb = sum(p.stat().st_size for p in parts) / 1e6
        print(
            f"{args.rows:,} rows in {args.files} files, {size_mb:.1f} MB; peak RSS before ingest {max_rss_mb():.0f} MB"
        )

        server = serve(tmp_path / "served")
        urls = [f"http://127.0.0.1:{server.server_address[1]}/{p.name}?X-Amz-Signature=x" for p in parts]
        start = time.perf_counter()
        fetched = fetch_files(urls, Path(tempfile.mkdtemp(dir=tmp)))
        seconds = time.perf_counter() - start
        rss = max_rss_mb()
        tracemalloc.start()  # a second, traced run: tracing slows Python down, so it is not timed
        fetch_files(urls, Path(tempfile.mkdtemp(dir=tmp)))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        server.shutdown()
        print(
            f"ingest: {seconds:.2f} s, peak RSS {rss:.0f} MB, tracemalloc peak {peak / 1e6:.2f} MB, "
            f"{fetched.row_count:,} rows, types {[c['type'] for c in fetched.columns]}"
        )

        result = ExecutionResult(columns=fetched.columns, row_count=fetched.row_count)
        storage = result.file.storage
        with open(fetched.csv_path, "rb") as handle:
            result.file.name = storage.save("results/bench/result.csv", File(handle))
        with open(fetched.parquet_path, "rb") as handle:
            storage.save(sidecar_name(result.file.name), File(handle))
        parquet_mb = fetched.parquet_path.stat().st_size / 1e6
        print(f"parquet copy: {parquet_mb:.1f} MB (CSV {fetched.csv_path.stat().st_size / 1e6:.1f} MB)")

        last = -(-result.row_count // 50)
        cases = {
            "first page, unsorted": dict(page=1),
            "first page, sorted by impressions (integer)": dict(page=1, sort="impressions"),
            "first page, sorted by spend desc (decimal)": dict(page=1, sort="spend", descending=True),
            "first page, sorted by campaign (text)": dict(page=1, sort="campaign"),
            "last page, unsorted": dict(page=last),
            "last page, sorted by impressions": dict(page=last, sort="impressions"),
        }
        print(f"\nread_page (Parquet copy), median of {args.runs} runs:")
        for label, kwargs in cases.items():
            ms, page = timed(lambda kwargs=kwargs: read_page(result, **kwargs), args.runs)
            print(f"  {label:<46} {ms:8.1f} ms  ({len(page.rows)} rows)")

        print("\nsame queries straight over the CSV (the alternative to the Parquet copy):")
        csv_path = storage.path(result.file.name)
        names = {c["name"]: f"c{i}" for i, c in enumerate(result.columns)}
        params = {"p": csv_path, "cols": dict.fromkeys(names.values(), "VARCHAR")}
        source = "read_csv($p, header = true, auto_detect = false, quote = '\"', escape = '\"', columns = $cols)"
        sql = {
            "first page, unsorted": f"SELECT * FROM {source} LIMIT 50",
            "first page, sorted by impressions (integer)": f"SELECT * FROM {source} "
            f"ORDER BY TRY_CAST({names['impressions']} AS HUGEINT) NULLS LAST LIMIT 50",
            "last page, unsorted": f"SELECT * FROM {source} LIMIT 50 OFFSET {(last - 1) * 50}",
        }
        for label, query in sql.items():
            with duckdb.connect() as con:
                ms, _ = timed(lambda query=query, con=con: con.execute(query, params).fetchall(), args.runs)
            print(f"  {label:<46} {ms:8.1f} ms")

        ms, chart = timed(lambda: chart_data(result, "campaign", "impressions"), args.runs)
        print(f"\nchart_data top 10 of 2,000 campaigns: {ms:.1f} ms; by day (date): ", end="")
        ms, chart = timed(lambda: chart_data(result, "day", "spend"), args.runs)
        print(f"{ms:.1f} ms ({len(chart.labels)} points)")
        start = time.perf_counter()
        json_mb = sum(len(chunk) for chunk in iter_json(result)) / 1e6
        seconds = time.perf_counter() - start
        print(f"JSON export: {json_mb:.0f} MB in {seconds:.1f} s; final peak RSS {max_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
