"""Run every benchmark, one after the other, and collect their output into one Markdown file.

Run from the repository root:  .venv/bin/python bench/run_all.py [--quick] [--only polling,dispatch] [--output FILE]

Each benchmark runs in its own process (the database benchmarks create and drop their own database), so one
failing does not stop the others; the exit code says whether all of them finished. `--quick` runs smaller
sizes as a smoke check of a few minutes; docs/benchmarks.md holds the numbers of a full run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from common import machine  # noqa: E402


@dataclass(frozen=True)
class Benchmark:
    name: str
    script: str
    quick_args: tuple[str, ...]
    prints_markdown: bool  # the older scripts print plain text, kept in a code block


BENCHMARKS = (
    Benchmark("validation", "bench_validation.py", ("--runs", "20"), prints_markdown=False),
    Benchmark("results", "bench_results.py", ("--rows", "100000", "--runs", "3"), prints_markdown=False),
    Benchmark("executions_list", "bench_executions_list.py", ("--quick",), prints_markdown=True),
    Benchmark("polling", "bench_polling.py", ("--quick",), prints_markdown=True),
    Benchmark("dispatch", "bench_dispatch.py", ("--quick",), prints_markdown=True),
    Benchmark("brand_import", "bench_brand_import.py", ("--rows", "10000"), prints_markdown=True),
    Benchmark("recovery", "bench_recovery.py", ("--rounds", "1"), prints_markdown=True),
    Benchmark("reliability", "reliability.py", ("--schedules", "60", "--executions", "20", "--qclusters", "3"), True),
)


def run(benchmark: Benchmark, quick: bool) -> tuple[str, int, float]:
    """Run one benchmark, echoing its output as it comes; returns (output, exit code, seconds).

    The output ends with the load averages seen before and after: other work on the machine skews the numbers.
    """
    load_before = os.getloadavg()[0]
    command = [sys.executable, str(BENCH / benchmark.script), *(benchmark.quick_args if quick else ())]
    print(f"\n# {benchmark.name}: bench/{benchmark.script} {' '.join(command[2:])}", flush=True)
    start = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in process.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    code, seconds = process.wait(), time.monotonic() - start
    lines.append(f"\nload average (1 min): {load_before:.1f} before, {os.getloadavg()[0]:.1f} after\n")
    print(lines[-1], end="", flush=True)
    return "".join(lines), code, seconds


def section(benchmark: Benchmark, quick: bool, output: str, code: int, seconds: float) -> str:
    args = " ".join(benchmark.quick_args) if quick else ""
    status = "finished" if code == 0 else f"FAILED (exit code {code})"
    body = output.strip() if benchmark.prints_markdown and code == 0 else f"```\n{output.strip()}\n```"
    return (
        f"## {benchmark.name}\n\n`.venv/bin/python bench/{benchmark.script} {args}`".rstrip()
        + f" — {status} in {seconds:.0f} s\n\n{body}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke check of a few minutes")
    names = ", ".join(b.name for b in BENCHMARKS)
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {names}")
    parser.add_argument("--output", type=Path, help="Markdown file to write (default .local/bench/results-<time>.md)")
    args = parser.parse_args()
    chosen = [b for b in BENCHMARKS if not args.only or b.name in args.only.split(",")]
    stamp = datetime.now(UTC)
    output = args.output or ROOT / ".local" / "bench" / f"results-{stamp:%Y%m%d-%H%M%S}.md"

    sections, failed = [], []
    for benchmark in chosen:
        text, code, seconds = run(benchmark, args.quick)
        sections.append(section(benchmark, args.quick, text, code, seconds))
        if code:
            failed.append(benchmark.name)

    header = f"# RecomAMP benchmarks{' (quick)' if args.quick else ''}\n\n{stamp:%Y-%m-%d %H:%M} UTC, {machine()}\n"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(header + "\n" + "\n".join(sections))
    print(f"\nresults written to {output}")
    if failed:
        print(f"failed: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
