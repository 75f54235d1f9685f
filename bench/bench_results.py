"""Benchmark storing, paging and exporting an execution result at three sizes a factor 10 apart.

Run from the repository root:  .venv/bin/python bench/bench_results.py [--quick] [--sizes 10000,100000] [--files 3]

Each measure beside its ceiling, measured in the same run on the same files:
1. Ingest: `executions.results.ingest.fetch_files` (download and join, sample, one DuckDB COPY to Parquet that
   also counts, the type check) on AMC-like parts served by a local HTTP server, in a fresh process. Ceiling: the
   download alone (bytes to a file) plus DuckDB's own CSV→Parquet COPY of the joined file with the product's
   DuckDB settings (one thread, 8 MB buffer, 16,384-row groups, which bound its memory), also in a fresh process.
   Peak RSS is the process's over its baseline (after imports), against the same for the ceiling.
2. JSON export: `export.iter_json` consumed whole, against DuckDB's `COPY … TO … (FORMAT JSON)` of the same
   typed rows.
3. A results page: `reader.read_page` sorted by an integer column, against the same query in DuckDB alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recomamp.settings")

from common import Measure  # noqa: E402

SIZES = {"quick": [1_000, 10_000, 100_000], "full": [10_000, 100_000, 1_000_000]}
HEADER = "campaign,day,impressions,clicks,spend,reach,note\r\n"
COPY_OPTIONS = "header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', strict_mode = true"


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


def rss_mb() -> float:
    """The resident set now (/proc/self/statm), the baseline a peak is compared with."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def reset_peak_rss() -> None:
    """Start the peak (VmHWM) afresh from the current RSS, so import-time peaks do not count (Linux ≥ 4.0).

    getrusage's ru_maxrss would not do: it survives fork and exec, so a child reports its parent's peak."""
    Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


# --- ingest, each run in a fresh process (peak RSS is per process) ------------------------------------------------


def child(mode: str, urls: list[str], folder: str) -> None:
    """Run one ingest (`product`) or its ceiling (`ceiling`) and print {seconds, download, baseline_mb, peak_mb}."""
    import django

    django.setup()
    import duckdb
    import httpx

    from executions.results import duckdb_connect
    from executions.results.ingest import COPY_BUFFER_BYTES, COPY_ROW_GROUP, COPY_THREADS, download_joined, fetch_files

    work = Path(tempfile.mkdtemp(dir=folder))
    baseline = rss_mb()
    reset_peak_rss()
    start = time.perf_counter()
    download = 0.0
    if mode == "product":
        fetched = fetch_files(urls, work)
        assert fetched.row_count > 0
    else:
        joined = work / "joined.csv"
        with httpx.Client() as client, open(joined, "wb") as out:
            download_joined(client, urls, out)
        download = time.perf_counter() - start
        with duckdb_connect(threads=COPY_THREADS) as con:  # the product's settings (memory, threads, row groups)
            con.execute(
                f"COPY (SELECT * FROM read_csv('{joined}', {COPY_OPTIONS}, columns = $columns,"
                f" buffer_size = {COPY_BUFFER_BYTES}))"
                f" TO '{work / 'out.parquet'}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {COPY_ROW_GROUP})",
                {"columns": {f"c{i}": "VARCHAR" for i in range(HEADER.count(",") + 1)}},
            )
        del duckdb
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "download": download, "baseline_mb": baseline, "peak_mb": peak_rss_mb()}))


def in_child(mode: str, urls: list[str], folder: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--folder", folder, *urls],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(output.strip().splitlines()[-1])


def measure_ingest(urls: list[str], folder: str, size: int, runs: int) -> list[Measure]:
    product = [in_child("product", urls, folder) for _ in range(runs)]
    ceiling = [in_child("ceiling", urls, folder) for _ in range(runs)]
    seconds = statistics.median(r["seconds"] for r in product)
    ceiling_seconds = statistics.median(r["seconds"] for r in ceiling)
    download = statistics.median(r["download"] for r in ceiling)
    rss = max(r["peak_mb"] - r["baseline_mb"] for r in product)
    ceiling_rss = max(r["peak_mb"] - r["baseline_mb"] for r in ceiling)
    print(
        f"ingest {size:,} rows: {seconds:.2f} s (ceiling: download {download:.2f} s + DuckDB CSV→Parquet "
        f"{ceiling_seconds - download:.2f} s); peak RSS over baseline {rss:.0f} MB (ceiling's {ceiling_rss:.0f} MB)",
        flush=True,
    )
    return [
        Measure.of("ingest: download + store", seconds, ceiling_seconds, "s", size),
        Measure.of("ingest after the download vs DuckDB CSV→Parquet", seconds - download, ceiling_seconds - download,
                   "s", size),
        Measure.of("ingest peak RSS over baseline", rss, ceiling_rss, "MB", size),
    ]  # fmt: skip


# --- export and pages, in this process ----------------------------------------------------------------------------


def stored_result(urls: list[str], folder: str):
    from django.core.files import File

    from executions.models import ExecutionResult
    from executions.results import sidecar_name
    from executions.results.ingest import fetch_files

    fetched = fetch_files(urls, Path(tempfile.mkdtemp(dir=folder)))
    result = ExecutionResult(columns=fetched.columns, row_count=fetched.row_count)
    storage = result.file.storage
    with open(fetched.csv_path, "rb") as handle:
        result.file.name = storage.save("results/bench/result.csv", File(handle))
    with open(fetched.parquet_path, "rb") as handle:
        storage.save(sidecar_name(result.file.name), File(handle))
    return result


def timed(function, runs: int) -> tuple[float, object]:
    """Median seconds over `runs` calls after one untimed call, and the last value."""
    samples, value = [], function()
    for _ in range(runs):
        start = time.perf_counter()
        value = function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), value


