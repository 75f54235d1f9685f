"""One builder for the AMC execution request: saved or ad hoc, and the sandbox's synthetic-data flag."""

from datetime import UTC, datetime

from queries import amc_request
from queries.models import Workflow
from queries.parameters import prepare_query
from queries.validation.parameters import ParameterDefinition
from recomamp.amc.records import TimeWindow

WINDOW = TimeWindow("EXPLICIT", datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 8, tzinfo=UTC), "UTC")


def test_saved_workflow_runs_by_id_only_when_its_sql_goes_out_unchanged():
    workflow = Workflow(sql="SELECT 1 FROM t WHERE x = {{n}}", workflow_id="wf_12345678")
    definitions = {"n": ParameterDefinition("n", "integer")}
    assert not amc_request.runs_saved_workflow(workflow, prepare_query(workflow.sql, definitions, {"n": "3"}))
    plain = Workflow(sql="SELECT 1 FROM t", workflow_id="wf_87654321")
    assert amc_request.runs_saved_workflow(plain, prepare_query(plain.sql, {}, {}))
    assert not amc_request.runs_saved_workflow(None, prepare_query(plain.sql, {}, {}))


def test_bodies():
    prepared = prepare_query("SELECT 1 FROM t", {}, {})
    saved = amc_request.execution_body(prepared, window=WINDOW, saved_workflow_id="wf_1", timeout_seconds=900)
    assert saved["workflowId"] == "wf_1" and "workflow" not in saved
    assert saved["workflowExecutionTimeoutSeconds"] == 900 and "requireSyntheticData" not in saved
    adhoc = amc_request.execution_body(prepared, window=WINDOW, adhoc_workflow_id="exec_1", synthetic_data=True)
    assert adhoc["workflow"] == {"workflowId": "exec_1", "sqlQuery": "SELECT 1 FROM t"}
    assert adhoc["requireSyntheticData"] is True and adhoc["timeWindowStart"] == "2026-03-01T00:00:00"
    check = amc_request.execution_body(prepared, window=WINDOW, dry_run=True)
    assert check["dryRun"] is True and check["workflow"] == {"sqlQuery": "SELECT 1 FROM t"}
