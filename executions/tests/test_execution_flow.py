"""One execution path against the sandbox over real HTTP: submit, follow, fetch, fail, cancel, recover."""

from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from accounts.amazon import amc_client_for
from executions import following, services
from executions.models import Execution
from queries.models import Workflow, WorkflowSync
from recomamp.sandbox.engine import run_query
from recomamp.sandbox.models import SandboxExecution, SandboxWorkflow

pytestmark = pytest.mark.django_db(transaction=True)

WINDOW = services.WindowSpec("EXPLICIT", datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 12, 1, tzinfo=UTC), "UTC")
SQL = """SELECT campaign, COUNT(*) AS impressions, COUNT(DISTINCT user_id) AS reach
FROM dsp_impressions
GROUP BY campaign"""


def no_sleep_client(recorded=None):
    def factory(execution):
        return amc_client_for(execution.owner, execution.instance.region, sleep=(recorded or []).append)

    return factory


def drive(execution, *, client_factory=None, max_steps=20) -> Execution:
    """Advance an execution step by step, the way the workers would, until it is final."""
    for _ in range(max_steps):
        execution.refresh_from_db()
        if not execution.is_active:
            return execution
        Execution.objects.filter(pk=execution.pk, next_poll_at__isnull=False).update(next_poll_at=datetime.now(UTC))
        following.advance(execution.pk, client_factory=client_factory or no_sleep_client())
    raise AssertionError(f"execution did not finish: {execution.status}")


def test_ad_hoc_run_stores_the_same_rows_as_the_engine(connected_user, demo_instance, settings):
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, sql=SQL, window=WINDOW, submit=False
    )
    assert execution.status == Execution.Status.PENDING
    assert execution.request_body["timeWindowStart"] == "2025-11-01T00:00:00"  # no zone suffix
    done = drive(execution)
    assert done.status == Execution.Status.SUCCEEDED, done.error_message
    assert done.amc_execution_id and done.request_body["workflow"]["workflowId"] == done.execution_id
    expected = run_query(
        SQL, db_path=settings.SANDBOX_DATA_PATH, time_window_start=WINDOW.start.replace(tzinfo=None),
        time_window_end=WINDOW.end.replace(tzinfo=None),
    )  # fmt: skip
    assert done.result.row_count == len(expected.rows) > 0
    with done.result.file.open("rb") as handle:
        lines = handle.read().decode().strip().splitlines()
    assert lines[0].split(",") == ["campaign", "impressions", "reach"]
    stored = {row.split(",")[0]: int(row.split(",")[1]) for row in lines[1:]}
    assert stored == {campaign: impressions for campaign, impressions, _ in expected.rows}


def test_compile_error_keeps_line_and_column(connected_user, demo_instance):
    bad = "SELECT campaign,\n  COUNT(*) AS n\nFROM dsp_impressions\nLIMIT 10"
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, sql=bad, window=WINDOW, submit=False
    )
    done = drive(execution)
    assert done.status == Execution.Status.FAILED
    assert done.error_kind == "AMCValidationError"
    assert (done.error_line, done.error_column) == (4, 1)
    assert "LIMIT" in done.error_message


def test_saved_workflow_is_synced_and_recreated_when_deleted_on_amc(connected_user, demo_instance):
    workflow = Workflow.objects.create(owner=connected_user, name="Reach", sql=SQL)
    first = drive(
        services.start_execution(owner=connected_user, instance=demo_instance, workflow=workflow, window=WINDOW)
    )
    assert first.status == Execution.Status.SUCCEEDED, first.error_message
    assert first.amc_workflow_id == workflow.workflow_id
    assert SandboxWorkflow.objects.filter(workflow_id=workflow.workflow_id).exists()
    assert WorkflowSync.objects.get(workflow=workflow).state == WorkflowSync.State.SYNCED
    SandboxWorkflow.objects.filter(workflow_id=workflow.workflow_id).delete()  # deleted outside RecomAMP
    second = drive(
        services.start_execution(owner=connected_user, instance=demo_instance, workflow=workflow, window=WINDOW)
    )
    assert second.status == Execution.Status.SUCCEEDED, second.error_message
    assert SandboxWorkflow.objects.filter(workflow_id=workflow.workflow_id).exists()
    workflow.refresh_from_db()
    assert workflow.execution_count == 2


