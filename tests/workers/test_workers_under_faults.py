"""Real processes under injected AMC faults, with a worker cluster SIGKILLed mid-way and restarted.

The web server (serving the sandbox), three qcluster processes, the dispatcher and the follower run against the
test database. The sandbox answers 20% of calls with 429, 10% with 503, 3% time out and 2% claim an expired
token, with 50 ms latency on every call. 429s are retried after Retry-After, a 401 refreshes the token once,
lost answers to a submission go through recovery (AMC is asked before anything is submitted again), and the
killed cluster's work is picked up by the others, so executions succeed in the end.

Every process runs as its own machine would: its own working directory and MEDIA_ROOT, sharing only the
database and an S3-compatible object store (moto's server on loopback) where results are kept.

One combination is not transient by design: the sandbox may answer the retry that follows a token refresh with
another 401 (2% x 2% of calls, about one execution in four runs of this test). AMC rejecting a token it has
just issued is an authentication failure (one refresh, one retry), so that execution fails with
AMCAuthError and its run fails without a retry. That is the only failure accepted.
"""

import pytest
from django.db import connection

from tests.workers.harness import FAULTS, ScenarioSize, Stack, StackConfig, collect_figures, run_scenario, runs_of

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stack(transactional_db, sandbox_dataset, tmp_path, settings, monkeypatch, s3_server, s3_results):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)  # this process only enqueues; the real clusters run the tasks
    config = StackConfig(
        database=connection.settings_dict["NAME"],
        data_path=sandbox_dataset,
        work_dir=tmp_path,
        faults=FAULTS,
        storage_env=s3_server.env(s3_results),
        separate_dirs=True,
    )
    settings.MEDIA_ROOT = config.media_root
    settings.SANDBOX_DATA_PATH = sandbox_dataset
    with Stack(config) as running:
        yield running


def test_every_slot_runs_once_and_every_execution_succeeds_under_faults_and_a_killed_worker(
    stack, s3_server, s3_results
):
    scenario, timings = run_scenario(stack, ScenarioSize(schedules=80, executions=30, qclusters=3))
    figures = collect_figures(scenario, stack, timings)
    print(f"\n{figures.table()}")
    logs = f"\n{figures.table()}\n{stack.log_tail()}"

    # The faults really happened, and the kill came while work was under way.
    answers = figures.fault_answers
    assert answers["429"] and answers["5xx"] and answers["401"] and answers["timeout"], logs
    assert timings.active_at_kill > 0
    assert all(stack.alive().values()), stack.alive()  # the restarted cluster included
    # Exactly once per slot: one real run for every due slot, none missed, no second execution for a run.
    assert figures.runs == figures.slots == len(scenario.slots)
    assert (figures.duplicate_runs, figures.missed_slots) == (0, 0), logs
    assert figures.executions == figures.slots + len(scenario.manual_pks)
    # Only one fault combination is not transient (see the module docstring); anything else must succeed.
    assert set(figures.failure_kinds) <= {"AMCAuthError"}, logs
    assert figures.success_rate >= 0.97, logs
    assert not runs_of(scenario).exclude(status="succeeded").exclude(execution__error_kind="AMCAuthError").exists()
    # Nothing reached AMC twice, and every stored result is what the sandbox computed for that window.
    assert figures.amc_executions == figures.with_amc_id and figures.submitted_twice == 0, logs
    assert figures.result_mismatches == [], logs
    # One e-mail per run that asked for one; the token survived every refresh.
    assert figures.mails_expected > 0 and figures.mails_missing == [], logs
    assert figures.mails_duplicated == 0 and figures.mails_sent == figures.mails_expected, logs
    assert figures.connection_problems == [], logs
    # Results went to the shared bucket only: no machine kept one on its own disk (the web machine's media holds
    # only the sandbox's own output files, which stand in for AMC's bucket).
    assert len([key for key in s3_server.keys(s3_results) if key.endswith(".csv")]) >= figures.succeeded
    assert not list((stack.config.work_dir / "machines").glob("*/media/results/**/*.csv"))
