"""Comparing two runs row by row: added, removed and changed rows with deltas, non-additive metrics never summed,
paging, escaping, owner scoping; and two real runs of one query against the sandbox over HTTP."""

import csv
import io
from datetime import UTC, datetime

import httpx
import pytest
from django.urls import reverse

from executions import services
from executions.comparison import compare_results
from executions.models import Execution
from executions.results.export import iter_rows
from executions.results.ingest import store_result
from executions.tests.test_execution_flow import SQL, WINDOW, drive
from queries.models import Workflow
from queries.versions import record_version


def stored(owner, instance, workflow, header, rows) -> Execution:
    """A succeeded execution whose result is the given CSV (stored by the real ingest path)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    body = buffer.getvalue().encode()
    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body)))
    execution = Execution.objects.create(owner=owner, instance=instance, workflow=workflow,
                                         status=Execution.Status.SUCCEEDED)  # fmt: skip
    store_result(execution, ["https://results.example.com/r.csv"], http=http)
    return Execution.objects.select_related("result").get(pk=execution.pk)


HEADER = ["campaign", "campaign_id", "impressions", "reach", "ctr"]
FIRST = [["Alpha", "11", "100", "40", "0.5"], ["Beta", "12", "200", "80", "1.25"], ["Gamma", "13", "300", "90", "2"],
         ["<b>Delta</b>", "14", "10", "5", "0.1"]]  # fmt: skip
SECOND = [["Alpha", "11", "100", "40", "0.5"], ["Beta", "12", "260", "70", "1.25"], ["Epsilon", "15", "50", "20", "3"],
          ["<b>Delta</b>", "14", "0", "5", "0.1"]]  # fmt: skip


@pytest.fixture
def pair(db, settings, tmp_path, user, make_instance, make_workflow):
    settings.MEDIA_ROOT = tmp_path
    instance, workflow = make_instance(user), make_workflow(user)
    return stored(user, instance, workflow, HEADER, FIRST), stored(user, instance, workflow, HEADER, SECOND)


def by_key(comparison):
    return {row.keys[0]: row for row in comparison.rows}


def test_rows_are_matched_by_dimensions_with_deltas_and_percentages(pair):
    comparison = compare_results(*pair, show="all")
    assert comparison.dimensions == ["campaign", "campaign_id"]  # an id column is a dimension, not a metric
    assert [m.name for m in comparison.metrics] == ["impressions", "reach", "ctr"]
    assert comparison.counts == {"changed": 2, "added": 1, "removed": 1, "unchanged": 1}
    rows = by_key(comparison)
    assert {k: r.status for k, r in rows.items()} == {
        "Alpha": "unchanged", "Beta": "changed", "Gamma": "removed", "Epsilon": "added", "<b>Delta</b>": "changed"
    }  # fmt: skip
    beta = rows["Beta"].cells
    assert (beta[0].a, beta[0].b, beta[0].change, beta[0].percent) == (200, 260, 60, 30.0)
    assert (beta[1].change, round(beta[1].percent, 1)) == (-10, -12.5)
    assert rows["<b>Delta</b>"].cells[0].percent == -100.0
    assert rows["Gamma"].cells[0].b is None and rows["Gamma"].cells[0].change is None
    assert rows["Epsilon"].cells[0].a is None and rows["Epsilon"].keys == ["Epsilon", 15]
    assert [r.status for r in comparison.rows] == ["changed", "changed", "added", "removed", "unchanged"]


def test_only_additive_metrics_are_totalled(pair):
    comparison = compare_results(*pair)
    assert [(t.name, t.a, t.b, t.change) for t in comparison.totals] == [("impressions", 610, 410, -200)]
    assert comparison.non_additive == ["reach", "ctr"]  # distinct users and a rate: per row only


def test_the_default_shows_differences_and_a_metric_orders_by_its_largest_change(pair):
    differences = compare_results(*pair)
    assert differences.show == "differences" and {r.status for r in differences.rows} == {"changed", "added", "removed"}
    ordered = compare_results(*pair, show="all", sort="impressions")
    assert [r.keys[0] for r in ordered.rows][:2] == ["Gamma", "Beta"]  # |−300| then |+60|
    assert compare_results(*pair, sort="nope; DROP TABLE x").sort == ""


def test_repeated_dimensions_are_matched_in_order_and_said(db, settings, tmp_path, user, make_instance):
    settings.MEDIA_ROOT = tmp_path
    instance = make_instance(user)
    a = stored(user, instance, None, ["campaign", "impressions"], [["A", "1"], ["A", "2"], ["B", "3"]])
    b = stored(user, instance, None, ["campaign", "impressions"], [["A", "1"], ["A", "5"]])
    comparison = compare_results(a, b, show="all")
    assert comparison.counts == {"changed": 1, "added": 0, "removed": 1, "unchanged": 1}
    assert comparison.repeated_keys == 1 and any("file order" in note for note in comparison.notes)


def test_the_page_is_paged_escaped_and_offers_the_query_runs(pair, client):
    a, b = pair
    client.force_login(a.owner)
    url = reverse("execution_compare")
    html = client.get(url, {"a": a.execution_id, "b": b.execution_id, "show": "all"}).content.decode()
    assert "<b>Delta</b>" not in html and "&lt;b&gt;Delta&lt;/b&gt;" in html
    assert 'data-testid="not-summed"' in html and "impressions (total)" in html and "(-32.8%)" in html
    assert html.count('data-status="') == 5 and 'data-testid="compare-form"' in html
    assert f'<option value="{a.execution_id}" selected>' in html
    many = compare_results(a, b, show="all", page=2, page_size=2)
    assert (many.page, many.page_count, len(many.rows)) == (2, 3, 2)
    picker = client.get(url, {"workflow": a.workflow.workflow_id}).content.decode()
    assert picker.count('<option value="exec_') == 4 and 'data-testid="comparison"' not in picker


def test_other_users_cannot_compare_or_list_runs(pair, client, other_user):
    a, b = pair
    client.force_login(other_user)
    url = reverse("execution_compare")
    assert client.get(url, {"a": a.execution_id, "b": b.execution_id}).status_code == 404
    assert client.get(url, {"workflow": a.workflow.workflow_id}).status_code == 404
    own = client.get(url)
    assert own.status_code == 200 and a.execution_id.encode() not in own.content


@pytest.mark.django_db(transaction=True)
def test_two_sandbox_runs_of_a_query_compare_with_the_stored_numbers(connected_user, demo_instance, client):
    workflow = Workflow.objects.create(owner=connected_user, name="Reach", sql=SQL)
    record_version(workflow, user=connected_user)
    first = drive(services.start_execution(owner=connected_user, instance=demo_instance, workflow=workflow,
                                           window=WINDOW, submit=False))  # fmt: skip
    october = services.WindowSpec("EXPLICIT", datetime(2025, 10, 1, tzinfo=UTC), datetime(2025, 11, 1, tzinfo=UTC))
    second = drive(services.start_execution(owner=connected_user, instance=demo_instance, workflow=workflow,
                                            window=october, submit=False))  # fmt: skip
    assert first.status == second.status == Execution.Status.SUCCEEDED
    comparison = compare_results(first, second, show="all", page_size=500)
    a = {row[0]: row[1:] for row in iter_rows(first.result)}
    b = {row[0]: row[1:] for row in iter_rows(second.result)}
    assert comparison.counts["added"] == len(b.keys() - a.keys())
    assert comparison.counts["removed"] == len(a.keys() - b.keys())
    for row in comparison.rows:
        campaign = row.keys[0]
        if row.status in ("changed", "unchanged"):
            assert [row.cells[0].a, row.cells[0].b] == [a[campaign][0], b[campaign][0]]
            assert row.cells[1].change == b[campaign][1] - a[campaign][1]
    assert comparison.totals[0].name == "impressions" and len(comparison.totals) == 1
    assert comparison.totals[0].a == sum(v[0] for v in a.values())
    client.force_login(connected_user)
    page = client.get(reverse("execution_compare"), {"a": first.execution_id, "b": second.execution_id})
    assert page.status_code == 200 and b'data-testid="version-badge"' in page.content
