"""The workbench on the editor page: runs in place over real HTTP to the sandbox, the run bar's defaults and
memory, errors that block a run and warnings that ask once, the query's history and readable result tables."""

import re

import pytest
from django.urls import reverse

from executions import workbench
from executions.models import Execution
from executions.tests.test_execution_flow import drive
from instances.models import AMCInstance

pytestmark = pytest.mark.django_db(transaction=True)

SQL = "SELECT campaign, COUNT(*) AS impressions\nFROM dsp_impressions\nGROUP BY campaign"
ERROR_SQL = SQL + "\nLIMIT 10"  # AMC rejects LIMIT in the final SELECT: an error
WARNING_SQL = (
    "SELECT campaign, COUNT(*) AS impressions, NTILE(4) OVER (ORDER BY COUNT(*)) AS quartile\n"
    "FROM dsp_impressions\nGROUP BY campaign"
)  # NTILE is reported not to work in AMC: a warning, not an error


def bar(instance, **extra):
    return {
        "wb-instance": str(instance.pk),
        "wb-window_type": "EXPLICIT",
        "wb-start_date": "2025-11-01",
        "wb-end_date": "2025-11-30",
        "wb-timezone": "UTC",
        **extra,
    }


@pytest.fixture
def analyst(client, connected_user):
    client.force_login(connected_user)
    return client


def test_a_run_from_the_editor_of_a_saved_query_is_that_querys_run(analyst, demo_instance, make_workflow):
    workflow = make_workflow(demo_instance.owner, sql=SQL)
    edited = SQL.replace("campaign", "campaign ", 1)  # unsaved edits still belong to the query
    response = analyst.post(
        reverse("workbench_run"), {**bar(demo_instance), "sql": edited, "editing": workflow.workflow_id}
    )
    assert response.status_code == 200
    execution = Execution.objects.get()
    assert execution.workflow == workflow
    assert execution.sql_sent == edited
    assert execution.query_version is None  # unsaved SQL is no saved version
    assert "workflow" in execution.request_body  # changed SQL is sent ad hoc (queries/amc_request.py)
    html = response.content.decode()
    assert 'data-testid="workbench-status"' in html and 'hx-trigger="every 2s"' in html
    assert "Nov 1–30, 2025" in html  # the window in words

    done = drive(execution)
    assert done.status == Execution.Status.SUCCEEDED, done.error_message
    pane = analyst.get(reverse("workbench_pane", args=[done.execution_id])).content.decode()
    assert "every 2s" not in pane  # polling stops at a terminal state
    assert reverse("execution_results", args=[done.execution_id]) + "?embed=1" in pane
    assert "Download CSV" in pane

    history = analyst.get(reverse("workbench_history", args=[workflow.workflow_id])).content.decode()
    assert done.execution_id in history and "Succeeded" in history
    assert demo_instance.owner.email in history
    assert f"{done.result.row_count:,}" in history
    assert 'data-testid="workbench-compare"' in history


def test_saved_query_run_with_unchanged_sql_runs_by_its_workflow_id(analyst, demo_instance, make_workflow):
    workflow = make_workflow(demo_instance.owner, sql=SQL)
    response = analyst.post(
        reverse("workbench_run"), {**bar(demo_instance), "sql": SQL, "editing": workflow.workflow_id}
    )
    assert response.status_code == 200
    execution = Execution.objects.get()
    assert execution.workflow == workflow and execution.request_body["workflowId"] == workflow.workflow_id


def test_errors_block_the_run_with_the_reason(analyst, demo_instance):
    response = analyst.post(reverse("workbench_run"), {**bar(demo_instance), "sql": ERROR_SQL})
    assert response.status_code == 422
    assert response.json()["error"].startswith("Not run: Line 4, column 1")
    assert not Execution.objects.exists()


def test_warnings_ask_once_then_run(analyst, demo_instance):
    response = analyst.post(reverse("workbench_run"), {**bar(demo_instance), "sql": WARNING_SQL})
    assert response.status_code == 409
    assert any("NTILE" in w for w in response.json()["warnings"])
    assert not Execution.objects.exists()
    confirmed = analyst.post(reverse("workbench_run"), {**bar(demo_instance), "sql": WARNING_SQL, "confirm": "1"})
    assert confirmed.status_code == 200
    assert Execution.objects.get().workflow is None  # a new, unsaved query runs ad hoc


def test_bad_input_is_refused_at_the_run_button(analyst, demo_instance):
    response = analyst.post(reverse("workbench_run"), {**bar(demo_instance, **{"wb-instance": ""}), "sql": SQL})
    assert response.status_code == 422 and response.json()["error"] == "Choose an instance to run on."
    response = analyst.post(
        reverse("workbench_run"), {**bar(demo_instance, **{"wb-end_date": "2025-10-01"}), "sql": SQL}
    )
    assert response.status_code == 422 and "must not be before" in response.json()["error"]


def test_the_bar_remembers_the_last_instance_and_window(analyst, demo_instance):
    analyst.post(reverse("workbench_run"), {**bar(demo_instance, **{"wb-window_type": "PREVIOUS_MONTH"}), "sql": SQL})
    html = analyst.get(reverse("workbench_bar")).content.decode()
    assert re.search(rf'<option value="{demo_instance.pk}" selected>', html)
    assert '<option value="PREVIOUS_MONTH" selected>' in html


