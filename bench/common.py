"""Shared plumbing for the benchmarks: a throw-away database, a web server subprocess, timing and tables.

Every benchmark gets its own database on the same PostgreSQL server the project uses (the embedded one, or the
server of DATABASE_URL), migrated from scratch and dropped afterwards, so benchmarks never touch real data and
two benchmarks never see each other's rows. The environment is set before `django.setup()`, and a web server
started with `web_server()` inherits it, so the benchmark process and the server share one database.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def production_env() -> dict[str, str]:
    """Settings as deployed (DEBUG off: no query log on every cursor) with the sandbox kept on, over plain HTTP on
    127.0.0.1 and throwaway secrets: for benchmarks of throughput, where the development settings' cost shows."""
    from cryptography.fernet import Fernet

    return {
        "DEBUG": "false", "AMC_SANDBOX_ENABLED": "true", "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECRET_KEY": Fernet.generate_key().decode() * 2,
        "FERNET_KEYS": Fernet.generate_key().decode(),
    }  # fmt: skip


# --- Database -----------------------------------------------------------------------------------------------------


@contextmanager
def fresh_database(label: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Set `env`, point Django at a new database `bench_<label>_<pid>`, migrate it, and drop it on the way out.

    Call this before importing any model: it runs `django.setup()`.
    """
    import django
    from django.core.management import call_command

    name = f"bench_{label}_{os.getpid()}"
    os.environ.update(env or {})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recomamp.settings")
    original_url = os.environ.get("DATABASE_URL", "")
    if original_url:
        parts = urlsplit(original_url)
        maintenance_db = parts.path.lstrip("/")
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    else:
        maintenance_db = "postgres"
        os.environ["EMBEDDED_DB_NAME"] = name  # settings create it on the embedded server
    django.setup()
    logging.disable(logging.INFO)  # the services log every claim and submission; keep the tables readable
    if original_url:
        _maintenance(maintenance_db, f'CREATE DATABASE "{name}"')
    try:
        call_command("migrate", verbosity=0, interactive=False)
        call_command("createcachetable", verbosity=0)
        yield name
    finally:
        from django.db import connections

        connections.close_all()
        _maintenance(maintenance_db, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _maintenance(database: str, statement: str) -> None:
    """Run CREATE/DROP DATABASE from a connection to another database on the same server."""
    import psycopg
    from django.db import connection

    keep = ("host", "port", "user", "password", "sslmode")
    params = {key: value for key, value in connection.get_connection_params().items() if key in keep}
    with psycopg.connect(**params, dbname=database, autocommit=True) as admin:
        admin.execute(statement)


def server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


# --- Web server ---------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class WebServer:
    url: str
    process: subprocess.Popen

    def cpu_seconds(self) -> float:
        """User + system CPU time the server's processes (gunicorn's arbiter and its workers) have used so far."""
        return sum(_process_cpu_seconds(pid) for pid in [self.process.pid, *_children(self.process.pid)])


def _process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of one live process (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:  # a worker that exited meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> float:
    """CPU time every process on the machine has used so far (busy, not idle or waiting on I/O; Linux /proc/stat):
    with the server's and our own, what is left is PostgreSQL's."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


# AMC serves many requests at once, and the sandbox's simulated latency sleeps inside a request: threads, not
# gunicorn's one-request-at-a-time sync workers.
SERVER_WORKERS, SERVER_THREADS = 2, 16


