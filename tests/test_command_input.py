"""Commands answer bad arguments and bad files with one clear line and a non-zero exit, never a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.workers.harness import database_env

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def owner_and_instance(user, make_instance):
    return user, make_instance(user)


def run_query(user, instance, *args):
    call_command("run_query", "--user", user.email, "--instance", instance.instance_id, *args)


def test_run_query_refuses_a_file_that_is_not_utf8(owner_and_instance, tmp_path):
    path = tmp_path / "q.sql"
    path.write_bytes(b"SELECT '\xff\xfe' AS x")
    with pytest.raises(CommandError, match="not UTF-8 text"):
        run_query(*owner_and_instance, "--sql-file", str(path), "--start", "2025-01-01", "--end", "2025-01-31")


@pytest.mark.parametrize("start,end", [("2025-01-01", "9999-12-31"), ("0001-01-01", "2025-01-31")])
def test_run_query_refuses_dates_outside_the_supported_range(owner_and_instance, tmp_path, start, end):
    path = tmp_path / "q.sql"
    path.write_text("SELECT 1 AS x")
    with pytest.raises(CommandError, match="Choose a date between 2000-01-01 and 2100-12-31"):
        run_query(*owner_and_instance, "--sql-file", str(path), "--start", start, "--end", end)


def test_schedule_preview_refuses_the_year_9999():
    with pytest.raises(CommandError, match="Choose a date between"):
        call_command("schedule_preview", "--cron", "0 6 * * *", "--tz", "UTC", "--from", "9999-12-31T23:00")


@pytest.mark.parametrize(
    "args",
    [["schedule_preview", "--cron", "0 6 * * *", "--tz", "UTC", "--from", "9999-12-31T23:00"],
     ["import_amc_schemas", str(ROOT / "manage.py")]],
)  # fmt: skip
def test_from_the_shell_the_answer_is_one_line_and_a_non_zero_exit(args):
    env = {**os.environ, **database_env(connection.settings_dict["NAME"])}
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