def test_default_instance_prefers_sandbox_and_never_production_by_alphabet(connected_user, demo_instance):
    production = AMCInstance.objects.create(
        owner=connected_user, account=demo_instance.account, instance_id="aaa-prod", name="AAA production"
    )
    AMCInstance.objects.filter(owner=connected_user).exclude(pk__in=[production.pk, demo_instance.pk]).delete()
    AMCInstance.objects.filter(pk=demo_instance.pk).update(is_sandbox=True)
    assert workbench.default_instance(connected_user, {}) == demo_instance
    AMCInstance.objects.filter(pk=demo_instance.pk).update(is_sandbox=False)
    assert workbench.default_instance(connected_user, {}) is None  # ask, rather than pick "AAA production"
    form = workbench.bar_form(connected_user, {})
    assert '<option value="" selected>Choose an instance</option>' in str(form["instance"])
    assert workbench.default_instance(connected_user, {"instance": str(production.pk)}) == production


def test_results_table_is_readable_and_embeddable(analyst, demo_instance):
    analyst.post(reverse("workbench_run"), {**bar(demo_instance), "sql": SQL})
    done = drive(Execution.objects.get())
    url = reverse("execution_results", args=[done.execution_id])
    html = analyst.get(url, {"embed": "1", "size": "25"}, HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<div id="result-table"')
    assert 'hx-push-url="false"' in html and f"{url}?size=25&amp;embed=1&amp;sort=" in html
    assert '<td class="num" title="' in html
    assert '<option value="25" selected>' in html
    assert html.count('class="pager result-pager"') == 1 + (done.result.row_count > 25)
    full = analyst.get(url).content.decode()
    assert 'hx-push-url="true"' in full and "workbench.css" in full


def test_the_editors_run_dialog_also_files_the_run_under_the_query(analyst, demo_instance, make_workflow):
    workflow = make_workflow(demo_instance.owner, sql=SQL)
    edited = SQL.replace("COUNT(*)", "COUNT(1)")
    url = reverse("execution_run") + f"?workflow={workflow.workflow_id}"
    dialog = analyst.post(url, {"sql": edited, "editing": workflow.workflow_id, "action": "run"}).content.decode()
    assert '<input type="hidden" name="sql"' in dialog  # the typed SQL travels on to the run
    form = {"sql": edited, "instance": demo_instance.pk, "window_type": "EXPLICIT", "start_date": "2025-11-01",
            "end_date": "2025-11-30", "timezone": "UTC", "timeout_minutes": "360"}  # fmt: skip
    response = analyst.post(url, form)
    execution = Execution.objects.get()
    assert response.status_code == 302 and execution.workflow == workflow and execution.sql_sent == edited


def test_an_empty_result_keeps_amcs_column_types_and_says_why_it_may_be_empty(analyst, demo_instance):
    from executions import services
    from executions.tests.test_execution_flow import WINDOW

    sql = SQL.replace("GROUP BY", "WHERE campaign = 'no such campaign'\nGROUP BY")
    done = drive(services.start_execution(owner=demo_instance.owner, instance=demo_instance, sql=sql, window=WINDOW))
    assert done.status == Execution.Status.SUCCEEDED and done.result.row_count == 0
    assert done.result.columns == [{"name": "campaign", "type": "string"}, {"name": "impressions", "type": "integer"}]
    html = analyst.get(reverse("execution_results", args=[done.execution_id])).content.decode()
    assert 'class="num"' in html and "privacy threshold" in html


def test_a_saved_query_opens_with_its_latest_run_and_a_run_can_be_cancelled_in_place(
    analyst, demo_instance, make_workflow, settings
):
    workflow = make_workflow(demo_instance.owner, sql=SQL)
    latest = reverse("workbench_latest", args=[workflow.workflow_id])
    assert analyst.get(latest).status_code == 204  # no run yet: the pane keeps its hint
    settings.SANDBOX_RUNNING_SECONDS = 600  # still running on AMC when cancelled
    analyst.post(reverse("workbench_run"), {**bar(demo_instance), "sql": SQL, "editing": workflow.workflow_id})
    execution = Execution.objects.get()
    pane = analyst.get(latest).content.decode()
    assert execution.execution_id in pane and "Cancel run" in pane
    cancelled = analyst.post(reverse("workbench_cancel", args=[execution.execution_id])).content.decode()
    execution.refresh_from_db()
    assert execution.status == Execution.Status.CANCELLED
    assert "Cancelled" in cancelled and "every 2s" not in cancelled


def test_the_executions_list_shows_the_window_once_in_words(analyst, demo_instance):
    analyst.post(reverse("workbench_run"), {**bar(demo_instance), "sql": SQL})
    html = analyst.get(reverse("execution_list")).content.decode()
    assert ">Nov 1–30, 2025</span>" in html  # the last day read, not the exclusive end (Dec 1)
    assert "timeWindowStart=2025-11-01T00:00:00" in html  # what was sent, on demand
