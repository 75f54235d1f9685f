"""Workflow executions over real HTTP, with the sandbox clock moved by the test (pending 10 s, running 20 s)."""

import re
import uuid

import pytest

from recomamp.sandbox.models import SandboxExecution

from .conftest import EXPLICIT_2024

pytestmark = pytest.mark.django_db(transaction=True)

SQL = "SELECT campaign, COUNT(*) AS impressions FROM dsp_impressions GROUP BY campaign"


def test_lifecycle_pending_running_succeeded(sandbox, clock):
    created = sandbox.run_adhoc(SQL)
    execution_id = created["workflowExecutionId"]
    assert uuid.UUID(execution_id)
    assert created["status"] == "PENDING"
    assert created["workflowId"].startswith("transient_")
    assert created["createTime"] == "2025-01-06T12:00:00Z"
    assert created["workflowExecutionTimeoutSeconds"] == 21600

    clock.advance(9)
    assert sandbox.status(execution_id) == "PENDING"
    clock.advance(1)
    assert sandbox.status(execution_id) == "RUNNING"
    clock.advance(19)
    assert sandbox.status(execution_id) == "RUNNING"
    clock.advance(1)
    final = sandbox.reporting("GET", f"/workflowExecutions/{execution_id}").json()
    assert final["status"] == "SUCCEEDED"
    assert final["lastUpdatedTime"] == "2025-01-06T12:00:30Z"
    assert "sqlQuery" not in final


def test_a_finished_result_is_publishing_before_it_succeeds(sandbox, clock, settings):
    settings.SANDBOX_PUBLISHING_SECONDS = 5
    execution_id = sandbox.run_adhoc(SQL)["workflowExecutionId"]
    clock.advance(30)  # 10 s pending, 20 s running: the query ran, its result is being published
    publishing = sandbox.reporting("GET", f"/workflowExecutions/{execution_id}").json()
    assert publishing["status"] == "PUBLISHING"
    assert publishing["outputChannels"][0]["status"] == "PENDING"
    assert sandbox.reporting("GET", f"/workflowExecutions/{execution_id}/downloadUrls").status_code == 404
    clock.advance(5)
    final = sandbox.reporting("GET", f"/workflowExecutions/{execution_id}").json()
    assert final["status"] == "SUCCEEDED" and final["lastUpdatedTime"] == "2025-01-06T12:00:35Z"
    assert sandbox.reporting("GET", f"/workflowExecutions/{execution_id}/downloadUrls").status_code == 200


def test_a_late_poll_sees_the_finished_execution(sandbox, clock):
    execution_id = sandbox.run_adhoc(SQL)["workflowExecutionId"]
    clock.advance(1800)
    assert sandbox.status(execution_id) == "SUCCEEDED"


def test_include_workflow_returns_the_query(sandbox):
    execution_id = sandbox.run_adhoc(SQL)["workflowExecutionId"]
    body = sandbox.reporting("GET", f"/workflowExecutions/{execution_id}", params={"includeWorkflow": "true"}).json()
    assert body["sqlQuery"] == SQL


def test_explicit_window_is_read_in_its_time_zone(sandbox):
    body = sandbox.run_adhoc(
        SQL,
        timeWindowStart="2024-09-20T00:00:00",
        timeWindowEnd="2024-09-21T00:00:00",
        timeWindowTimeZone="America/New_York",
    )
    assert body["timeWindowStart"] == "2024-09-20T04:00:00Z"
    assert body["timeWindowEnd"] == "2024-09-21T04:00:00Z"
    assert body["timeWindowStartOriginal"] == "2024-09-20T00:00:00"
    assert body["timeWindowTimeZoneOriginal"] == "America/New_York"


def test_relative_window_is_resolved_from_the_clock(sandbox):
    body = sandbox.run_adhoc(SQL, timeWindowType="MOST_RECENT_WEEK", timeWindowStart=None, timeWindowEnd=None)
    assert body["timeWindowType"] == "MOST_RECENT_WEEK"
    assert (body["timeWindowStart"], body["timeWindowEnd"]) == ("2024-12-30T00:00:00Z", "2025-01-06T00:00:00Z")


@pytest.mark.parametrize(
    "change",
    [
        {"workflowId": "some_saved_one"},  # both a saved id and an ad hoc workflow
        {"workflow": None},  # neither
        {"timeWindowStart": "2024-01-01T00:00:00Z"},
        {"timeWindowStart": "2024-01-01T00:30:00"},
        {"timeWindowEnd": None},
        {"timeWindowType": "LAST_DECADE"},
        {"timeWindowTimeZone": "Mars/Olympus"},
        {"workflowExecutionTimeoutSeconds": 899},
        {"workflowExecutionTimeoutSeconds": 86401},
        {"parameterValues": ["not", "an", "object"]},
    ],
)
def test_invalid_requests_are_400_and_create_nothing(sandbox, change):
    body = {"workflow": {"sqlQuery": SQL}, **EXPLICIT_2024, **change}
    response = sandbox.reporting("POST", "/workflowExecutions", json={k: v for k, v in body.items() if v is not None})
    assert response.status_code == 400
    assert response.json()["code"] == "400"
    assert not SandboxExecution.objects.exists()


