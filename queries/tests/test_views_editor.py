"""The editor: plain-form behaviour, live diagnostics, parameters and preview, formatting and the AMC dry run."""

import json
import re

import pytest
from django.urls import reverse

from queries.models import DataSource, SchemaField, Workflow, WorkflowSync
from queries.services import sql_hash
from recomamp.amc import errors as amc_errors

pytestmark = pytest.mark.django_db

VALID_SQL = "SELECT campaign, COUNT(DISTINCT user_id) AS reach\nFROM dsp_impressions\nGROUP BY campaign"
BAD_SQL = "SELECT campaign,\n  SUM(impresions) AS impressions\nFROM dsp_impressions\nGROUP BY campaign"


@pytest.fixture(autouse=True)
def catalog(db):
    source = DataSource.objects.create(schema_id="dsp-impressions", name="DSP impressions",
                                       table_name="dsp_impressions", category="DSP")  # fmt: skip
    columns = [
        ("campaign", "STRING", "dimension", "LOW"), ("user_id", "STRING", "dimension", "VERY_HIGH"),
        ("impressions", "LONG", "metric", "NONE"), ("campaign_id_string", "STRING", "dimension", "LOW"),
    ]  # fmt: skip
    for position, (name, data_type, kind, threshold) in enumerate(columns):
        SchemaField.objects.create(data_source=source, name=name, data_type=data_type, kind=kind, threshold=threshold,
                                   position=position)  # fmt: skip
    return source


def live(client, **data):
    return client.post(reverse("editor_live"), data, HTTP_HX_REQUEST="true")