def test_placeholders_are_substituted_and_custom_parameters_sent(connected_user, demo_instance):
    workflow = Workflow.objects.create(
        owner=connected_user,
        name="Filtered",
        sql="SELECT campaign, COUNT(*) AS n FROM dsp_impressions WHERE campaign_id_string IN ({{campaign_ids}}) "
        "AND device_type = CUSTOM_PARAMETER('device') GROUP BY campaign",
        parameters=[{"name": "campaign_ids", "type": "id_list"}, {"name": "device", "type": "string"}],
    )
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, workflow=workflow, window=WINDOW,
        parameters={"campaign_ids": "111, 222", "device": "Phone"}, submit=False,
    )  # fmt: skip
    assert "IN ('111', '222')" in execution.sql_sent
    assert execution.request_body["parameterValues"] == {"device": "Phone"}
    assert execution.request_body["workflow"]["inputParameters"][0]["name"] == "device"
    with pytest.raises(services.ExecutionInputError, match="campaign_ids"):
        services.start_execution(
            owner=connected_user, instance=demo_instance, workflow=workflow, window=WINDOW,
            parameters={"campaign_ids": "1'); DROP TABLE x; --", "device": "Phone"},
        )  # fmt: skip
    assert Execution.objects.count() == 1  # nothing saved for the rejected input


def test_cancel_is_confirmed_by_amc(connected_user, demo_instance, settings):
    settings.SANDBOX_PENDING_SECONDS = 600
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, sql=SQL, window=WINDOW, submit=False
    )
    following.advance(execution.pk, client_factory=no_sleep_client())
    execution.refresh_from_db()
    assert execution.status == Execution.Status.QUEUED
    cancelled = services.cancel_execution(execution, client_factory=no_sleep_client())
    assert cancelled.status == Execution.Status.CANCELLED
    assert SandboxExecution.objects.get(execution_id=execution.amc_execution_id).status == "CANCELLED"


def test_lost_submission_is_adopted_not_submitted_twice(connected_user, demo_instance):
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, sql=SQL, window=WINDOW, submit=False
    )
    # A worker claims the row and submits, then dies before recording AMC's answer.
    Execution.objects.filter(pk=execution.pk).update(
        status=Execution.Status.SUBMITTING, submit_attempted_at=datetime.now(UTC)
    )
    execution.refresh_from_db()
    with amc_client_for(connected_user) as client:
        lost = client.create_execution(demo_instance, execution.request_body)
    later = datetime.now(UTC) + following.submit_recovery_after()
    assert following.recover_stuck_submissions(later, no_sleep_client()) == 1
    execution.refresh_from_db()
    assert execution.amc_execution_id == lost.execution_id
    assert SandboxExecution.objects.filter(workflow_id=execution.execution_id).count() == 1
    assert drive(execution).status == Execution.Status.SUCCEEDED


def test_submission_with_no_trace_on_amc_is_resubmitted(connected_user, demo_instance):
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, sql=SQL, window=WINDOW, submit=False
    )
    Execution.objects.filter(pk=execution.pk).update(
        status=Execution.Status.SUBMITTING, submit_attempted_at=datetime.now(UTC)
    )
    later = datetime.now(UTC) + following.submit_recovery_after()
    following.recover_stuck_submissions(later, no_sleep_client())
    execution.refresh_from_db()
    assert execution.status == Execution.Status.PENDING
    assert drive(execution).status == Execution.Status.SUCCEEDED
    assert SandboxExecution.objects.filter(workflow_id=execution.execution_id).count() == 1