def measure_export_and_page(result, folder: str, size: int, runs: int) -> list[Measure]:
    from executions.results import duckdb_connect, sidecar_name, storage_column
    from executions.results.export import iter_json
    from executions.results.reader import read_page, sql_value

    parquet = result.file.storage.path(sidecar_name(result.file.name))
    typed = ", ".join(
        f'{sql_value(i, c["type"])} AS "{c["name"]}"' for i, c in enumerate(result.columns)
    )  # fmt: skip
    target = Path(folder) / "ceiling.json"

    def ceiling_export():
        with duckdb_connect() as con:
            con.execute(f"COPY (SELECT {typed} FROM read_parquet('{parquet}')) TO '{target}' (FORMAT JSON, ARRAY true)")

    seconds, body_mb = timed(lambda: sum(len(chunk) for chunk in iter_json(result)) / 1e6, runs)
    ceiling, _ = timed(ceiling_export, runs)
    print(f"JSON export {size:,} rows: {seconds:.2f} s ({body_mb:.0f} MB); DuckDB COPY to JSON {ceiling:.2f} s")

    index = next(i for i, c in enumerate(result.columns) if c["name"] == "impressions")
    order = f"{sql_value(index, 'integer')} ASC NULLS LAST, file_row_number"
    names = ", ".join(storage_column(i) for i in range(len(result.columns)))

    def ceiling_page():
        with duckdb_connect() as con:
            sql = f"SELECT {names} FROM read_parquet('{parquet}', file_row_number = true) ORDER BY {order} LIMIT 50"
            return con.execute(sql).fetchall()

    page, _ = timed(lambda: read_page(result, page=1, sort="impressions"), runs)
    page_ceiling, _ = timed(ceiling_page, runs)
    print(f"results page sorted by impressions: {page * 1000:.1f} ms; DuckDB alone {page_ceiling * 1000:.1f} ms")
    return [
        Measure.of("JSON export", seconds, ceiling, "s", size),
        Measure.of("results page sorted by an integer column", page * 1000, page_ceiling * 1000, "ms", size),
    ]


def run(sizes: list[int] | None = None, quick: bool = False, files: int = 3, runs: int | None = None):
    import django

    django.setup()
    from django.test.utils import override_settings

    sizes = sorted(sizes or SIZES["quick" if quick else "full"])
    runs = runs or (1 if quick else 3)
    results = []
    for size in sizes:
        with (
            tempfile.TemporaryDirectory(prefix="bench-results-") as tmp,
            override_settings(MEDIA_ROOT=tmp + "/media"),
        ):
            served = Path(tmp) / "served"
            served.mkdir()
            parts = write_parts(served, size, files)
            server = serve(served)
            try:
                urls = [f"http://127.0.0.1:{server.server_address[1]}/{p.name}?X-Amz-Signature=x" for p in parts]
                print(f"\n{size:,} rows in {files} files, {sum(p.stat().st_size for p in parts) / 1e6:.1f} MB")
                results += measure_ingest(urls, tmp, size, runs)
                results += measure_export_and_page(stored_result(urls, tmp), tmp, size, runs)
            finally:
                server.shutdown()
    print("\n| measure | rows | product | ceiling | ratio |\n|---|---|---|---|---|")
    for m in results:
        print(f"| {m.measure} | {m.size:,} | {m.product} {m.unit} | {m.ceiling} {m.unit} | {m.ratio}× |")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help="comma-separated row counts (default 10k, 100k, 1M)")
    parser.add_argument("--rows", type=int, help="one size only (kept for run_all.py)")
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--runs", type=int)
    parser.add_argument("--quick", action="store_true", help="1k, 10k and 100k rows, one run each")
    parser.add_argument("--json", help="write the measures to this file")
    parser.add_argument("--child", choices=["product", "ceiling"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("urls", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.urls, args.folder)
        return
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [args.rows] if args.rows else None
    results = run(sizes, quick=args.quick, files=args.files, runs=args.runs)
    if args.json:
        Path(args.json).write_text(json.dumps([m.as_dict() for m in results], indent=1))


if __name__ == "__main__":
    main()