def diagnostics_of(html: str) -> list[dict]:
    found = re.search(r'<script id="diagnostics-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_new_editor_is_a_plain_form_enhanced_by_our_own_scripts(user_client):
    html = user_client.get(reverse("query_editor")).content.decode()
    assert '<form id="editor-form" method="post"' in html and '<textarea name="sql"' in html
    assert "dist/editor.js" in html and "django-mirror" not in html
    assert f'formaction="{reverse("execution_run")}"' in html
    # CSP: every script is a file of ours or JSON data; no inline handlers or styles.
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son\w+=", html) and " style=" not in html


def test_live_validation_reports_line_and_column(user_client):
    response = live(user_client, sql=BAD_SQL)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    found = diagnostics_of(html)
    assert found and found[0]["severity"] == "error" and (found[0]["line"], found[0]["column"]) == (2, 7)
    assert 'data-jump-line="2" data-jump-column="7"' in html and "impresions" in html


def test_live_validation_is_quiet_for_a_valid_query(user_client):
    html = live(user_client, sql=VALID_SQL).content.decode()
    assert diagnostics_of(html) == [] and "No problems found." in html


def test_the_same_diagnostics_render_without_javascript(user_client):
    response = user_client.post(reverse("query_editor"), {"sql": BAD_SQL, "action": "validate"})
    html = response.content.decode()
    assert "<html" in html and "Line 2, column 7" in html
    assert "This field is required" not in html  # checking does not complain about the unsaved name


def test_parameters_become_a_typed_form_with_a_preview(user_client):
    sql = ("SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions\n"
           "WHERE campaign_id_string IN ({{campaign_ids}}) AND impressions > CUSTOM_PARAMETER('min_impressions')\n"
           "GROUP BY campaign")  # fmt: skip
    html = live(user_client, sql=sql, param_campaign_ids="c1, c2", param_min_impressions="5",
                ptype_min_impressions="integer").content.decode()  # fmt: skip
    assert 'id="parameter-panel" class="card" hx-swap-oob="true"' in html
    assert 'name="ptype_campaign_ids"' in html and '<option value="campaign_list" selected>' in html
    assert 'type="number" name="param_min_impressions"' in html
    assert "IN (&#x27;c1&#x27;, &#x27;c2&#x27;)" in html  # the exact SQL, escaped
    assert "&quot;parameterValues&quot;: {\n    &quot;min_impressions&quot;: 5" in html
    assert "&quot;timeWindowType&quot;: &quot;EXPLICIT&quot;" in html


def test_an_injection_attempt_in_an_id_list_is_a_field_error(user_client):
    sql = "SELECT campaign FROM dsp_impressions WHERE campaign_id_string IN ({{campaign_ids}}) GROUP BY campaign"
    html = live(user_client, sql=sql, param_campaign_ids="1'); DROP TABLE users; --").content.decode()
    assert "is not a valid id" in html and 'class="field-error"' in html
    assert "DROP TABLE users; --)" not in html  # never substituted into the preview
    saved = user_client.post(reverse("query_editor"), {"name": "X", "status": "draft", "sql": sql, "action": "save",
                                                       "param_campaign_ids": "1'); DROP TABLE users; --"})  # fmt: skip
    assert saved.status_code == 200 and not Workflow.objects.exists()


def test_saving_a_new_query_and_then_an_edit(user_client, user, make_instance):
    sql = "SELECT campaign FROM dsp_impressions WHERE campaign_id_string IN ({{campaign_ids}}) GROUP BY campaign"
    response = user_client.post(reverse("query_editor"), {
        "name": "Campaigns", "description": "", "tags": "dsp, weekly, dsp", "status": "active", "sql": sql,
        "action": "save", "param_campaign_ids": "a1,b2", "ptype_campaign_ids": "id_list",
    })  # fmt: skip
    workflow = Workflow.objects.get(owner=user)
    assert response["Location"] == reverse("workflow_edit", args=[workflow.workflow_id])
    assert workflow.tags == ["dsp", "weekly"] and workflow.status == "active"
    assert workflow.parameters == [
        {"name": "campaign_ids", "type": "id_list", "default": ["a1", "b2"], "label": "", "required": True}
    ]

    instance = make_instance(user)
    WorkflowSync.objects.create(workflow=workflow, instance=instance, sql_hash=sql_hash(workflow.sql))
    edited = sql + "\nLIMIT 10"
    user_client.post(reverse("workflow_edit", args=[workflow.workflow_id]), {
        "name": "Campaigns v2", "tags": "", "status": "active", "sql": edited, "action": "save",
        "param_campaign_ids": "a1", "editing": workflow.workflow_id,
    })  # fmt: skip
    workflow.refresh_from_db()
    assert workflow.name == "Campaigns v2" and workflow.sql == edited and workflow.parameters[0]["default"] == ["a1"]
    assert WorkflowSync.objects.get(workflow=workflow).state == WorkflowSync.State.OUTDATED


def test_saving_needs_a_name(user_client):
    response = user_client.post(reverse("query_editor"), {"sql": VALID_SQL, "status": "draft", "action": "save"})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert not Workflow.objects.exists()


def test_editing_a_saved_query_shows_its_sql_and_jumps_to_an_error(user_client, user, make_workflow):
    workflow = make_workflow(user)
    html = user_client.get(reverse("workflow_edit", args=[workflow.workflow_id]), {"line": "3", "column": "4"})
    text = html.content.decode()
    assert "COUNT(DISTINCT user_id) AS reach" in text
    assert 'data-jump-line="3" data-jump-column="4"' in text and "line 3, column 4" in text
    assert f'name="editing" value="{workflow.workflow_id}"' in text


def test_live_endpoint_checks_ownership_of_the_edited_workflow(user_client, other_user, make_workflow):
    theirs = make_workflow(other_user)
    assert live(user_client, sql=VALID_SQL, editing=theirs.workflow_id).status_code == 404


def test_format_endpoint_and_plain_form_formatting(user_client):
    sql = "select campaign,count(*) n from dsp_impressions where campaign_id_string in ({{ids}}) group by campaign"
    data = user_client.post(reverse("editor_format"), {"sql": sql}).json()
    assert data["sql"].startswith("SELECT\n") and "{{ids}}" in data["sql"]
    broken = user_client.post(reverse("editor_format"), {"sql": "SELECT FROM ("})
    assert broken.status_code == 422 and "does not parse" in broken.json()["error"]
    page = user_client.post(reverse("query_editor"), {"sql": sql, "action": "format"}).content.decode()
    assert "SELECT\n  campaign," in page


class FakeExecution:
    status, status_reason = "SUCCEEDED", None


class FakeClient:
    def __init__(self, error=None):
        self.error, self.calls = error, []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def create_execution(self, instance, body):
        self.calls.append((instance, body["workflow"]["sqlQuery"], body))
        if self.error:
            raise self.error
        return FakeExecution()


@pytest.fixture
def fake_amc(monkeypatch):
    clients = []

    def install(error=None):
        def factory(user, region):
            clients.append(FakeClient(error))
            return clients[-1]

        monkeypatch.setattr("queries.views.editor.amc_client_for", factory)
        return clients

    return install


def test_check_with_amc_runs_a_dry_run(user_client, user, make_instance, fake_amc):
    clients = fake_amc()
    instance = make_instance(user)
    html = user_client.post(reverse("editor_check"), {"sql": VALID_SQL, "check-instance": instance.pk},
                            HTTP_HX_REQUEST="true").content.decode()  # fmt: skip
    assert "AMC accepted the query." in html and "SUCCEEDED" in html
    sent_instance, sent_sql, body = clients[0].calls[0]
    assert sent_instance == instance and sent_sql == VALID_SQL and body["dryRun"] is True


def test_check_with_amc_shows_the_compile_error_position(user_client, user, make_instance, fake_amc):
    fake_amc(amc_errors.AMCValidationError("AMC rejected it", compile_message="Column 'x' cannot be resolved",
                                           line=2, column=3))  # fmt: skip
    instance = make_instance(user)
    page = user_client.post(reverse("query_editor"), {"sql": VALID_SQL, "action": "check",
                                                      "check-instance": instance.pk}).content.decode()  # fmt: skip
    assert "Column &#x27;x&#x27; cannot be resolved" in page and 'data-jump-line="2" data-jump-column="3"' in page


def test_check_with_amc_refuses_another_users_instance(user_client, other_user, make_instance, fake_amc):
    clients = fake_amc()
    theirs = make_instance(other_user)
    html = user_client.post(reverse("editor_check"), {"sql": VALID_SQL, "check-instance": theirs.pk},
                            HTTP_HX_REQUEST="true").content.decode()  # fmt: skip
    assert "Choose one of your active instances." in html and clients == []
