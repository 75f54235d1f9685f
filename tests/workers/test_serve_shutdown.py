"""`manage.py serve` takes its web server and qcluster down with it, whatever signal ends it (make run)."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from .harness import database_env, free_port

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdecimal():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            living.add(pid)
    return living


def wait_for(condition, seconds: float):
    deadline = time.monotonic() + seconds  # a generous bound against hanging, not a speed assertion
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_killing_serve_by_pid_ends_its_workers(signum, tmp_path):
    port = free_port()
    env = {**os.environ, **database_env(connection.settings_dict["NAME"]), "MEDIA_ROOT": str(tmp_path)}
    serve = subprocess.Popen([sys.executable, "manage.py", "serve", "--port", str(port)], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    family: set[int] = set()
    try:

        def answers():
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=2).status == 200
            except OSError:
                return False

        assert wait_for(answers, 90), "serve did not come up"
        assert wait_for(lambda: len(descendants(serve.pid)) >= 3, 30)  # runserver, qcluster and its processes
        family = descendants(serve.pid)
        os.kill(serve.pid, signum)
        serve.wait(timeout=60)
        assert wait_for(lambda: not alive(family), 60), f"left running: {alive(family)}"
    finally:
        for pid in alive(family | descendants(serve.pid) | {serve.pid}):
            os.kill(pid, signal.SIGKILL)
