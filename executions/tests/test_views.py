"""Execution pages: run dialog, live status, results table, chart, downloads, list and comparison."""

import json
import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from executions import services
from executions.models import Execution
from executions.tests.test_execution_flow import SQL, WINDOW, drive

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def finished(connected_user, demo_instance):
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, sql=SQL, window=WINDOW, submit=False
    )
    return drive(execution)


@pytest.fixture
def client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_run_dialog_starts_an_execution_from_the_editor_sql(connected_user, demo_instance, client_for, monkeypatch):
    monkeypatch.setattr("executions.services.enqueue_submission", lambda pk: None)
    client = client_for(connected_user)
    page = client.post(reverse("execution_run"), {"sql": SQL})
    assert page.status_code == 200 and b"Run on AMC" in page.content
    response = client.post(
        reverse("execution_run"),
        {"sql": SQL, "instance": demo_instance.pk, "window_type": "EXPLICIT", "start_date": "2025-11-01",
         "end_date": "2025-11-30", "timezone": "America/New_York", "timeout_minutes": 60},
    )  # fmt: skip
    execution = Execution.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/executions/{execution.execution_id}/")
    assert execution.time_window_timezone == "America/New_York"
    assert execution.request_body["timeWindowStart"] == "2025-11-01T00:00:00"
    assert execution.request_body["timeWindowEnd"] == "2025-12-01T00:00:00"
    assert execution.timeout_seconds == 3600


def test_run_dialog_shows_field_errors_and_saves_nothing(connected_user, demo_instance, client_for):
    client = client_for(connected_user)
    response = client.post(
        reverse("execution_run"),
        {"sql": SQL, "instance": demo_instance.pk, "window_type": "EXPLICIT", "start_date": "2025-11-30",
         "end_date": "2025-11-01", "timezone": "Mars/Base", "timeout_minutes": 5},
    )  # fmt: skip
    body = response.content.decode()
    assert "must not be before the first day" in body and "not a known IANA time zone" in body
    assert "greater than or equal to 15" in body
    assert Execution.objects.count() == 0


def test_status_partial_polls_while_active_and_stops_when_done(connected_user, demo_instance, client_for, settings):
    settings.SANDBOX_PENDING_SECONDS = 600
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, sql=SQL, window=WINDOW, submit=False
    )
    client = client_for(connected_user)
    url = reverse("execution_status", args=[execution.execution_id])
    active = client.get(url, HTTP_HX_REQUEST="true")
    assert active.status_code == 200 and b'hx-trigger="every 3s"' in active.content
    Execution.objects.filter(pk=execution.pk).update(status=Execution.Status.FAILED, error_message="x", error_line=2)
    done = client.get(url, HTTP_HX_REQUEST="true")
    assert done.status_code == 286 and b"every 3s" not in done.content


def test_results_table_pages_and_sorts_in_partial_and_full_page(finished, client_for):
    client = client_for(finished.owner)
    url = reverse("execution_results", args=[finished.execution_id])
    full = client.get(url, {"sort": "impressions", "dir": "desc"})
    assert full.status_code == 200 and b"<html" in full.content
    partial = client.get(url, {"sort": "impressions", "dir": "desc"}, HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b'data-testid="result-table"' in partial.content
    from executions.results.reader import read_page

    page = read_page(finished.result, page=1, sort="impressions", descending=True)
    values = [row[1] for row in page.rows]
    assert values == sorted(values, reverse=True)
    assert str(values[0]).encode() in partial.content
    assert client.get(url, {"sort": "nope; DROP"}).status_code == 400


def test_downloads_equal_the_stored_result(finished, client_for):
    client = client_for(finished.owner)
    csv_response = client.get(reverse("execution_download", args=[finished.execution_id, "csv"]))
    body = b"".join(csv_response.streaming_content)
    with finished.result.file.open("rb") as handle:
        assert body == handle.read()
    json_response = client.get(reverse("execution_download", args=[finished.execution_id, "json"]))
    rows = json.loads(b"".join(json_response.streaming_content))
    assert len(rows) == finished.result.row_count and set(rows[0]) == {"campaign", "impressions", "reach"}
    assert isinstance(rows[0]["impressions"], int)
    assert 'filename="' in csv_response["Content-Disposition"]


def chart_spec(response) -> dict:
    found = re.search(r'<script id="chart-spec" type="application/json">(.*?)</script>', response.content.decode())
    return json.loads(found.group(1))


def test_chart_page_carries_the_spec_the_bundle_draws(finished, client_for):
    client = client_for(finished.owner)
    url = reverse("execution_chart", args=[finished.execution_id])
    response = client.get(url, {"x": "campaign", "y": "reach"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-chart="chart-spec"' in html and "dist/charts.js" in html and "<svg" not in html
    spec = chart_spec(response)
    assert spec["kind"] == "bar" and spec["series"][0]["name"] == "reach" and spec["labels"]
    assert 'data-chart-download="png"' in html and 'data-chart-download="svg"' in html
    # every aggregation is offered, and the choice reaches DuckDB
    assert all(f'value="{a}"' in html for a in ["sum", "avg", "min", "max", "count"])
    counted = chart_spec(client.get(url, {"x": "campaign", "aggregation": "count"}, HTTP_HX_REQUEST="true"))
    assert counted["y_label"] == "rows" and sum(counted["series"][0]["values"]) == finished.result.row_count
    refused = client.get(url, {"x": "campaign", "y": "campaign"}).content.decode()
    assert "is not numeric" in refused


def test_compare_two_runs(finished, client_for):
    again = drive(services.rerun_execution(finished))
    client = client_for(finished.owner)
    response = client.get(reverse("execution_compare"), {"a": finished.execution_id, "b": again.execution_id})
    assert response.status_code == 200
    assert b"impressions (total)" in response.content and b"(0.0%)" in response.content


def test_other_users_cannot_see_or_touch_an_execution(finished, other_user, client_for):
    client = client_for(other_user)
    for name in ["execution_detail", "execution_status", "execution_results", "execution_chart"]:
        assert client.get(reverse(name, args=[finished.execution_id])).status_code == 404, name
    assert client.get(reverse("execution_download", args=[finished.execution_id, "csv"])).status_code == 404
    assert client.post(reverse("execution_cancel", args=[finished.execution_id])).status_code == 404
    assert client.post(reverse("execution_rerun", args=[finished.execution_id])).status_code == 404


def test_list_filters_and_query_count_is_independent_of_rows(user, make_instance, make_workflow, client_for):
    instance, workflow = make_instance(user), make_workflow(user)
    client = client_for(user)

    def make(n, status):
        Execution.objects.bulk_create(
            [
                Execution(
                    owner=user,
                    instance=instance,
                    workflow=workflow,
                    status=status,
                    execution_id=f"exec_{status[:3]}{i:08d}",
                )
                for i in range(n)
            ]  # fmt: skip
        )

    make(5, "failed")
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("execution_list"))
    make(200, "succeeded")
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("execution_list"))
    # A first page holding every row is its own count; past one page, one capped COUNT whatever the rows.
    assert len(many) == len(few) + 1
    assert b"205 in all" in response.content and b"Older" in response.content
    make(300, "cancelled")
    with CaptureQueriesContext(connection) as more:
        client.get(reverse("execution_list"))
    assert len(more) == len(many)
    failed = client.get(reverse("execution_list"), {"status": "failed"}, HTTP_HX_REQUEST="true")
    assert failed.content.count(b"badge status-failed") == 5 and b"<html" not in failed.content
    dated = client.get(reverse("execution_list"), {"created_from": datetime.now(UTC).date().isoformat()})
    assert b"505 in all" in dated.content