@contextmanager
def web_server(port: int, env: dict[str, str] | None = None, ready_within: float = 90.0) -> Iterator[WebServer]:
    """gunicorn serving `recomamp.wsgi` on 127.0.0.1:`port` (how production serves the app and its sandbox,
    docs/operations.md), with this process's environment plus `env` and persistent database connections.

    `manage.py runserver`, used before, opened a PostgreSQL connection per request (11-19 ms) and its small
    unbuffered writes met delayed ACKs, which bounded every benchmark that goes through the sandbox.
    """
    base_url = f"http://127.0.0.1:{port}"
    server_env = {**os.environ, "CONN_MAX_AGE": "60", **(env or {})}
    log = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)
    command = [sys.executable, "-m", "gunicorn", "recomamp.wsgi", "--bind", f"127.0.0.1:{port}",
               "--workers", str(SERVER_WORKERS), "--threads", str(SERVER_THREADS), "--timeout", "300",
               "--preload"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=server_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(base_url, process, ready_within, log.name)
        yield WebServer(base_url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        os.unlink(log.name)


def _wait_until_up(base_url: str, process: subprocess.Popen, within: float, log_path: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the web server exited early:\n{Path(log_path).read_text()[-3000:]}")
        try:
            httpx.get(f"{base_url}/health/", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"the web server did not answer within {within:.0f}s:\n{Path(log_path).read_text()[-3000:]}")


# --- Timing and reporting -----------------------------------------------------------------------------------------


def median_ms(function: Callable[[], object], runs: int, warmup: int = 1) -> tuple[float, object]:
    """Median wall time of `runs` calls in milliseconds (after `warmup` untimed calls), and the last value."""
    value = None
    for _ in range(warmup):
        value = function()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        value = function()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), value


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """`with stopwatch() as elapsed: ...`; `elapsed()` gives seconds so far, and the total after the block."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


class Table:
    """A Markdown table printed as it grows, so a long benchmark shows (and keeps) every row it finished."""

    def __init__(self, *headers: str) -> None:
        self.width = len(headers)
        print("\n| " + " | ".join(headers) + " |\n|" + "|".join("---" for _ in headers) + "|", flush=True)

    def row(self, *cells: object) -> None:
        assert len(cells) == self.width, f"{len(cells)} cells for {self.width} columns"
        print("| " + " | ".join(str(cell) for cell in cells) + " |", flush=True)


def machine() -> str:
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {memory_gib:.0f} GiB RAM, Python {platform.python_version()}"


def heading(title: str) -> None:
    print(f"\n## {title}", flush=True)


# --- Measures: product vs ceiling ----------------------------------------------------------------------------------
#
# Convention for every bench module (run_all.py relies on it):
#   SIZES = {"quick": [s1, s2, s3], "full": [s1, s2, s3]}   three sizes a factor 10 apart (quick may be smaller)
#   def run(sizes: list[int] | None = None, quick: bool = False) -> list[Measure]
# `run` measures the product and its ceiling side by side in the same process and the same minute, at each size
# (default: SIZES["quick" if quick else "full"]), and returns one Measure per (measure, size). It may print what
# it likes (tables, profiles, what bounds a ratio); run_all.py collects the returned measures. End the module with
#   if __name__ == "__main__":
#       cli(run, SIZES)
# run_all.py runs each module in its own process as `python bench/<module>.py [--quick] --json FILE` and reads
# the measures back from FILE (a module that creates its own database must do so inside run()).


@dataclass(frozen=True)
class Measure:
    """One measure at one size: the product's number and the ceiling's number measured in the same run.

    `ratio` always reads "how many times worse than the ceiling": ratio >= 1 means the product is slower than
    (or uses more than) the ceiling, 1.0 means it is at the ceiling. For times (and any cost where less is
    better, such as MB or queries) ratio = product / ceiling; for throughputs (unit ending in "/s", more is
    better) it is inverted, ratio = ceiling / product, so the ratio reads the same way.
    """

    measure: str  # e.g. "claim due slots, 4 processes"
    product: float
    ceiling: float
    ratio: float
    unit: str  # "ms", "s", "slots/s", "MB", ...
    size: int  # the size the measure ran at (schedules, rows, executions...)

    @classmethod
    def of(cls, measure: str, product: float, ceiling: float, unit: str, size: int) -> Measure:
        higher_is_better = unit.endswith("/s")
        numerator, denominator = (ceiling, product) if higher_is_better else (product, ceiling)
        ratio = numerator / denominator if denominator else float("inf")
        return cls(measure, float(product), float(ceiling), round(ratio, 3), unit, int(size))

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"{self.measure} @ {self.size:,}: {fmt(self.product)} {self.unit} vs ceiling "
            f"{fmt(self.ceiling)} {self.unit} -> {self.ratio:.2f}x"
        )


def fmt(value: float) -> str:
    """A number with 3 significant digits and thousands separators, for tables."""
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def sizes_for(module_sizes: dict[str, list[int]], sizes: list[int] | None, quick: bool) -> list[int]:
    """The sizes a module's run() should use: the ones given, else its quick or full SIZES."""
    return list(sizes) if sizes else list(module_sizes["quick" if quick else "full"])


def print_measures(measures: list[Measure]) -> None:
    """Print measures as a Markdown table (for a module run alone)."""
    table = Table("measure", "size", "product", "ceiling", "unit", "ratio")
    for m in measures:
        table.row(m.measure, f"{m.size:,}", fmt(m.product), fmt(m.ceiling), m.unit, f"{m.ratio:.2f}x")


def write_measures(path: Path, measures: list[Measure]) -> None:
    path.write_text(json.dumps([m.as_dict() for m in measures], indent=1) + "\n")


def read_measures(path: Path) -> list[Measure]:
    return [Measure(**item) for item in json.loads(path.read_text())]


def cli(run: Callable[..., list[Measure]], module_sizes: dict[str, list[int]], description: str = "") -> None:
    """Command line shared by the bench modules: --quick, --sizes 1000,10000, --json FILE."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=f"quick sizes {module_sizes['quick']}")
    parser.add_argument("--sizes", default="", help=f"comma-separated sizes (full: {module_sizes['full']})")
    parser.add_argument("--json", type=Path, help="write the measures to this file as a JSON list")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size] or None
    measures = run(sizes=sizes, quick=args.quick)
    print_measures(measures)
    if args.json:
        write_measures(args.json, measures)
