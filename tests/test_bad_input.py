"""Regression tests for the outside probe's findings (docs/reliability.md, Security): each answer is a 4xx or
a form error with the reason, never a 500, and nothing is written."""

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from executions.models import Execution, ExecutionResult
from queries.models import Workflow
from schedules.models import Schedule

pytestmark = pytest.mark.django_db

MARKUP = "<img src=x onerror=alert(1)>"


@pytest.fixture
def probe(user):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.fixture
def execution_with_result(user, make_instance, make_workflow, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    execution = Execution.objects.create(owner=user, instance=make_instance(user), workflow=make_workflow(user),
                                         status="succeeded")  # fmt: skip
    result = ExecutionResult(execution=execution, columns=[{"name": "campaign", "type": "string"}], row_count=2)
    result.file.save("r.csv", ContentFile(b'campaign\n"=HYPERLINK(""http://evil.example"",""x"")"\nplain\n'))
    return execution


def test_an_unknown_sort_column_is_answered_escaped(probe, execution_with_result):
    url = reverse("execution_results", args=[execution_with_result.execution_id])
    response = probe.get(url, {"sort": MARKUP})
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert MARKUP not in body and "&lt;img src=x" in body


def test_no_view_builds_an_http_response_from_interpolated_text():
    """The class behind the reflected markup: error text reaches a response only through a template,
    JSON, or text/plain, never as `HttpResponse(f"...")` / `HttpResponse(str(exc))` (HTML by default)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    offenders = []
    for path in root.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            name = getattr(node.func, "id", "") if isinstance(node, ast.Call) else ""
            if name.startswith("HttpResponse") and name != "HttpResponseRedirect" and node.args:
                if not isinstance(node.args[0], ast.Constant):
                    content_type = {k.arg: k.value for k in node.keywords}.get("content_type")
                    # A fixed non-HTML type (text/plain, text/csv, image/svg+xml) is a download, not a page.
                    if not (isinstance(content_type, ast.Constant) and not content_type.value.startswith("text/html")):
                        offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []


@pytest.mark.parametrize(
    "url",
    ["/executions/exec_%00/", "/executions/exec_%00/status/", "/queries/mine/wf_%00/", "/schedules/sched_%00/",
     "/executions/compare/?a=%00&b=%00", "/instances/?q=%00", "/queries/mine/wf_%00/edit/"],
)  # fmt: skip
def test_a_nul_byte_in_an_id_or_search_is_a_400(probe, url):
    response = probe.get(url)
    assert response.status_code == 400 and b"NUL" in response.content


@pytest.mark.parametrize("url", ["/sandbox/amc/instances/%00", "/sandbox/amc/reporting/%00/workflows"])
def test_a_nul_byte_in_a_sandbox_api_path_is_a_400_even_anonymously(url):
    response = Client(raise_request_exception=False).get(url)
    assert response.status_code == 400 and response.json()["code"] == "400"


def test_a_nul_byte_in_posted_sql_is_refused_and_nothing_is_written(probe, user, make_instance):
    make_instance(user)
    response = probe.post(reverse("execution_run"), {"sql": "SELECT 1\x00", "instance": "x"})
    assert response.status_code == 400
    response = probe.post(reverse("query_editor"), {"sql": "SELECT 1", "name": "n\x00", "action": "save"})
    assert response.status_code == 400
    assert Execution.objects.count() == 0 and Workflow.objects.count() == 0


def run_data(instance, **overrides):
    data = {"sql": "SELECT campaign, COUNT(*) AS n FROM dsp_impressions GROUP BY campaign", "instance": instance.pk,
            "window_type": "EXPLICIT", "start_date": "2025-11-01", "end_date": "2025-11-30", "timezone": "UTC",
            "timeout_minutes": 60}  # fmt: skip
    return {**data, **overrides}


@pytest.mark.parametrize(
    "dates",
    [{"end_date": "9999-12-31"}, {"start_date": "0001-01-01"}, {"start_date": "1900-01-01", "end_date": "9999-12-31"}],
)
def test_the_run_form_refuses_absurd_windows_with_the_reason(probe, user, make_instance, dates):
    response = probe.post(reverse("execution_run"), run_data(make_instance(user), **dates))
    assert response.status_code == 200
    assert "Choose a date between 2000-01-01 and 2100-12-31" in response.content.decode()
    assert Execution.objects.count() == 0


def schedule_data(workflow, instance, **overrides):
    data = {"name": "Daily", "workflow": workflow.workflow_id, "instance": str(instance.pk), "kind": "daily",
            "time_of_day": "06:00", "timezone": "UTC", "start_date": "2026-03-05", "is_active": "on",
            "window_kind": "previous_day", "lag_days": "2", "max_retries": "2", "retry_delay_minutes": "15",
            "failure_threshold": "3", "overlap_policy": "skip", "action": "save"}  # fmt: skip
    return {**data, **overrides}


@pytest.mark.parametrize(
    "overrides",
    [{"start_date": "9999-12-31"}, {"window_kind": "fixed", "window_fixed_start": "2026-01-01",
                                    "window_fixed_end": "9999-12-31"}],
)  # fmt: skip
def test_schedules_refuse_absurd_dates_in_the_form_and_the_preview(probe, user, make_instance, make_workflow,
                                                                   overrides):  # fmt: skip
    data = schedule_data(make_workflow(user), make_instance(user), **overrides)
    for name in ("schedule_create", "schedule_preview"):
        response = probe.post(reverse(name), data, HTTP_HX_REQUEST="true")
        assert response.status_code in (200, 400), (name, response.status_code)
    body = probe.post(reverse("schedule_create"), data).content.decode()
    assert "Choose a date between 2000-01-01 and 2100-12-31" in body
    assert Schedule.objects.count() == 0


def test_the_editor_bounds_integer_parameters(probe):
    sql = "SELECT campaign, COUNT(*) AS n FROM dsp_impressions WHERE x > {{n}} GROUP BY campaign"
    for url in (reverse("query_editor"), reverse("editor_live")):
        response = probe.post(url, {"sql": sql, "ptype_n": "integer", "param_n": "9" * 5_000})
        assert response.status_code == 200
        assert "at most 20 digits" in response.content.decode()


def test_deeply_nested_sql_gets_a_diagnostic_not_a_recursion_error(probe):
    sql = "SELECT " + "(" * 20_000
    for url in (reverse("query_editor"), reverse("editor_live")):
        response = probe.post(url, {"sql": sql})
        assert response.status_code == 200 and "more than 32 deep" in response.content.decode()
    assert probe.post(reverse("editor_format"), {"sql": sql}).status_code == 422


def test_page_numbers_are_bounded(probe, execution_with_result):
    url = reverse("execution_results", args=[execution_with_result.execution_id])
    for page in ("9" * 19, "9" * 25, "²", "-5"):
        assert probe.get(url, {"page": page}).status_code == 200


def test_oversize_values_are_refused_at_the_edge(probe):
    assert probe.get(reverse("instance_list"), {"q": "x" * 3_000}).status_code == 400
    assert probe.post(reverse("editor_live"), {"sql": "x" * 250_000}).status_code == 400
    assert probe.get("/queries/mine/" + "w" * 1_200 + "/").status_code == 400


def test_every_csv_we_produce_neutralises_formula_cells(probe, execution_with_result):
    from recomamp.csv_safety import neutralised_csv

    url = reverse("execution_download", args=[execution_with_result.execution_id, "csv"])
    body = b"".join(probe.get(url).streaming_content).decode()
    assert body == 'campaign\n"\'=HYPERLINK(""http://evil.example"",""x"")"\nplain\n'
    assert "".join(neutralised_csv(["n,v\r\n", "-5,+1.5\r\n", "@x,\tcmd\r\n"])) == "n,v\r\n-5,+1.5\r\n'@x,'\tcmd\r\n"


def test_a_nul_escape_in_a_json_body_is_a_400():
    response = Client(raise_request_exception=False).post(
        "/sandbox/amc/reporting/amcabc/workflows", '{"workflowId": "x\\u0000", "sqlQuery": "SELECT 1"}',
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400 and "NUL" in response.json()["details"]


def test_every_date_field_of_ours_is_bounded():
    """New forms inherit the class fix: a plain DateField/DateTimeField would accept the year 9999 again."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    plain = re.compile(r"forms\.(?:Date|DateTime|SplitDateTime)Field\(")
    sources = [path for path in root.glob("*/**/*.py") if ".venv" not in path.parts and "tests" not in path.parts]
    offenders = [str(path.relative_to(root)) for path in sources if plain.search(path.read_text())]
    assert offenders == []
