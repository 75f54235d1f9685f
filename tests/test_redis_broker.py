"""django-q2 with Redis as the broker (an option in production) against the machine's Redis, real processes."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection

from tests.workers.harness import database_env

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_available() -> bool:
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def env_for_test_database() -> dict:
    """Subprocesses must use the test database pytest-django created."""
    return {**os.environ, **database_env(connection.settings_dict["NAME"])}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not redis_available(), reason=f"no Redis at {REDIS_URL}")
def test_a_worker_takes_tasks_from_redis():
    from django_q.models import Task

    env = {**env_for_test_database(), "REDIS_URL": REDIS_URL, "Q_WORKERS": "1"}
    enqueue = (
        "from django_q.tasks import async_task; print(async_task('math.floor', 2.5, task_name='redis-broker-check'))"
    )
    subprocess.run([sys.executable, "manage.py", "shell", "-c", enqueue], cwd=ROOT, env=env, check=True, timeout=60)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not Task.objects.filter(name="redis-broker-check").exists():
            time.sleep(0.5)
        task = Task.objects.get(name="redis-broker-check")
        assert task.success and task.result == 2
    finally:
        os.killpg(worker.pid, signal.SIGINT)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=15)
