"""Saved workflows over real HTTP: create, get, update, delete, list, and AMC's error texts."""

import re

import pytest

from recomamp.sandbox.models import SandboxWorkflow

pytestmark = pytest.mark.django_db(transaction=True)

SQL = "SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY campaign"
COMPILE_TEXT = re.compile(
    r"^Was unable to compile workflow (\S+) because it was found to be invalid: "
    r"From line (\d+), column (\d+) to line (\d+), column (\d+): .+"
)


def create(sandbox, workflow_id="reach_by_campaign", sql=SQL, **fields):
    return sandbox.reporting("POST", "/workflows", json={"workflowId": workflow_id, "sqlQuery": sql, **fields})


def test_create_get_update_delete(sandbox):
    parameters = [{"name": "min_reach", "dataType": "INTEGER", "columnType": "METRIC", "defaultValue": "1"}]
    response = create(sandbox, inputParameters=parameters, filteredMetricsDiscriminatorColumn="filtered")
    assert response.status_code == 200 and response.json() == {}

    got = sandbox.reporting("GET", "/workflows/reach_by_campaign").json()
    assert got["workflowId"] == "reach_by_campaign"
    assert got["sqlQuery"] == SQL
    assert got["inputParameters"] == parameters
    assert got["filteredMetricsDiscriminatorColumn"] == "filtered"

    new_sql = "SELECT campaign, COUNT(*) AS impressions FROM dsp_impressions GROUP BY campaign"
    updated = sandbox.reporting("PUT", "/workflows/reach_by_campaign", json={"sqlQuery": new_sql})
    assert updated.status_code == 200 and updated.json() == {}
    got = sandbox.reporting("GET", "/workflows/reach_by_campaign").json()
    assert got["sqlQuery"] == new_sql
    assert "inputParameters" not in got  # PUT replaces the whole definition

    deleted = sandbox.reporting("DELETE", "/workflows/reach_by_campaign")
    assert deleted.status_code == 200 and deleted.json() == {}
    assert not SandboxWorkflow.objects.exists()


def test_get_can_answer_wrapped(sandbox, settings):
    create(sandbox)
    settings.SANDBOX_WRAP_WORKFLOW = True
    assert sandbox.reporting("GET", "/workflows/reach_by_campaign").json()["workflow"]["sqlQuery"] == SQL


def test_duplicate_create_is_400_already_exists(sandbox):
    create(sandbox)
    response = create(sandbox)
    assert response.status_code == 400
    assert response.json() == {"code": "400", "details": "Workflow with ID reach_by_campaign already exists."}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_missing_workflow_is_400_does_not_exist(sandbox, method):
    response = sandbox.reporting(method, "/workflows/nope", json={"sqlQuery": SQL})
    assert response.status_code == 400
    assert response.json() == {"code": "400", "details": "Workflow with ID nope does not exist."}


def test_invalid_workflow_ids_and_bodies_are_400(sandbox):
    assert create(sandbox, workflow_id="has space").status_code == 400
    assert sandbox.reporting("POST", "/workflows", json={"sqlQuery": SQL}).status_code == 400
    assert sandbox.reporting("POST", "/workflows", json={"workflowId": "x"}).status_code == 400
    assert sandbox.reporting("POST", "/workflows", content=b"{not json").status_code == 400
    assert not SandboxWorkflow.objects.exists()


def test_compile_error_on_create_reports_position(sandbox):
    response = create(sandbox, workflow_id="bad_one", sql="SELECT campaign, COUNT(*) AS n\nFROM no_such_table")
    assert response.status_code == 400
    details = response.json()["details"]
    match = COMPILE_TEXT.match(details)
    assert match, details
    assert match.group(1) == "bad_one"
    assert match.group(2) == "2"  # the unknown table is on the second line
    assert not SandboxWorkflow.objects.exists()


def test_undeclared_custom_parameter_fails_compilation(sandbox):
    sql = (
        "SELECT campaign, COUNT(*) AS n FROM dsp_impressions "
        "WHERE advertiser = CUSTOM_PARAMETER('brand') GROUP BY campaign"
    )
    response = create(sandbox, sql=sql)
    assert response.status_code == 400
    assert COMPILE_TEXT.match(response.json()["details"])
    declared = [{"name": "brand", "dataType": "STRING", "defaultValue": "Northwind"}]
    assert create(sandbox, sql=sql, inputParameters=declared).status_code == 200


def test_update_with_compile_error_keeps_old_definition(sandbox):
    create(sandbox)
    response = sandbox.reporting("PUT", "/workflows/reach_by_campaign", json={"sqlQuery": "SELECT * FROM dsp_clicks"})
    assert response.status_code == 400
    assert SandboxWorkflow.objects.get().sql_query == SQL


def test_list_pages_through_workflows(sandbox):
    for number in range(5):
        create(sandbox, workflow_id=f"wf_{number}")
    seen, token = [], None
    while True:
        params = {"limit": 2, **({"nextToken": token} if token else {})}
        body = sandbox.reporting("GET", "/workflows", params=params).json()
        seen += [w["workflowId"] for w in body["workflows"]]
        token = body.get("nextToken")
        if not token:
            break
    assert seen == [f"wf_{n}" for n in range(5)]
