"""Reliability under faults at a larger size: the worker scenario of tests/workers, outside pytest.

Starts the web server (serving the AMC sandbox), several qcluster processes, the dispatcher and the follower
against a fresh database, with the same injected faults (latency, 429, 5xx, timeouts, expired tokens) and the
same SIGKILL of one cluster mid-run, waits until every run and execution is final, and prints the figures as a
markdown table. The database and the temporary files are removed at the end. Results: docs/reliability.md.

    .venv/bin/python bench/reliability.py [--schedules 300] [--executions 100] [--qclusters 4]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import fresh_database, heading, machine  # noqa: E402
from tests.workers.harness import FAULTS, ScenarioSize, Stack, StackConfig, collect_figures, run_scenario  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=300)
    parser.add_argument("--executions", type=int, default=100)
    parser.add_argument("--qclusters", type=int, default=4)
    parser.add_argument("--scale", type=float, default=0.03, help="size of the sandbox dataset")
    parser.add_argument("--deadline", type=float, default=900, help="seconds before giving up")
    args = parser.parse_args()
    size = ScenarioSize(
        schedules=args.schedules, executions=args.executions, qclusters=args.qclusters, deadline_seconds=args.deadline
    )

    with tempfile.TemporaryDirectory(prefix="bench-reliability-") as folder:
        work = Path(folder)
        data_path = work / "amc.duckdb"
        config_env = {"MEDIA_ROOT": str(work / "media"), "SANDBOX_DATA_PATH": str(data_path)}
        with fresh_database("reliability", env=config_env) as database:
            from recomamp.sandbox.engine import generate

            generate(data_path, scale=args.scale, seed=11, end_date=date(2025, 12, 31))
            config = StackConfig(database=database, data_path=data_path, work_dir=work, faults=FAULTS)
            with Stack(config) as stack:
                scenario, timings = run_scenario(stack, size)
                figures = collect_figures(scenario, stack, timings)

    heading(f"Reliability: {args.schedules} schedules, {args.executions} manual executions, {args.qclusters} qclusters")
    print(f"{machine()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; faults {FAULTS}\n")
    print(figures.table())
    for label, items in (("Failures", figures.failures), ("Result mismatches", figures.result_mismatches),
                         ("Missing e-mails", figures.mails_missing),
                         ("Connection problems", figures.connection_problems)):  # fmt: skip
        if items:
            print(f"\n{label}:\n" + "\n".join(f"- {item}" for item in items))
    clean = (
        figures.duplicate_runs == figures.missed_slots == figures.submitted_twice == figures.mails_duplicated == 0
        and not (figures.failures or figures.result_mismatches or figures.mails_missing or figures.connection_problems)
    )
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