def test_string_typed_numbers_and_booleans_are_accepted(sandbox):
    body = sandbox.run_adhoc(SQL, workflowExecutionTimeoutSeconds="86400", ignoreDataGaps="True")
    assert body["workflowExecutionTimeoutSeconds"] == 86400
    assert body["ignoreDataGaps"] is True


def test_adhoc_compile_error_is_400_with_position(sandbox):
    response = sandbox.reporting(
        "POST", "/workflowExecutions", json={"workflow": {"sqlQuery": "SELECT * FROM dsp_impressions"}, **EXPLICIT_2024}
    )
    assert response.status_code == 400
    details = response.json()["details"]
    assert details.startswith("Was unable to compile workflow transient_")
    assert re.search(r": From line 1, column \d+ to line 1, column \d+: ", details)
    assert not SandboxExecution.objects.exists()


def test_unknown_saved_workflow_is_400(sandbox):
    response = sandbox.reporting("POST", "/workflowExecutions", json={"workflowId": "missing", **EXPLICIT_2024})
    assert response.status_code == 400
    assert response.json()["details"] == "Workflow with ID missing does not exist."


def test_unknown_execution_is_400_does_not_exist(sandbox):
    missing = str(uuid.uuid4())
    response = sandbox.reporting("GET", f"/workflowExecutions/{missing}")
    assert response.status_code == 400
    assert response.json()["details"] == f"Workflow execution with ID {missing} does not exist."


def test_at_most_ten_run_at_once_and_the_rest_wait(sandbox, clock):
    ids = []
    for _ in range(11):
        ids.append(sandbox.run_adhoc(SQL)["workflowExecutionId"])
        clock.advance(0.1)
    clock.advance(10)
    statuses = [sandbox.status(i) for i in ids]
    assert statuses == ["RUNNING"] * 10 + ["PENDING"]
    clock.advance(20)  # the first ten finish; the eleventh takes a freed slot
    statuses = [sandbox.status(i) for i in ids]
    assert statuses == ["SUCCEEDED"] * 10 + ["RUNNING"]
    clock.advance(20)
    assert sandbox.status(ids[-1]) == "SUCCEEDED"


def test_adhoc_quota_is_30_per_day(sandbox, clock):
    for _ in range(30):
        sandbox.run_adhoc(SQL)
    dry = sandbox.reporting("POST", "/workflowExecutions", json={"workflow": {"sqlQuery": SQL}, "dryRun": True})
    assert dry.status_code == 200  # dry runs use no quota
    refused = sandbox.reporting("POST", "/workflowExecutions", json={"workflow": {"sqlQuery": SQL}, **EXPLICIT_2024})
    assert refused.status_code == 422
    assert "30 ad hoc workflow executions per day" in refused.json()["details"]
    sandbox.reporting("POST", "/workflows", json={"workflowId": "saved", "sqlQuery": SQL})
    saved = sandbox.reporting("POST", "/workflowExecutions", json={"workflowId": "saved", **EXPLICIT_2024})
    assert saved.status_code == 200  # saved workflows are not ad hoc
    clock.advance(12 * 3600)  # the next UTC day
    sandbox.renew_token()
    assert sandbox.run_adhoc(SQL)["status"] == "PENDING"


def test_cancel_and_list_filtering(sandbox, clock):
    keep = sandbox.run_adhoc(SQL)["workflowExecutionId"]
    cancel = sandbox.run_adhoc(SQL)["workflowExecutionId"]
    response = sandbox.reporting("PUT", f"/workflowExecutions/{cancel}", json={"status": "CANCELLED"})
    assert response.status_code == 200 and response.json() == {}
    assert sandbox.status(cancel) == "CANCELLED"

    params = {"minCreationTime": "2025-01-06T00:00:00"}
    listed = sandbox.reporting("GET", "/workflowExecutions", params=params).json()["executions"]
    assert [e["workflowExecutionId"] for e in listed] == [keep]
    everything = sandbox.reporting("GET", "/workflowExecutions", params={**params, "includeCancelled": "true"})
    assert {e["workflowExecutionId"] for e in everything.json()["executions"]} == {keep, cancel}

    again = sandbox.reporting("PUT", f"/workflowExecutions/{cancel}", json={"status": "CANCELLED"})
    assert again.status_code == 400
    clock.advance(60)
    assert sandbox.status(cancel) == "CANCELLED"  # a cancelled execution never runs
    finished = sandbox.reporting("PUT", f"/workflowExecutions/{keep}", json={"status": "CANCELLED"})
    assert finished.status_code == 400
    assert "SUCCEEDED" in finished.json()["details"]


