"""The dispatcher and the follower carry on after PostgreSQL terminates their sessions.

`pg_terminate_backend` ends every session our child processes hold on the test database (dispatcher, follower,
cluster, web server) twice: while a first batch is in flight, and again once a second batch, created after the
first blow, has been claimed. The processes are never restarted: Django's connection health checks and the
commands' `close_old_connections()` must replace the dead connections on their own.
"""

import pytest
from django.db import connection

from executions.models import Execution
from tests.workers.harness import (
    APP_PREFIX,
    ScenarioSize,
    Stack,
    StackConfig,
    all_done,
    create_scenario,
    executions_of,
    runs_of,
    terminate_backends,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
BATCH = ScenarioSize(schedules=6, executions=4)


@pytest.fixture
def stack(transactional_db, sandbox_dataset, tmp_path, settings, monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)  # this process only enqueues; the real cluster runs the tasks
    config = StackConfig(database=connection.settings_dict["NAME"], data_path=sandbox_dataset, work_dir=tmp_path)
    settings.MEDIA_ROOT = config.media_root
    with Stack(config) as running:
        yield running


def both_connected() -> bool:
    """The dispatcher and the follower each hold a session on the test database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = current_database()")
        names = {row[0].removeprefix(APP_PREFIX) for row in cursor.fetchall()}
    return {"dispatcher", "follower"} <= names


def claimed_in(log: str) -> int:
    return sum(int(part.split("=")[1]) for part in log.split() if part.startswith("claimed="))


def test_dispatcher_and_follower_carry_on_after_their_database_sessions_are_terminated(stack):
    from django_q.models import Schedule as Trigger

    Trigger.objects.all().delete()  # no every-minute cluster triggers: only the two processes under test dispatch
    first = create_scenario(BATCH, tag="dbf1")
    stack.start_web()
    stack.start_workers(qclusters=1)
    stack.wait_until(
        lambda: executions_of(first).exclude(amc_execution_id="").count() >= 4,
        timeout=60,
        what="the first batch submitted to AMC",
    )
    stack.wait_until(both_connected, timeout=10, what="both processes connected")
    first_blow = terminate_backends()
    offsets = {name: len(stack.log_text(name)) for name in ("dispatcher", "follower")}

    def log_since(name: str) -> str:
        return stack.log_text(name)[offsets[name] :]

    second = create_scenario(BATCH, tag="dbf2")  # due now: only a live dispatcher can claim it
    stack.wait_until(
        lambda: claimed_in(log_since("dispatcher")) == len(second.slots),
        timeout=30,
        what="the dispatcher reporting the second batch claimed and submitted",
    )
    stack.wait_until(both_connected, timeout=10, what="both processes connected again")
    second_blow = terminate_backends()
    stack.wait_until(lambda: all_done(first) and all_done(second), timeout=120, what="both batches done")

    logs = stack.log_tail()
    assert {"dispatcher", "follower"} <= set(first_blow), first_blow
    assert {"dispatcher", "follower"} <= set(second_blow), second_blow
    assert all(stack.alive().values()), f"{stack.alive()}\n{logs}"
    for scenario in (first, second):
        runs = runs_of(scenario)
        assert runs.count() == len(scenario.slots), logs  # one run per slot, none lost, none doubled
        assert set(runs.values_list("status", flat=True)) == {"succeeded"}, logs
        executions = executions_of(scenario)
        assert executions.count() == len(scenario.slots) + len(scenario.manual_pks)
        assert set(executions.values_list("status", flat=True)) == {Execution.Status.SUCCEEDED}, logs
    # No cluster trigger exists, so the dispatcher process claimed the second batch after losing its session,
    # and the follower process polled it to the end.
    assert "polled=" in log_since("follower"), logs
    stack.wait_until(both_connected, timeout=10, what="both processes connected after the second blow")
