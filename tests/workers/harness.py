"""Real processes for the worker tests and the reliability benchmark, and the scenario they share.

`Stack` runs the web server (which also serves the AMC sandbox under /sandbox), django-q2 clusters, the
dispatcher and the follower as separate process groups against one PostgreSQL database. Each process writes to
its own log file and connects with its own `application_name` (PGAPPNAME), so a test can find and terminate its
database sessions. `stop_all` kills every group the stack started, also when a test fails.

Children start through this module (`python -m tests.workers.harness <manage.py arguments>`). The scenario
compresses AMC's time: executions take 1-2 s and a request times out after 2 s. The follower's leases keep their
defaults (heartbeats renew them while a step runs). Everything else is the product as shipped.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
APP_PREFIX = "recomamp-worker-test-"
# The follower's leases are renewed by heartbeats (executions/leases.py), so the defaults (30 s, beat every 10 s)
# serve the scenario as shipped; nothing is shortened any more.
COMPRESSED_LEASES: dict = {}


# --- Processes ----------------------------------------------------------------------------------------------------


def database_env(database: str) -> dict[str, str]:
    """Point a child at `database` on the server this process uses (DATABASE_URL's, or the embedded one)."""
    url = os.environ.get("DATABASE_URL", "")
    if url:
        return {"DATABASE_URL": urlunsplit(urlsplit(url)._replace(path=f"/{database}"))}
    return {"EMBEDDED_DB_NAME": database}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class StackConfig:
    database: str
    data_path: Path  # the sandbox's DuckDB dataset
    work_dir: Path  # logs, media (results) and mail go under it
    faults: dict = field(default_factory=dict)  # SANDBOX_FAULTS
    sandbox_seconds: float = 1.0  # how long a sandbox execution stays PENDING, then RUNNING
    request_timeout: float = 2.0
    q_workers: int = 2
    leases: dict = field(default_factory=lambda: dict(COMPRESSED_LEASES))
    # Two-machine mode: each process runs in its own working directory with its own MEDIA_ROOT, sharing only the
    # database and the object store that `storage_env` names (tests.object_storage.S3Server.env).
    storage_env: dict = field(default_factory=dict)
    separate_dirs: bool = False

    @property
    def media_root(self) -> Path:
        return self.work_dir / "media"

    @property
    def mail_dir(self) -> Path:
        return self.work_dir / "mail"

    @property
    def log_dir(self) -> Path:
        return self.work_dir / "logs"


@dataclass
class Process:
    name: str
    args: tuple[str, ...]
    popen: subprocess.Popen
    log_path: Path

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None


class Stack:
    """The processes of one test or benchmark run. Use as a context manager: leaving it kills them all."""

    def __init__(self, config: StackConfig):
        self.config = config
        self.base_url = ""
        self.processes: dict[str, Process] = {}
        for folder in (config.media_root, config.mail_dir, config.log_dir):
            folder.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop_all()

    def env(self, name: str) -> dict[str, str]:
        sandbox = f"{self.base_url}/sandbox"
        config = self.config
        return {
            **os.environ,
            **database_env(config.database),
            "DJANGO_SETTINGS_MODULE": "recomamp.settings",
            "PYTHONUNBUFFERED": "1",
            "PGAPPNAME": APP_PREFIX + name,
            "SITE_URL": self.base_url,
            # one host per region, as AMC has: the sandbox refuses an EU or FE advertiser on the NA host
            "AMC_API_BASE_URL_NA": sandbox,
            "AMC_API_BASE_URL_EU": f"{sandbox}/eu",
            "AMC_API_BASE_URL_FE": f"{sandbox}/fe",
            "LWA_AUTHORIZE_URL": f"{sandbox}/ap/oa",
            "LWA_TOKEN_URL": f"{sandbox}/auth/o2/token",
            "AMC_REQUEST_TIMEOUT": str(config.request_timeout),
            "SANDBOX_PENDING_SECONDS": str(config.sandbox_seconds),
            "SANDBOX_RUNNING_SECONDS": str(config.sandbox_seconds),
            "SANDBOX_FAULTS": json.dumps(config.faults),
            "SANDBOX_DATA_PATH": str(config.data_path),
            "MEDIA_ROOT": str(self.process_dir(name) / "media" if config.separate_dirs else config.media_root),
            **config.storage_env,
            **(shared_secrets() if config.separate_dirs else {}),
            "EMAIL_URL": f"filemail:///{config.mail_dir}",  # four slashes for an absolute path
            "Q_WORKERS": str(config.q_workers),
            "EXECUTION_POLL_CONCURRENCY": "4",  # 2 cores; keeps connections well under max_connections
            **{name: str(seconds) for name, seconds in config.leases.items()},
        }

    def start(self, name: str, *args: str, extra_env: dict[str, str] | None = None) -> Process:
        """Start `manage.py <args>` in its own session (process group), output appended to <name>.log."""
        log_path = self.config.log_dir / f"{name}.log"
        cwd, env = ROOT, {**self.env(name), **(extra_env or {})}
        if self.config.separate_dirs:
            cwd, env["PYTHONPATH"] = self.process_dir(name), str(ROOT)
        with open(log_path, "ab") as log:
            popen = subprocess.Popen(
                [sys.executable, "-m", "tests.workers.harness", *args],
                cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        process = Process(name, args, popen, log_path)
        self.processes[name] = process
        return process

    def process_dir(self, name: str) -> Path:
        """The working directory of one process in two-machine mode (a restarted process keeps its own)."""
        folder = self.config.work_dir / "machines" / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def start_web(self, ready_within: float = 60) -> str:
        """runserver on a free port. No persistent connections: it starts a thread per request."""
        import httpx

        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        web = self.start("web", "runserver", f"127.0.0.1:{port}", "--noreload", extra_env={"CONN_MAX_AGE": "0"})

        def answers() -> bool:
            if not web.alive:
                raise RuntimeError(f"the web server exited:\n{self.log_tail(['web'])}")
            try:
                return httpx.get(f"{self.base_url}/health/", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        self.wait_until(answers, timeout=ready_within, what="the web server answering /health/")
        return self.base_url

    def start_workers(self, qclusters: int, *, interval: float = 2) -> None:
        for number in range(1, qclusters + 1):
            self.start(f"qcluster-{number}", "qcluster")
        self.start("dispatcher", "dispatch_schedules", "--interval", str(interval))
        self.start("follower", "follow_executions", "--interval", str(interval))

    def kill(self, name: str) -> list[str]:
        """SIGKILL the whole process group; returns the tasks it had started and not finished."""
        process = self.processes[name]
        os.killpg(process.popen.pid, signal.SIGKILL)
        process.popen.wait(timeout=30)
        return tasks_in_flight(process.log_path.read_text(errors="replace"))

    def restart(self, name: str) -> Process:
        old = self.processes[name]
        return self.start(name, *old.args)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.alive:
                try:
                    os.killpg(process.popen.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            process.popen.wait(timeout=30)
        self._wait_for_sessions_to_end()

    def _wait_for_sessions_to_end(self, within: float = 15) -> None:
        """The server ends a killed client's session a moment later; flushing or dropping the database waits."""
        from django.db import connection

        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name LIKE %s",
                    [APP_PREFIX + "%"],
                )
                if cursor.fetchone()[0] == 0:
                    return
            time.sleep(0.2)

    def alive(self) -> dict[str, bool]:
        return {name: process.alive for name, process in self.processes.items()}

    def log_text(self, name: str) -> str:
        return self.processes[name].log_path.read_text(errors="replace")

    def log_tail(self, names: list[str] | None = None, lines: int = 25) -> str:
        parts = []
        for name in names or list(self.processes):
            tail = self.log_text(name).splitlines()[-lines:]
            parts.append(f"--- {name} ({self.processes[name].log_path}) ---\n" + "\n".join(tail))
        return "\n".join(parts)

    def count_in_logs(self, text: str) -> int:
        return sum(self.log_text(name).count(text) for name in self.processes)

    def wait_until(self, condition: Callable[[], object], *, timeout: float, what: str, every: float = 0.5) -> float:
        """Poll `condition` until it is true; returns the seconds it took. On timeout, fails with the logs."""
        started = time.monotonic()
        while not condition():
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"{what}: not reached within {timeout:.0f} s\n{self.log_tail()}")
            time.sleep(every)
        return time.monotonic() - started


def shared_secrets() -> dict[str, str]:
    """The keys every machine of one deployment shares (set by the environment there, never by a local file)."""
    from django.conf import settings

    return {"SECRET_KEY": settings.SECRET_KEY, "FERNET_KEYS": ",".join(settings.FERNET_KEYS)}


def tasks_in_flight(log: str) -> list[str]:
    """django-q2 task names a cluster's log shows as started but neither processed nor failed."""
    started = Counter(re.findall(r" processing (\S+) '", log))
    finished = Counter(re.findall(r"(?:Processed|Failed) '[^']*' \((\S+)\)", log))
    return sorted((started - finished).elements())


def terminate_backends() -> list[str]:
    """pg_terminate_backend every session of our child processes on this database; returns their names."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT application_name, pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE %s",
            [APP_PREFIX + "%"],
        )
        return sorted(name.removeprefix(APP_PREFIX) for name, terminated in cursor.fetchall() if terminated)


def mail_subjects(mail_dir: Path) -> Counter:
    """Subjects of every message the file e-mail backend wrote (several processes may share one file)."""
    subjects: Counter = Counter()
    for path in mail_dir.glob("*"):
        subjects.update(re.findall(r"^Subject: (.*)$", path.read_text(errors="replace"), flags=re.MULTILINE))
    return subjects


# --- The scenario -------------------------------------------------------------------------------------------------

SQL = """SELECT campaign, COUNT(*) AS impressions, COUNT(DISTINCT user_id) AS reach
FROM dsp_impressions
GROUP BY campaign"""
FAULTS = {
    "latency_ms": 50,
    "throttle_rate": 0.2,
    "retry_after_seconds": 1,
    "server_error_rate": 0.1,
    "server_error_status": 503,
    "timeout_rate": 0.03,
    "timeout_seconds": 3,  # longer than the 2 s request timeout: the client gives up first
    "expired_token_rate": 0.02,
}
MONTHS = [(2025, month) for month in range(7, 13)]  # the sandbox dataset ends on 2025-12-31
TIMEZONES = ["UTC", "Europe/Riga", "America/New_York"]
SCHEDULES_PER_INSTANCE = 8  # under the 10 active executions per instance the dispatcher allows
EXECUTIONS_PER_INSTANCE = 10
FINAL_RUN_STATUSES = ("succeeded", "failed", "skipped", "cancelled")


@dataclass(frozen=True)
class ScenarioSize:
    schedules: int = 80
    executions: int = 30
    qclusters: int = 3
    kill_after_share_done: float = 0.3  # SIGKILL a cluster once this share of executions is final
    deadline_seconds: float = 330  # typically done in 130-200 s; each failed result fetch waits 90 s more


@dataclass
class Scenario:
    user_pk: int
    slots: dict[int, datetime]  # schedule pk -> the slot due when the workers start
    manual_pks: list[int]


def create_scenario(size: ScenarioSize, *, tag: str = "rel") -> Scenario:
    """A sandbox-connected user, one workflow, due schedules and manual executions, spread over instances."""
    from accounts.models import User
    from executions.services import WindowSpec, start_execution
    from home.demo import connect_to_sandbox, ensure_sandbox_instances
    from instances.models import AMCInstance
    from queries.models import Workflow
    from schedules.models import Schedule

    user = User.objects.create_user(email=f"{tag}@example.com", password="reliability-check-1")
    connect_to_sandbox(user)
    schedule_ids = _add_sandbox_instances(f"{tag}s", -(-size.schedules // SCHEDULES_PER_INSTANCE))
    manual_ids = _add_sandbox_instances(f"{tag}m", -(-size.executions // EXECUTIONS_PER_INSTANCE))
    ensure_sandbox_instances(user)
    instances = {i.instance_id: i for i in AMCInstance.objects.filter(owner=user).select_related("account")}
    workflow = Workflow.objects.create(owner=user, name="Reach by campaign", sql=SQL)

    slot = (datetime.now(UTC) - timedelta(minutes=1)).replace(second=0, microsecond=0)
    slots = {}
    for number in range(size.schedules):
        zone, (start, end) = TIMEZONES[number % 3], _month(number)
        notify = number % 3  # 0: on success and failure, 1: on failure only, 2: nobody to tell
        schedule = Schedule.objects.create(
            owner=user, workflow=workflow, instance=instances[schedule_ids[number // SCHEDULES_PER_INSTANCE]],
            name=f"{tag}-{number:03d}", kind=Schedule.Kind.DAILY, timezone=zone,
            time_of_day=slot.astimezone(ZoneInfo(zone)).time(), next_run_at=slot,
            window_rule={"kind": "fixed", "fixed_start": start.isoformat(), "fixed_end": end.isoformat()},
            retry_delay_minutes=0, notify_on_success=notify == 0, notify_on_failure=notify != 2,
            notification_emails=[f"analyst{number}@example.com"] if notify != 2 else [],
        )  # fmt: skip
        slots[schedule.pk] = slot
    manual = []
    for number in range(size.executions):
        zone, (start, end) = TIMEZONES[number % 3], _month(number)
        window = WindowSpec(
            "EXPLICIT",
            datetime.combine(start, datetime.min.time(), ZoneInfo(zone)),
            datetime.combine(end + timedelta(days=1), datetime.min.time(), ZoneInfo(zone)),
            zone,
        )
        instance = instances[manual_ids[number // EXECUTIONS_PER_INSTANCE]]
        manual.append(start_execution(owner=user, instance=instance, workflow=workflow, window=window).pk)
    return Scenario(user.pk, slots, manual)


def _add_sandbox_instances(prefix: str, count: int) -> list[str]:
    from recomamp.sandbox.models import SandboxAccount, SandboxInstance
    from recomamp.sandbox.seed import CATALOG, ensure_sandbox_catalog

    ensure_sandbox_catalog()
    account = SandboxAccount.objects.get(entity_id=CATALOG[0][0]["entity_id"])
    ids = [f"amc{prefix}{number:04d}" for number in range(count)]
    for instance_id in ids:
        SandboxInstance.objects.get_or_create(
            instance_id=instance_id, defaults={"name": f"Reliability {instance_id}", "account": account}
        )
    return ids


def _month(number: int) -> tuple[date, date]:
    year, month = MONTHS[number % len(MONTHS)]
    first = date(year, month, 1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def executions_of(scenario: Scenario):
    from executions.models import Execution

    return Execution.objects.filter(owner_id=scenario.user_pk)


def runs_of(scenario: Scenario):
    from schedules.models import ScheduleRun

    return ScheduleRun.objects.filter(schedule__owner_id=scenario.user_pk, is_test=False)


def all_done(scenario: Scenario) -> bool:
    """Every slot has a final run, no execution is active and no e-mail is owed."""
    from executions.models import Execution
    from schedules.notifications import unsent_notifications

    runs = runs_of(scenario)
    return (
        runs.filter(status__in=FINAL_RUN_STATUSES).count() >= len(scenario.slots)
        and not runs.exclude(status__in=FINAL_RUN_STATUSES).exists()
        and not executions_of(scenario).filter(status__in=Execution.ACTIVE_STATUSES).exists()
        and not unsent_notifications().filter(schedule__owner_id=scenario.user_pk).exists()
    )


@dataclass
class Timings:
    killed: str = ""  # the cluster that was SIGKILLed
    all_done: float = 0.0  # from starting the workers
    recovered_after_kill: float = 0.0  # until every execution active at the kill was final
    active_at_kill: int = 0
    tasks_in_flight_at_kill: list[str] = field(default_factory=list)


def run_scenario(stack: Stack, size: ScenarioSize) -> tuple[Scenario, Timings]:
    """Create the data, start everything, SIGKILL a busy cluster mid-way, restart it, wait until all is done."""
    from executions.models import Execution
    from recomamp.background import ensure_background_schedules

    ensure_background_schedules()  # the every-minute triggers, as after `migrate`
    scenario = create_scenario(size)
    stack.start_web()
    started = time.monotonic()
    stack.start_workers(size.qclusters)
    expected = len(scenario.slots) + len(scenario.manual_pks)
    executions = executions_of(scenario)
    stack.wait_until(
        lambda: executions.filter(status__in=Execution.FINAL_STATUSES).count() >= expected * size.kill_after_share_done,
        timeout=size.deadline_seconds / 2,
        what="a share of the executions final before the kill",
    )
    victim = _busy_cluster(stack, [f"qcluster-{number}" for number in range(1, size.qclusters + 1)])
    active = list(executions.filter(status__in=Execution.ACTIVE_STATUSES).values_list("pk", flat=True))
    timings = Timings(killed=victim, active_at_kill=len(active))
    timings.tasks_in_flight_at_kill = stack.kill(victim)
    killed = time.monotonic()
    stack.restart(victim)
    remaining = size.deadline_seconds - (killed - started)
    stack.wait_until(
        lambda: not executions.filter(pk__in=active, status__in=Execution.ACTIVE_STATUSES).exists(),
        timeout=remaining,
        what="every execution active at the kill final",
    )
    timings.recovered_after_kill = time.monotonic() - killed
    stack.wait_until(lambda: all_done(scenario), timeout=remaining, what="every run and execution final")
    timings.all_done = time.monotonic() - started
    return scenario, timings


def _busy_cluster(stack: Stack, names: list[str], within: float = 20.0) -> str:
    """The first cluster seen running a task, so that the kill interrupts work (the first one if all stay idle)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for name in names:
            if tasks_in_flight(stack.log_text(name)):
                return name
        time.sleep(0.05)
    return names[0]


# --- Measuring and checking ---------------------------------------------------------------------------------------


@dataclass
class Figures:
    slots: int
    runs: int
    duplicate_runs: int  # runs beyond one per (schedule, slot), and executions beyond one per run attempt
    missed_slots: int  # due slots without a run, or whose run was skipped
    runs_succeeded: int
    executions: int
    succeeded: int
    failures: list[str]
    failure_kinds: dict[str, int]
    amc_executions: int
    with_amc_id: int  # our executions that reached AMC
    submitted_twice: int  # AMC executions none of ours owns, plus AMC executions two of ours share
    result_mismatches: list[str]
    unknown_outcomes: int  # submissions whose answer was lost (5xx, timeout): left for recovery
    adopted: int  # of those, found on AMC and adopted instead of submitted again
    recovered_runs: int  # repaired by the dispatcher's recovery pass
    mails_expected: int
    mails_sent: int
    mails_duplicated: int
    mails_missing: list[str]
    fault_answers: dict[str, int]
    connection_problems: list[str]
    timings: Timings

    @property
    def success_rate(self) -> float:
        return self.succeeded / self.executions if self.executions else 0.0

    def rows(self) -> list[tuple[str, object]]:
        return [
            ("due slots", self.slots),
            ("real runs recorded", self.runs),
            ("duplicate runs or executions", self.duplicate_runs),
            ("missed slots", self.missed_slots),
            ("runs succeeded", self.runs_succeeded),
            ("executions (scheduled + manual)", self.executions),
            ("executions succeeded", f"{self.succeeded} ({self.success_rate:.1%})"),
            ("executions failed, by kind", ", ".join(f"{k} {n}" for k, n in self.failure_kinds.items()) or "0"),
            ("AMC executions created / ours on AMC", f"{self.amc_executions} / {self.with_amc_id}"),
            ("submitted to AMC twice", self.submitted_twice),
            ("stored results differing from the engine", len(self.result_mismatches)),
            ("injected faults answered (429 / 5xx / 401 / timeout)", self._faults()),
            ("submissions with a lost answer (recovered)", self.unknown_outcomes),
            ("of those adopted from AMC", self.adopted),
            ("runs repaired by the dispatcher", self.recovered_runs),
            ("executions active at the SIGKILL", self.timings.active_at_kill),
            ("tasks in flight in the killed cluster", ", ".join(self.timings.tasks_in_flight_at_kill) or "none"),
            ("e-mails expected / sent / duplicated", f"{self.mails_expected} / {self.mails_sent} / "
             f"{self.mails_duplicated}"),
            ("Amazon connection problems", len(self.connection_problems)),
            ("seconds until all active at the kill were final", f"{self.timings.recovered_after_kill:.1f}"),
            ("seconds until everything was done", f"{self.timings.all_done:.1f}"),
        ]  # fmt: skip

    def _faults(self) -> str:
        answers = self.fault_answers
        return " / ".join(str(answers.get(key, 0)) for key in ("429", "5xx", "401", "timeout"))

    def table(self) -> str:
        lines = ["| figure | value |", "|---|---|"]
        return "\n".join(lines + [f"| {name} | {value} |" for name, value in self.rows()])


def collect_figures(scenario: Scenario, stack: Stack, timings: Timings) -> Figures:
    from executions.models import Execution
    from recomamp.sandbox.models import SandboxExecution

    runs = runs_of(scenario)
    per_slot = Counter(runs.values_list("schedule_id", "scheduled_for"))
    ran_slots = set(runs.exclude(status="skipped").values_list("schedule_id", "scheduled_for"))
    attempts = sum(runs.values_list("attempts", flat=True))
    scheduled = executions_of(scenario).filter(trigger=Execution.Trigger.SCHEDULE).count()
    executions = executions_of(scenario)
    ours = list(executions.exclude(amc_execution_id="").values_list("amc_execution_id", flat=True))
    on_amc = {str(pk) for pk in SandboxExecution.objects.filter(dry_run=False).values_list("execution_id", flat=True)}
    unsuccessful = list(executions.exclude(status=Execution.Status.SUCCEEDED))
    mails = mail_subjects(stack.config.mail_dir)
    expected_mails = expected_subjects(scenario)
    return Figures(
        slots=len(scenario.slots),
        runs=runs.count(),
        duplicate_runs=sum(count - 1 for count in per_slot.values()) + max(0, scheduled - attempts),
        missed_slots=sum((pk, slot) not in ran_slots for pk, slot in scenario.slots.items()),
        runs_succeeded=runs.filter(status="succeeded").count(),
        executions=executions.count(),
        succeeded=executions.filter(status=Execution.Status.SUCCEEDED).count(),
        failures=[f"{e.execution_id} {e.trigger} {e.error_kind}: {e.error_message}" for e in unsuccessful],
        failure_kinds=dict(Counter(e.error_kind for e in unsuccessful)),
        amc_executions=len(on_amc),
        with_amc_id=len(ours),
        submitted_twice=len(on_amc - set(ours)) + len(ours) - len(set(ours)),
        result_mismatches=result_mismatches(scenario, stack.config),
        unknown_outcomes=stack.count_in_logs("submission outcome unknown"),
        adopted=stack.count_in_logs("recovery adopted"),
        recovered_runs=sum(int(n) for n in re.findall(r"recovered=(\d+)", stack.log_text("dispatcher"))),
        mails_expected=len(expected_mails),
        mails_sent=sum(mails.values()),
        mails_duplicated=sum(count - 1 for count in mails.values() if count > 1),
        mails_missing=sorted(expected_mails - set(mails)),
        fault_answers=fault_answers(stack.log_text("web")),
        connection_problems=connection_problems(scenario.user_pk),
        timings=timings,
    )


def expected_subjects(scenario: Scenario) -> set[str]:
    """The subject of every e-mail the runs' outcomes call for (see schedules.notifications.notify_run)."""
    subjects = set()
    for run in runs_of(scenario).select_related("schedule"):
        schedule = run.schedule
        if not schedule.notification_emails:
            continue
        if run.status == "succeeded" and schedule.notify_on_success:
            subjects.add(f"{schedule.name}: run for {run.scheduled_for:%Y-%m-%d %H:%M} UTC succeeded")
        if run.status in ("failed", "cancelled") and schedule.notify_on_failure:
            subjects.add(f"{schedule.name}: run for {run.scheduled_for:%Y-%m-%d %H:%M} UTC failed")
    return subjects


def fault_answers(web_log: str) -> dict[str, int]:
    """Sandbox API answers by kind, from runserver's request log; injected timeouts from the sandbox's own line
    (the client hangs up before the late 504, which runserver does not always report as a broken pipe)."""
    statuses = Counter(re.findall(r'"(?:GET|POST|PUT|DELETE) /sandbox/amc/\S* HTTP/1\.1" (\d{3})', web_log))
    return {
        "429": statuses["429"],
        "5xx": sum(count for status, count in statuses.items() if status.startswith("5")),
        "401": statuses["401"],
        "timeout": web_log.count("sandbox fault injected: timeout"),
    }


def result_mismatches(scenario: Scenario, config: StackConfig) -> list[str]:
    """Succeeded executions whose stored CSV differs from the engine's rows for the execution's own window, or
    whose AMC execution ran another window (a wrong adoption)."""
    from executions.models import Execution
    from recomamp.sandbox.models import SandboxExecution

    expected_by_window: dict[tuple, list] = {}
    problems = []
    succeeded = executions_of(scenario).filter(status=Execution.Status.SUCCEEDED).select_related("result")
    for execution in succeeded:
        window = (execution.time_window_start, execution.time_window_end, execution.time_window_timezone)
        if window not in expected_by_window:
            expected_by_window[window] = _engine_rows(*window, config.data_path)
        with execution.result.file.open("rb") as handle:  # the test's storage: the local disk or the bucket
            stored = _csv_rows(handle.read().decode())
        if stored != expected_by_window[window]:
            problems.append(f"{execution.execution_id}: stored {len(stored)} rows differ from the engine's")
        amc = SandboxExecution.objects.get(execution_id=execution.amc_execution_id)
        if (amc.time_window_start, amc.time_window_end) != window[:2]:
            problems.append(f"{execution.execution_id}: AMC execution {amc.execution_id} ran another window")
    return problems


def _engine_rows(start: datetime, end: datetime, zone_name: str, data_path: Path) -> list:
    """What the sandbox computes for this window (as recomamp.sandbox.engine_bridge.run calls the engine)."""
    from recomamp.sandbox.engine import run_query, to_csv

    zone = ZoneInfo(zone_name)
    result = run_query(
        SQL, db_path=data_path, declared_parameters=[], time_window_timezone=zone_name,
        time_window_start=start.astimezone(zone).replace(tzinfo=None),
        time_window_end=end.astimezone(zone).replace(tzinfo=None),
    )  # fmt: skip
    text = io.StringIO()
    to_csv(result, text)
    return _csv_rows(text.getvalue())


def _csv_rows(text: str) -> list:
    header, *rows = list(csv.reader(io.StringIO(text)))
    return [header, *sorted(rows)]


def connection_problems(user_pk: int) -> list[str]:
    """The user's Amazon connection must be ACTIVE, its tokens must decrypt and the sandbox must accept them."""
    from accounts.models import AmazonConnection
    from recomamp.sandbox.auth import hash_token
    from recomamp.sandbox.models import AccessToken, RefreshToken

    connection = AmazonConnection.objects.get(user_id=user_pk)
    if connection.status != AmazonConnection.Status.ACTIVE:
        return [f"status {connection.status}: {connection.last_error}"]
    try:
        access, refresh = connection.access_token, connection.refresh_token
    except Exception as exc:  # DecryptionError, or anything else that makes the tokens unusable
        return [f"tokens cannot be read: {exc}"]
    problems = []
    if not RefreshToken.objects.filter(token_hash=hash_token(refresh), revoked_at__isnull=True).exists():
        problems.append("the sandbox does not know the stored refresh token")
    if not AccessToken.objects.filter(token_hash=hash_token(access), expires_at__gt=datetime.now(UTC)).exists():
        problems.append("the stored access token is not live on the sandbox")
    return problems


# --- Child process entry point ------------------------------------------------------------------------------------


def main(argv: list[str]) -> None:
    """`manage.py <argv>` (kept as an entry point so every child is started the same way)."""
    sys.path.insert(0, str(ROOT))
    import manage

    sys.argv = ["manage.py", *argv]
    manage.main()


if __name__ == "__main__":
    main(sys.argv[1:])
