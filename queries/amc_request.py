"""The one builder of the JSON body an AMC execution request carries.

Every path builds it here: the run dialog, the editor, schedules and `run_query` (through
`executions.services.start_execution`, which stores the body on the row for the client to post as is), the
editor's preview, and the editor's dry run.
"""

from typing import Any

from recomamp.amc.records import TimeWindow

from .parameters import PreparedQuery


def runs_saved_workflow(workflow, prepared: PreparedQuery) -> bool:
    """A saved query whose SQL goes out unchanged runs by its workflow id, which keeps AMC's history per
    workflow; SQL edited in the editor or changed by placeholders is sent ad hoc."""
    return workflow is not None and prepared.sql == workflow.sql


def execution_body(
    prepared: PreparedQuery,
    *,
    window: TimeWindow,
    saved_workflow_id: str | None = None,
    adhoc_workflow_id: str | None = None,
    timeout_seconds: int | None = None,
    synthetic_data: bool = False,
    dry_run: bool = False,
) -> dict[str, Any]:
    """`saved_workflow_id` runs a saved workflow; otherwise the SQL travels in a `workflow` object, named by
    `adhoc_workflow_id` (our exec_… id, so every AMC execution can be traced back). Sandbox instances hold
    synthetic data only, and AMC requires the request to say so (`synthetic_data`)."""
    body: dict[str, Any] = {}
    if saved_workflow_id:
        body["workflowId"] = saved_workflow_id
    else:
        body["workflow"] = {"sqlQuery": prepared.sql}
        if adhoc_workflow_id:
            body["workflow"] = {"workflowId": adhoc_workflow_id, **body["workflow"]}
        if prepared.input_parameters:
            body["workflow"]["inputParameters"] = prepared.input_parameters
    body.update(window.to_body())
    if prepared.parameter_values:
        body["parameterValues"] = prepared.parameter_values
    if timeout_seconds is not None:
        body["workflowExecutionTimeoutSeconds"] = timeout_seconds
    if synthetic_data:
        body["requireSyntheticData"] = True
    if dry_run:
        body["dryRun"] = True
    return body
