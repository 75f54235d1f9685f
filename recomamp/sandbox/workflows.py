"""Saved workflows: validation of AMC Workflow objects, and create / update / delete with AMC's answers."""

import re
from typing import Any

from django.db import IntegrityError, transaction

from . import clock, engine_bridge, lookups
from .models import SandboxInstance, SandboxWorkflow
from .responses import ApiError

# The Workflow fields the sandbox keeps (others are accepted and dropped, as unknown fields would be by AMC).
WORKFLOW_FIELDS = (
    "workflowId",
    "sqlQuery",
    "inputParameters",
    "outputColumns",
    "filteredMetricsDiscriminatorColumn",
    "distinctUserCountColumn",
    "filteredReasonColumn",
    "privacyFilteringBehavior",
    "outputFormat",
    "inputSchema",
)
WORKFLOW_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,255}")
MAX_INPUT_PARAMETERS = 100
FILTERING_BEHAVIOURS = ("REMOVE_ROWS", "REMOVE_VALUES")


def normalize(data: Any, *, require_id: bool) -> dict[str, Any]:
    """The Workflow object reduced to known fields, or a 400 naming the first problem."""
    if not isinstance(data, dict):
        raise ApiError(400, "workflow must be a JSON object.")
    workflow = {key: data[key] for key in WORKFLOW_FIELDS if data.get(key) is not None}
    workflow_id = workflow.get("workflowId")
    if workflow_id is None and require_id:
        raise ApiError(400, "workflowId is required.")
    if workflow_id is not None and not (isinstance(workflow_id, str) and WORKFLOW_ID_PATTERN.fullmatch(workflow_id)):
        raise ApiError(400, "workflowId may contain only letters, digits, '.', '-' and '_', and no spaces.")
    sql = workflow.get("sqlQuery")
    if not isinstance(sql, str) or not sql.strip():
        raise ApiError(400, "sqlQuery is required.")
    _check_parameters(workflow.get("inputParameters", []))
    behaviour = workflow.get("privacyFilteringBehavior")
    if behaviour is not None and behaviour not in FILTERING_BEHAVIOURS:
        raise ApiError(400, f"privacyFilteringBehavior must be one of {', '.join(FILTERING_BEHAVIOURS)}.")
    if "outputFormat" in workflow and not isinstance(workflow["outputFormat"], dict):
        raise ApiError(400, "outputFormat must be an object with separatorCharacter, quoteCharacter, escapeCharacter.")
    return workflow


def _check_parameters(parameters: Any) -> None:
    if not isinstance(parameters, list) or len(parameters) > MAX_INPUT_PARAMETERS:
        raise ApiError(400, f"inputParameters must be a list of at most {MAX_INPUT_PARAMETERS} parameters.")
    names = set()
    for parameter in parameters:
        name = parameter.get("name") if isinstance(parameter, dict) else None
        if not isinstance(name, str) or not name:
            raise ApiError(400, "Every input parameter needs a name.")
        if name in names:
            raise ApiError(400, f"Input parameter {name} is declared twice.")
        names.add(name)


def compile_or_400(workflow: dict[str, Any], workflow_id: str) -> None:
    """AMC compiles a workflow when it is saved (and an ad hoc one when it is submitted)."""
    problem = engine_bridge.compile_problem(workflow, saved=True)
    if problem:
        raise ApiError(400, engine_bridge.compile_failure_text(workflow_id, problem))


def not_found(workflow_id: str) -> ApiError:
    return ApiError(400, f"Workflow with ID {workflow_id} does not exist.")


def get(instance: SandboxInstance, workflow_id: str) -> SandboxWorkflow:
    workflow = lookups.workflow(instance, workflow_id)
    if workflow is None:
        raise not_found(workflow_id)
    return workflow


def create(instance: SandboxInstance, data: Any) -> SandboxWorkflow:
    workflow = normalize(data, require_id=True)
    workflow_id = workflow["workflowId"]
    duplicate = ApiError(400, f"Workflow with ID {workflow_id} already exists.")
    if SandboxWorkflow.objects.filter(instance=instance, workflow_id=workflow_id).exists():
        raise duplicate
    compile_or_400(workflow, workflow_id)
    now = clock.now()
    try:
        with transaction.atomic():
            return SandboxWorkflow.objects.create(
                instance=instance,
                workflow_id=workflow_id,
                sql_query=workflow["sqlQuery"],
                definition=workflow,
                created_at=now,
                updated_at=now,
            )
    except IntegrityError:  # a concurrent create of the same id won the race
        raise duplicate


def update(instance: SandboxInstance, workflow_id: str, data: Any) -> None:
    """PUT replaces the whole definition; the id in the body, if any, must be the one in the path."""
    if isinstance(data, dict) and data.get("workflowId") not in (None, workflow_id):
        raise ApiError(400, "The workflowId in the body does not match the one in the path.")
    workflow = normalize({**data, "workflowId": workflow_id} if isinstance(data, dict) else data, require_id=True)
    existing = get(instance, workflow_id)
    compile_or_400(workflow, workflow_id)
    updated = SandboxWorkflow.objects.filter(pk=existing.pk).update(
        sql_query=workflow["sqlQuery"], definition=workflow, updated_at=clock.now()
    )
    if not updated:  # deleted in the meantime
        raise not_found(workflow_id)


def delete(instance: SandboxInstance, workflow_id: str) -> None:
    deleted, _ = SandboxWorkflow.objects.filter(instance=instance, workflow_id=workflow_id).delete()
    if not deleted:
        raise not_found(workflow_id)


def as_json(workflow: SandboxWorkflow) -> dict[str, Any]:
    return dict(workflow.definition)
