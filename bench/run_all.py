"""Run every benchmark module and report each measure next to its ceiling, measured in the same run.

Run from the repository root:
    .venv/bin/python bench/run_all.py [--quick] [--only dispatch,polling] [--json FILE] [--write-docs]

Each module runs in its own process (`bench/<module>.py [--quick] --json FILE`, see "Measures" in
bench/README.md), so one failing does not stop the others; the exit code says whether all of them finished.
`--json FILE` writes every measure as a list of {"measure", "product", "ceiling", "ratio", "unit", "size"}.
`--write-docs` keeps the last result of each module that ran in docs/bench/<module>.json, redraws the charts
(bench/charts.py) and rewrites the table of docs/benchmarks.md between its run_all markers from every module's
last result, so running a subset updates only those rows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DOCS = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "docs" / "bench"
sys.path.insert(0, str(BENCH))

from charts import draw_all, slug  # noqa: E402
from common import Measure, fmt, machine, read_measures  # noqa: E402

# In the order they run; each is bench/<name>.py following the convention of bench/README.md.
MODULES = (
    "bench_validation",
    "bench_dispatch",
    "bench_submission",
    "bench_polling",
    "bench_brand_import",
    "bench_runsets",
    "bench_executions_list",
    "bench_results",
    "bench_sandbox",
    "bench_editor",
    "bench_compare",
)
START, END = "<!-- run_all:start -->", "<!-- run_all:end -->"


def run_module(name: str, quick: bool) -> dict:
    """Run one module in its own process, echoing its output; returns its result record."""
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        out = Path(folder) / "measures.json"
        command = [sys.executable, str(BENCH / f"{name}.py"), *(["--quick"] if quick else []), "--json", str(out)]
        print(f"\n# {name}: {' '.join(command[1:-2])}".replace(str(ROOT) + "/", ""), flush=True)
        start = time.monotonic()
        code = subprocess.call(command, cwd=ROOT)
        measures = read_measures(out) if out.exists() else []
    seconds = time.monotonic() - start
    load = (load_before, os.getloadavg()[0])
    print(f"{name}: exit {code} in {seconds:.0f} s, load average (1 min) {load[0]:.1f} → {load[1]:.1f}", flush=True)
    return {
        "module": name, "code": code, "quick": quick, "seconds": round(seconds, 1),
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "machine": machine(), "load": [round(x, 1) for x in load],
        "measures": [m.as_dict() for m in measures],
    }  # fmt: skip


def table(records: list[dict]) -> str:
    """The Markdown table of every module's last result, each measure linking to its chart."""
    lines = []
    for record in records:
        status = "" if record["code"] == 0 else f", **exit code {record['code']}**"
        lines += [
            f"**{record['module']}** — {record['date']}{' (--quick)' if record['quick'] else ''}, {record['machine']}, "
            f"load average {record['load'][0]} → {record['load'][1]}, {record['seconds']:.0f} s{status}",
            "",
            "| measure | size | product | ceiling | unit | ratio | chart |",
            "|---|---|---|---|---|---|---|",
        ]
        shown: dict[str, None] = {}
        for item in record["measures"]:
            m = Measure(**item)
            chart = "" if m.measure in shown else f"[curve](bench/{slug(m.measure)}.svg)"
            shown[m.measure] = None
            cells = (m.measure, f"{m.size:,}", fmt(m.product), fmt(m.ceiling), m.unit, f"{m.ratio:.2f}×", chart)
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        if shown:  # the curves beside the table: product (red) and ceiling (blue, dashed) against size
            lines += [" ".join(f"![{name}](bench/{slug(name)}.svg)" for name in shown), ""]
    return "\n".join(lines)


def write_docs(records: list[dict]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    for record in records:
        (RESULTS / f"{record['module']}.json").write_text(json.dumps(record, indent=1) + "\n")
    known = {path.stem: json.loads(path.read_text()) for path in RESULTS.glob("*.json")}
    ordered = [known[name] for name in MODULES if name in known]
    draw_all([Measure(**item) for record in ordered for item in record["measures"]], RESULTS)
    text = DOCS.read_text()
    if START not in text or END not in text:
        text = text.rstrip() + f"\n\n## Measures and ceilings (bench/run_all.py)\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    body = (
        "Ratio = how many times the product is off its ceiling (≥ 1 is worse; throughputs inverted so it reads the "
        "same way). Each chart plots product and ceiling against size on log axes.\n\n" + table(ordered)
    )
    DOCS.write_text(f"{head}{START}\n{body}{END}{tail}")
    print(f"\n{DOCS.relative_to(ROOT)} and {RESULTS.relative_to(ROOT)}/ updated")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the modules' quick sizes: under 5 minutes in all")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(MODULES)}")
    parser.add_argument("--json", type=Path, help="write every measure to this file as a JSON list")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md and docs/bench/")
    parser.add_argument("--docs-only", action="store_true", help="run nothing; redraw docs from docs/bench/*.json")
    args = parser.parse_args()
    wanted = {name if name.startswith("bench_") else f"bench_{name}" for name in args.only.split(",") if name}
    chosen = [name for name in MODULES if not wanted or name in wanted]
    if args.docs_only:
        write_docs([])
        return

    records = [run_module(name, args.quick) for name in chosen if (BENCH / f"{name}.py").exists()]
    measures = [item for record in records for item in record["measures"]]
    print("\n" + table(records))
    if args.json:
        args.json.write_text(json.dumps(measures, indent=1) + "\n")
    if args.write_docs:
        write_docs(records)
    failed = [record["module"] for record in records if record["code"]]
    if failed:
        print(f"failed: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
