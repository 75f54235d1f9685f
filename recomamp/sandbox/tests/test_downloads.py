"""Results: downloadUrls, pre-signed links fetched without auth, CSV content, multi-file split, expiry."""

import io
from datetime import datetime

import httpx
import pytest

from recomamp.sandbox.engine import run_query, to_csv

from .conftest import EXPLICIT_2024

pytestmark = pytest.mark.django_db(transaction=True)

# Ordered, so the sandbox's files and the engine run in the test can be compared byte for byte.
EVENT_SQL = (
    "SELECT impression_dt_utc, COUNT(*) AS impressions FROM dsp_impressions "
    "GROUP BY impression_dt_utc ORDER BY impression_dt_utc"
)
PARAM_SQL = (
    "SELECT campaign, COUNT(*) AS impressions FROM dsp_impressions "
    "WHERE device_type = CUSTOM_PARAMETER('device') GROUP BY campaign ORDER BY campaign"
)


def expected_csv(sql: str, settings, **options) -> str:
    result = run_query(
        sql,
        db_path=settings.SANDBOX_DATA_PATH,
        time_window_start=datetime(2024, 1, 1),
        time_window_end=datetime(2025, 1, 1),
        **options,
    )
    buffer = io.StringIO()
    to_csv(result, buffer)
    return buffer.getvalue()


def finished(sandbox, clock, body: dict) -> dict:
    response = sandbox.reporting("POST", "/workflowExecutions", json={**EXPLICIT_2024, **body})
    assert response.status_code == 200, response.text
    execution_id = response.json()["workflowExecutionId"]
    clock.advance(30)
    assert sandbox.status(execution_id) == "SUCCEEDED"
    urls = sandbox.reporting("GET", f"/workflowExecutions/{execution_id}/downloadUrls")
    assert urls.status_code == 200, urls.text
    return urls.json()


def fetch(url: str) -> httpx.Response:
    return httpx.get(url)  # no Authorization or AMC headers, like a pre-signed S3 link


def join_csv_parts(texts: list[str]) -> str:
    """What a client does with several parts: keep the first header, drop the others."""
    first, *rest = texts
    return first + "".join(text.split("\r\n", 1)[1] for text in rest)


def test_download_urls_before_success_is_404(sandbox):
    execution_id = sandbox.run_adhoc(EVENT_SQL, disableAggregationControls=True)["workflowExecutionId"]
    response = sandbox.reporting("GET", f"/workflowExecutions/{execution_id}/downloadUrls")
    assert response.status_code == 404
    assert response.json() == {
        "code": "404",
        "details": f"Execution with ID {execution_id} is unavailable for download.",
    }


def test_results_download_without_auth_as_csv(sandbox, clock, settings):
    body = finished(sandbox, clock, {"workflow": {"sqlQuery": EVENT_SQL}, "disableAggregationControls": True})
    assert len(body["downloadUrls"]) == 1
    response = fetch(body["downloadUrls"][0])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text == expected_csv(EVENT_SQL, settings, min_users=0)
    metadata = fetch(body["metadataDownloadUrls"][0]).json()
    assert metadata["rowCount"] == response.text.count("\r\n") - 1
    assert [c["name"] for c in metadata["columns"]] == ["impression_dt_utc", "impressions"]


def test_large_results_are_split_into_several_files(sandbox, clock, settings):
    settings.SANDBOX_ROWS_PER_FILE = 500
    body = finished(sandbox, clock, {"workflow": {"sqlQuery": EVENT_SQL}, "disableAggregationControls": True})
    full = expected_csv(EVENT_SQL, settings, min_users=0)
    rows = full.count("\r\n") - 1
    assert rows > 1000  # the tiny dataset still has enough hours with impressions to need several parts
    parts = [fetch(url).text for url in body["downloadUrls"]]
    assert len(parts) == -(-rows // 500)
    assert all(part.startswith("impression_dt_utc,impressions\r\n") for part in parts)
    assert join_csv_parts(parts) == full


def test_at_most_five_files(sandbox, clock, settings):
    settings.SANDBOX_ROWS_PER_FILE = 10
    body = finished(sandbox, clock, {"workflow": {"sqlQuery": EVENT_SQL}, "disableAggregationControls": True})
    assert len(body["downloadUrls"]) == 5
    assert join_csv_parts([fetch(u).text for u in body["downloadUrls"]]) == expected_csv(
        EVENT_SQL, settings, min_users=0
    )


def test_links_expire_after_ten_minutes(sandbox, clock):
    body = finished(sandbox, clock, {"workflow": {"sqlQuery": EVENT_SQL}, "disableAggregationControls": True})
    url = body["downloadUrls"][0]
    clock.advance(600)
    assert fetch(url).status_code == 200
    clock.advance(1)
    assert fetch(url).status_code == 403


def test_tampered_link_is_refused(sandbox, clock):
    body = finished(sandbox, clock, {"workflow": {"sqlQuery": EVENT_SQL}, "disableAggregationControls": True})
    url = body["downloadUrls"][0]
    assert fetch(url.replace("part00001", "part00002")).status_code == 403


def test_saved_workflow_parameters_default_and_override(sandbox, clock, settings):
    declared = [{"name": "device", "dataType": "STRING", "columnType": "DIMENSION", "defaultValue": "Phone"}]
    created = sandbox.reporting(
        "POST", "/workflows", json={"workflowId": "by_device", "sqlQuery": PARAM_SQL, "inputParameters": declared}
    )
    assert created.status_code == 200, created.text
    options = {"declared_parameters": ["device"], "min_users": 0}
    default = finished(sandbox, clock, {"workflowId": "by_device", "disableAggregationControls": True})
    phone = fetch(default["downloadUrls"][0]).text
    assert phone == expected_csv(PARAM_SQL, settings, parameter_values={"device": "Phone"}, **options)
    override = finished(
        sandbox,
        clock,
        {"workflowId": "by_device", "parameterValues": {"device": "TV"}, "disableAggregationControls": True},
    )
    tv = fetch(override["downloadUrls"][0]).text
    assert tv == expected_csv(PARAM_SQL, settings, parameter_values={"device": "TV"}, **options)
    assert tv != phone
