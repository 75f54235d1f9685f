"""Browser tests: Playwright driving Debian's chromium against the live server, with real django-q2 workers.

Skipped, with the reason printed, when chromium or Playwright is missing (`.ci/run` installs chromium).
Screenshots of the main pages are kept in test-artifacts/screenshots/ for reviewers.
"""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection, connections

from tests.workers.harness import database_env

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config, items):
    reason = None
    if not CHROMIUM:
        reason = "chromium is not installed (apt-get install chromium); browser tests skipped"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            reason = "the playwright package is missing; browser tests skipped"
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _sync_background_tasks():
    """Override the suite-wide inline tasks: here real worker processes take them from the queue."""


def _env_for_workers(live_server_url: str, dataset: Path, media: Path) -> dict:
    env = {**os.environ, **database_env(connection.settings_dict["NAME"])}
    base = f"{live_server_url}/sandbox"
    env.update(
        SITE_URL=live_server_url, LWA_TOKEN_URL=f"{base}/auth/o2/token",
        # one host per region, as AMC has: the sandbox refuses an EU or FE advertiser on the NA host
        AMC_API_BASE_URL_NA=base, AMC_API_BASE_URL_EU=f"{base}/eu", AMC_API_BASE_URL_FE=f"{base}/fe",
        LWA_AUTHORIZE_URL=f"{base}/ap/oa", SANDBOX_DATA_PATH=str(dataset), MEDIA_ROOT=str(media),
        Q_WORKERS="2", SANDBOX_PENDING_SECONDS="1", SANDBOX_RUNNING_SECONDS="2",
    )  # fmt: skip
    return env


@pytest.fixture
def workers(amc_sandbox, live_server, settings, sandbox_dataset, tmp_path):
    """Real background processes: a qcluster, the schedule dispatcher and the execution follower."""
    settings.SANDBOX_PENDING_SECONDS = 1
    settings.SANDBOX_RUNNING_SECONDS = 2
    env = _env_for_workers(live_server.url, sandbox_dataset, settings.MEDIA_ROOT)
    logs = tmp_path / "worker-logs"
    logs.mkdir()
    commands = {
        "qcluster": ["qcluster"],
        "dispatcher": ["dispatch_schedules", "--interval", "2"],
        "follower": ["follow_executions", "--interval", "1"],
        "runset-dispatcher": ["dispatch_run_sets", "--interval", "2"],
    }
    processes = []
    for label, args in commands.items():
        log = open(logs / f"{label}.log", "w")  # noqa: SIM115 - closed with the process below
        process = subprocess.Popen(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        processes.append((process, log))
    yield logs
    for process, log in processes:
        try:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


@pytest.fixture
def page(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],  # fmt: skip
        )
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1366, "height": 900}, accept_downloads=True
        )
        context.set_default_timeout(15_000)
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.console_errors = errors
        yield tab
        context.close()
        browser.close()
        # The test's ORM calls ran beside Playwright's event loop, on a connection of their own that nothing else
        # closes: left open, it kept a session on the test database until the suite's teardown failed to drop it.
        connections.close_all()


def screenshot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