@pytest.mark.parametrize(
    "faults",
    [
        {"throttle_rate": 0.5, "retry_after_seconds": 2, "seed": 3},
        {"server_error_rate": 0.4, "server_error_status": 503, "seed": 5},
        {"timeout_rate": 0.3, "timeout_seconds": 3, "seed": 7},
    ],
)
def test_faults_still_end_in_a_correct_terminal_state(connected_user, demo_instance, settings, faults):
    settings.SANDBOX_FAULTS = faults
    # Short enough that injected timeouts (3 s) trip the client, long enough that a busy machine does not.
    settings.AMC_REQUEST_TIMEOUT = 1.5 if "timeout_rate" in faults else 5
    executions = [
        services.start_execution(owner=connected_user, instance=demo_instance, sql=SQL, window=WINDOW, submit=False)
        for _ in range(3)
    ]
    sleeps: list[float] = []
    for execution in executions:
        for _ in range(80):
            execution.refresh_from_db()
            if not execution.is_active:
                break
            later = datetime.now(UTC) + following.submit_recovery_after()
            Execution.objects.filter(pk=execution.pk).update(next_poll_at=datetime.now(UTC))
            if execution.status == Execution.Status.SUBMITTING:
                following.recover_stuck_submissions(later, no_sleep_client(sleeps))
            else:
                following.advance(execution.pk, client_factory=no_sleep_client(sleeps))
        assert execution.status == Execution.Status.SUCCEEDED, (execution.status, execution.error_message)
        assert execution.result.row_count > 0
        assert SandboxExecution.objects.filter(workflow_id=execution.execution_id).count() == 1  # never twice


def test_run_query_command_waits_and_writes_the_result(connected_user, demo_instance, tmp_path, capsys):
    sql_file = tmp_path / "q.sql"
    sql_file.write_text(SQL)
    output = tmp_path / "out.csv"
    call_command(
        "run_query", "--user", connected_user.email, "--instance", demo_instance.instance_id,
        "--sql-file", str(sql_file), "--start", "2025-11-01", "--end", "2025-11-30", "--tz", "UTC",
        "--wait", "--poll-seconds", "0", "--output", str(output),
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert "succeeded" in printed and "rows" in printed
    assert output.read_text().startswith("campaign,impressions,reach")
    execution = Execution.objects.get()
    assert execution.time_window_end == datetime(2025, 12, 1, tzinfo=UTC)  # --end is inclusive


def test_run_query_command_fails_with_the_reason(connected_user, demo_instance, tmp_path):
    sql_file = tmp_path / "bad.sql"
    sql_file.write_text("SELECT * FROM dsp_impressions")
    with pytest.raises(CommandError, match="failed"):
        call_command(
            "run_query", "--user", connected_user.email, "--instance", demo_instance.instance_id,
            "--sql-file", str(sql_file), "--start", "2025-11-01", "--end", "2025-11-30", "--wait",
            "--poll-seconds", "0",
        )  # fmt: skip
    with pytest.raises(CommandError, match="no AMC instance"):
        call_command("run_query", "--user", connected_user.email, "--instance", "nope", "--sql-file", str(sql_file))


def test_recovery_never_adopts_another_runs_amc_execution(connected_user, demo_instance):
    """Runs of one saved workflow share its AMC workflow id; only the run with our window may be adopted."""
    workflow = Workflow.objects.create(owner=connected_user, name="Reach", sql=SQL)
    august = services.WindowSpec("EXPLICIT", datetime(2025, 8, 1, tzinfo=UTC), datetime(2025, 9, 1, tzinfo=UTC), "UTC")
    other = drive(
        services.start_execution(owner=connected_user, instance=demo_instance, workflow=workflow, window=august)
    )
    assert other.status == Execution.Status.SUCCEEDED
    lost = services.start_execution(
        owner=connected_user, instance=demo_instance, workflow=workflow, window=WINDOW, submit=False
    )
    Execution.objects.filter(pk=lost.pk).update(
        status=Execution.Status.SUBMITTING, submit_attempted_at=datetime.now(UTC)
    )
    later = datetime.now(UTC) + following.submit_recovery_after()
    following.recover_stuck_submissions(later, no_sleep_client())
    lost.refresh_from_db()
    assert lost.status == Execution.Status.PENDING and lost.amc_execution_id == ""  # not August's run
    done = drive(lost)
    assert done.status == Execution.Status.SUCCEEDED and done.amc_execution_id != other.amc_execution_id
    assert done.time_window_start == WINDOW.start