def test_cancel_a_running_execution_with_delete(sandbox, clock):
    execution_id = sandbox.run_adhoc(SQL)["workflowExecutionId"]
    clock.advance(15)
    assert sandbox.status(execution_id) == "RUNNING"
    assert sandbox.reporting("DELETE", f"/workflowExecutions/{execution_id}").status_code == 200
    clock.advance(60)
    assert sandbox.status(execution_id) == "CANCELLED"


def test_list_needs_min_creation_time_or_workflow_id(sandbox):
    response = sandbox.reporting("GET", "/workflowExecutions")
    assert response.status_code == 400


def test_list_pages_newest_first_and_filters_by_workflow(sandbox, clock):
    sandbox.reporting("POST", "/workflows", json={"workflowId": "saved", "sqlQuery": SQL})
    saved = sandbox.reporting("POST", "/workflowExecutions", json={"workflowId": "saved", **EXPLICIT_2024}).json()
    created = []
    for _ in range(5):
        clock.advance(1)
        created.append(sandbox.run_adhoc(SQL)["workflowExecutionId"])
    seen, token = [], ""
    while True:
        params = {"minCreationTime": "2025-01-06T12:00:01", "limit": 2, "nextToken": token}
        body = sandbox.reporting("GET", "/workflowExecutions", params=params).json()
        seen += [e["workflowExecutionId"] for e in body["executions"]]
        token = body.get("nextToken")
        if not token:
            break
    assert seen == list(reversed(created))
    ascending = sandbox.reporting(
        "GET", "/workflowExecutions", params={"minCreationTime": "2025-01-06T12:00:01", "sortAscending": "true"}
    )
    assert [e["workflowExecutionId"] for e in ascending.json()["executions"]] == created
    by_workflow = sandbox.reporting("GET", "/workflowExecutions", params={"workflowId": "saved"}).json()
    assert [e["workflowExecutionId"] for e in by_workflow["executions"]] == [saved["workflowExecutionId"]]


def test_execution_longer_than_its_timeout_fails(sandbox, clock, settings):
    settings.SANDBOX_RUNNING_SECONDS = 1000
    execution_id = sandbox.run_adhoc(SQL, workflowExecutionTimeoutSeconds=900)["workflowExecutionId"]
    clock.advance(10 + 899)
    assert sandbox.status(execution_id) == "RUNNING"
    clock.advance(1)
    body = sandbox.reporting("GET", f"/workflowExecutions/{execution_id}").json()
    assert body["status"] == "FAILED"
    assert "timeout of 900 seconds" in body["statusReason"]


def test_dry_run_validates_without_running(sandbox):
    good = sandbox.reporting("POST", "/workflowExecutions", json={"workflow": {"sqlQuery": SQL}, "dryRun": True})
    assert good.json()["status"] == "SUCCEEDED"
    urls = sandbox.reporting("GET", f"/workflowExecutions/{good.json()['workflowExecutionId']}/downloadUrls")
    assert urls.status_code == 404
    bad = sandbox.reporting(
        "POST", "/workflowExecutions", json={"workflow": {"sqlQuery": "SELECT x FROM nowhere"}, "dryRun": True}
    )
    assert bad.status_code == 200
    assert bad.json()["status"] == "REJECTED"
    assert "From line 1" in bad.json()["statusReason"]


def test_concurrent_polls_start_and_finish_each_execution_once(sandbox, clock, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from recomamp.sandbox import engine_bridge

    runs = []
    real_run = engine_bridge.run
    monkeypatch.setattr(engine_bridge, "run", lambda execution: runs.append(execution.pk) or real_run(execution))
    ids = [sandbox.run_adhoc(SQL)["workflowExecutionId"] for _ in range(12)]
    params = {"minCreationTime": "2025-01-06T00:00:00"}

    def poll_many():
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda _: sandbox.reporting("GET", "/workflowExecutions", params=params), range(8)))
        return [SandboxExecution.objects.get(execution_id=i).status for i in ids]

    clock.advance(10)
    assert poll_many() == ["RUNNING"] * 10 + ["PENDING"] * 2
    clock.advance(20)
    assert poll_many() == ["SUCCEEDED"] * 10 + ["RUNNING"] * 2
    assert sorted(runs) == sorted(set(runs)) and len(runs) == 10
