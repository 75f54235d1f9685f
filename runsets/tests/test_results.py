"""Combined results, downloads, pages over HTTP, and Snowflake delivery per cell, against the sandbox."""

import csv
import io
import json
from collections import Counter

import duckdb
import fakesnow
import pytest
import snowflake.connector
from django.urls import reverse

from executions.models import Execution, SnowflakeConfig
from instances.models import AMCInstance
from queries.models import Workflow
from runsets import combined, services
from runsets.models import Cell, RunSet

from .helpers import SQL, drain, weeks

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result:UserWarning"),
]


@pytest.fixture
def finished(connected_user):
    workflow = Workflow.objects.create(owner=connected_user, name="Reach by campaign", sql=SQL)
    instances = list(AMCInstance.objects.filter(owner=connected_user).order_by("pk"))[:2]
    run_set = services.create_run_set(
        owner=connected_user, workflow=workflow, instances=instances, planned=weeks(3), start=False
    )
    return drain(run_set)


def cell_rows(run_set):
    """The union of the cells' own stored results, each row tagged (instance, first day, last day)."""
    rows = []
    for cell in run_set.cells.select_related("execution__result", "instance"):
        with cell.execution.result.file.open("rb") as handle:
            reader = csv.reader(io.TextIOWrapper(handle, encoding="utf-8"))
            next(reader)
            for row in reader:
                rows.append((cell.instance.instance_id, cell.first_day.isoformat(), cell.last_day.isoformat(), *row))
    return rows


def test_the_combined_table_is_the_union_of_the_cells(finished):
    expected = cell_rows(finished)
    assert len(expected) > 0
    table = combined.combine(services.result_parts(finished))
    assert table.total_rows == len(expected) and not table.left_out
    page = combined.read_page(table, page=1, page_size=500)
    got = [tuple(str(v) for v in row) for row in page.rows]
    assert Counter(got) == Counter(expected)
    by_reach = combined.read_page(table, page=1, page_size=5, sort="reach", descending=True)
    reaches = [row[-1] for row in by_reach.rows]
    assert reaches == sorted(reaches, reverse=True)
    with pytest.raises(combined.CombinedError):
        combined.read_page(table, sort="nope")


def test_downloads_csv_json_parquet_over_http(finished, client):
    client.force_login(finished.owner)
    expected = cell_rows(finished)
    body = b"".join(client.get(reverse("runset_download", args=[finished.run_set_id, "csv"])).streaming_content)
    lines = list(csv.reader(io.StringIO(body.decode())))
    assert lines[0] == ["instance", "window_start", "window_end", "campaign", "impressions", "reach"]
    assert Counter(map(tuple, lines[1:])) == Counter(expected)
    body = b"".join(client.get(reverse("runset_download", args=[finished.run_set_id, "json"])).streaming_content)
    objects = json.loads(body)
    assert len(objects) == len(expected) and isinstance(objects[0]["impressions"], int)
    response = client.get(reverse("runset_download", args=[finished.run_set_id, "parquet"]))
    data = b"".join(response.streaming_content)
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM read_parquet($p)", {"p": _write(data)})
    assert con.execute("SELECT count(*), sum(impressions) FROM t").fetchone() == (
        len(expected), sum(int(row[4]) for row in expected)
    )  # fmt: skip


def _write(data: bytes) -> str:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".parquet", delete=False) as handle:
        handle.write(data)
    return handle.name


def test_pages_of_a_run_set_over_http(finished, client):
    client.force_login(finished.owner)
    detail = client.get(reverse("runset_detail", args=[finished.run_set_id]))
    assert detail.status_code == 200 and detail.content.decode().count('data-state="succeeded"') == 6
    assert client.get(reverse("runset_grid", args=[finished.run_set_id])).status_code == 286  # polling stops
    results = client.get(reverse("runset_results", args=[finished.run_set_id]) + "?sort=impressions&dir=desc")
    assert results.status_code == 200 and b"combined-table" in results.content
    assert client.get(reverse("runset_results", args=[finished.run_set_id]) + "?sort=x").status_code == 400


def test_creating_from_the_form_starts_cells(connected_user, client, settings):
    settings.SANDBOX_PENDING_SECONDS = 600
    client.force_login(connected_user)
    workflow = Workflow.objects.create(owner=connected_user, name="Reach", sql=SQL)
    instances = list(AMCInstance.objects.filter(owner=connected_user).order_by("pk"))[:2]
    form = client.get(reverse("runset_create") + f"?workflow={workflow.workflow_id}")
    assert form.status_code == 200
    response = client.post(reverse("runset_create"), {
        "workflow": workflow.workflow_id, "instances": [i.pk for i in instances], "period": "week", "mode": "range",
        "start_date": "2025-11-03", "end_date": "2025-11-30", "timezone": "UTC", "lag_days": 2, "order": "oldest",
        "max_in_flight": 3, "parameters": "",
    })  # fmt: skip
    assert response.status_code == 302
    run_set = RunSet.objects.get(owner=connected_user)
    assert run_set.cells.count() == 8
    assert run_set.cells.filter(status=Cell.Status.SUBMITTED).count() == 6  # 3 per instance started at once
    bad = client.post(reverse("runset_create"), {"workflow": workflow.workflow_id, "instances": [instances[0].pk],
                                                  "period": "week", "mode": "range", "start_date": "2025-11-30",
                                                  "end_date": "2025-11-01", "timezone": "UTC", "lag_days": 2,
                                                  "order": "oldest", "max_in_flight": 3})  # fmt: skip
    assert bad.status_code == 200 and b"before the start date" in bad.content


def test_snowflake_rows_are_keyed_by_instance_and_window_and_a_rerun_updates(connected_user):
    with fakesnow.patch():
        config = SnowflakeConfig(owner=connected_user, account="acme-test", user="LOADER", warehouse="WH",
                                 database="ANALYTICS", schema="AMC")  # fmt: skip
        config.password = "pw"  # noqa: S105
        config.save()
        workflow = Workflow.objects.create(owner=connected_user, name="Reach", sql=SQL)
        instances = list(AMCInstance.objects.filter(owner=connected_user).order_by("pk"))[:2]
        run_set = services.create_run_set(
            owner=connected_user, workflow=workflow, instances=instances, planned=weeks(2), start=False,
            snowflake_table="weekly_reach",
        )  # fmt: skip
        drain(run_set)
        first = sf_rows()
        assert len(first) == len(cell_rows(run_set))
        keys = Counter((r[0], r[1], r[2]) for r in first)  # campaign, instance, window start
        assert max(keys.values()) == 1 and len({(r[1], r[2]) for r in first}) == 4
        cell = run_set.cells.order_by("pk").first()
        old_execution = cell.execution.execution_id
        assert services.rerun_cells(run_set, [cell.pk]) == 1
        drain(run_set)
        again = sf_rows()
        assert len(again) == len(first)  # updated in place, not duplicated
        cell.refresh_from_db()
        assert cell.execution.execution_id != old_execution
        assert {
            r[3] for r in again if r[1] == cell.instance.instance_id and r[2] == cell.window_start.replace(tzinfo=None)
        } == {cell.execution.execution_id}
        assert Execution.objects.count() == 5


def sf_rows():
    conn = snowflake.connector.connect(account="acme-test", user="LOADER", database="ANALYTICS", schema="AMC")
    cursor = conn.cursor()
    cursor.execute(
        'SELECT "CAMPAIGN", "AMC_INSTANCE_ID", "TIME_WINDOW_START", "EXECUTION_ID" '
        'FROM "ANALYTICS"."AMC"."WEEKLY_REACH"'
    )
    return cursor.fetchall()
