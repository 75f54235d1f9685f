"""Business rules behind the workspace pages: listing, copies, parameters, formatting, previews and dry runs."""

from datetime import UTC, date, datetime, timedelta

import pytest

from queries import workflow_services as ws
from queries.models import QueryTemplate, Workflow, WorkflowSync
from queries.services import sql_hash
from queries.validation import ParameterDefinition, ParameterError
from recomamp.amc import errors as amc_errors
from recomamp.amc.records import TimeWindow

TEMPLATE_SQL = (
    "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions\n"
    "WHERE campaign_id_string IN ({{campaign_ids}}) AND CAST(event_dt AS DATE) >= '{{start_date}}'\n"
    "GROUP BY campaign LIMIT {{row_limit}}"
)


@pytest.fixture
def template(db):
    return QueryTemplate.objects.create(
        slug="delivery", name="Delivery", category="DSP", tags=["dsp"], sql_template=TEMPLATE_SQL,
        description="Impressions per campaign.", tables=["dsp_impressions"],
        parameters=[
            {"name": "campaign_ids", "type": "id_list", "label": "Campaigns", "required": True},
            {"name": "start_date", "type": "date", "default": "2025-01-01"},
            {"name": "row_limit", "type": "integer", "default": 100, "required": False},
        ],
    )  # fmt: skip


# --- Listing -------------------------------------------------------------------------------------------------------


@pytest.fixture
def listed(user, make_workflow):
    alpha = make_workflow(user, name="Alpha reach")
    beta = make_workflow(user, name="Beta frequency")
    gamma = make_workflow(user, name="Gamma archive")
    alpha.tags, alpha.execution_count, alpha.last_executed_at = ["dsp"], 5, datetime(2025, 3, 1, tzinfo=UTC)
    beta.tags, beta.execution_count, beta.description = ["dsp", "weekly"], 9, "frequency buckets"
    gamma.status = Workflow.Status.ARCHIVED
    for workflow in (alpha, beta, gamma):
        workflow.save()
    return alpha, beta, gamma


def _names(queryset):
    return [w.name for w in queryset]


def test_archived_queries_only_show_when_asked_for(listed):
    mine = Workflow.objects.all()
    assert "Gamma archive" not in _names(ws.filter_workflows(mine))
    assert _names(ws.filter_workflows(mine, status="archived")) == ["Gamma archive"]
    assert len(ws.filter_workflows(mine, status="all")) == 3


def test_search_tag_and_sort(listed):
    mine = Workflow.objects.all()
    assert _names(ws.filter_workflows(mine, q="buckets")) == ["Beta frequency"]  # description matches
    assert _names(ws.filter_workflows(mine, tag="weekly")) == ["Beta frequency"]
    assert _names(ws.filter_workflows(mine, sort="name")) == ["Alpha reach", "Beta frequency"]
    assert _names(ws.filter_workflows(mine, sort="-runs")) == ["Beta frequency", "Alpha reach"]
    # Never-run queries sort last whichever the direction.
    assert _names(ws.filter_workflows(mine, sort="-last_run"))[0] == "Alpha reach"
    assert _names(ws.filter_workflows(mine, sort="last_run"))[0] == "Alpha reach"
    assert ws.normalize_sort("DROP TABLE") == ws.DEFAULT_SORT


def test_templates_of_other_users_stay_private(user, other_user, template):
    QueryTemplate.objects.create(slug="mine", name="Mine", category="X", sql_template="SELECT 1", is_public=False,
                                 owner=user)  # fmt: skip
    QueryTemplate.objects.create(slug="theirs", name="Theirs", category="X", sql_template="SELECT 1",
                                 is_public=False, owner=other_user)  # fmt: skip
    slugs = set(ws.visible_templates(user).values_list("slug", flat=True))
    assert slugs == {"delivery", "mine"}
    assert [t.slug for t in ws.filter_templates(user, q="impressions per")] == ["delivery"]
    assert [t.slug for t in ws.filter_templates(user, tag="dsp")] == ["delivery"]


# --- Parameters ----------------------------------------------------------------------------------------------------


def test_parameter_types_come_from_the_choice_then_the_stored_definition_then_the_name():
    stored = {"start_date": ParameterDefinition("start_date", "date", default="2025-01-01", label="Start")}
    sql = "SELECT 1 FROM t WHERE d >= {{start_date}} AND c IN ({{campaign_ids}}) AND n = CUSTOM_PARAMETER('region')"
    definitions = ws.parameter_definitions(sql, stored)
    assert [(d.name, d.type, d.default) for d in definitions] == [
        ("start_date", "date", "2025-01-01"),
        ("campaign_ids", "campaign_list", None),
        ("region", "string", None),
    ]
    chosen = ws.parameter_definitions(sql, stored, {"start_date": "timestamp"})
    assert chosen[0].type == "timestamp" and chosen[0].default is None  # a default of another type is dropped
    assert chosen[0].label == "Start"


def test_definitions_store_typed_defaults_and_reject_unsafe_values():
    definitions = [ParameterDefinition("ids", "id_list"), ParameterDefinition("n", "integer", required=False)]
    stored = ws.definitions_to_json(definitions, {"ids": "a1, b2\nc3", "n": ""})
    assert stored[0]["default"] == ["a1", "b2", "c3"]
    assert stored[1]["default"] is None
    with pytest.raises(ParameterError) as caught:
        ws.definitions_to_json(definitions, {"ids": "1'); DROP TABLE x; --"})
    assert caught.value.name == "ids"


# --- Creating and changing ------------------------------------------------------------------------------------------


def test_create_from_template_keeps_the_entered_values_as_defaults(user, template):
    values = {"campaign_ids": "c1,c2", "start_date": "2025-02-01", "row_limit": ""}
    workflow = ws.create_from_template(user, template, name="My delivery", values=values)
    assert workflow.owner == user and workflow.template == template and workflow.workflow_id.startswith("wf_")
    assert workflow.sql == TEMPLATE_SQL and workflow.tags == ["dsp"]
    defaults = {p["name"]: p["default"] for p in workflow.parameters}
    assert defaults == {"campaign_ids": ["c1", "c2"], "start_date": "2025-02-01", "row_limit": None}
    assert {p["name"]: p["label"] for p in workflow.parameters}["campaign_ids"] == "Campaigns"


def test_duplicate_gets_a_new_id_and_no_history(user, make_workflow, make_instance):
    original = make_workflow(user, name="Reach")
    original.parameters, original.execution_count = [{"name": "x", "type": "string", "default": "a"}], 4
    original.save()
    WorkflowSync.objects.create(workflow=original, instance=make_instance(user), sql_hash=sql_hash(original.sql))
    copy = ws.duplicate_workflow(original)
    assert copy.name == "Copy of Reach" and copy.workflow_id != original.workflow_id
    assert copy.sql == original.sql and copy.parameters == original.parameters
    assert copy.execution_count == 0 and not copy.syncs.exists() and copy.status == Workflow.Status.DRAFT
    long_name = make_workflow(user, name="x" * 200)
    assert len(ws.duplicate_workflow(long_name).name) == 200


def test_archive_restore_and_delete(user, make_workflow):
    workflow = make_workflow(user)
    assert ws.set_archived(workflow, True).status == Workflow.Status.ARCHIVED
    assert ws.set_archived(workflow, False).status == Workflow.Status.DRAFT
    ws.delete_workflow(workflow)
    assert not Workflow.objects.filter(pk=workflow.pk).exists()


def test_saving_an_edit_marks_amc_copies_outdated_and_sync_rows_say_so(user, make_workflow, make_instance):
    workflow = make_workflow(user)
    synced_on, never_on = make_instance(user), make_instance(user, instance_id="amcother")
    WorkflowSync.objects.create(workflow=workflow, instance=synced_on, sql_hash=sql_hash(workflow.sql))
    assert [r.state for r in ws.sync_rows(workflow, [synced_on, never_on])] == ["synced", "none"]
    workflow.sql += " LIMIT 10"
    ws.save_workflow(workflow, [])
    assert WorkflowSync.objects.get(workflow=workflow).state == WorkflowSync.State.OUTDATED
    rows = ws.sync_rows(workflow, [synced_on])
    assert rows[0].state == "outdated" and rows[0].label == "Changed since sync"


# --- Editor helpers ------------------------------------------------------------------------------------------------


def test_format_keeps_placeholders_and_custom_parameters():
    sql = "select campaign,count(*) n from dsp_impressions where id in ({{ids}}) and d>='{{start}}' " \
          "and x=CUSTOM_PARAMETER('x') group by campaign"  # fmt: skip
    formatted = ws.format_sql(sql)
    assert "{{ids}}" in formatted and "'{{start}}'" in formatted and "CUSTOM_PARAMETER('x')" in formatted
    assert formatted.startswith("SELECT\n") and "\nGROUP BY" in formatted
    assert ws.format_sql(formatted) == formatted  # stable


def test_format_refuses_sql_that_does_not_parse():
    with pytest.raises(ws.FormatError):
        ws.format_sql("SELECT FROM WHERE (")


def test_default_window_is_the_last_seven_complete_days_before_the_data_lag():
    window = ws.default_window(date(2025, 6, 10), "Europe/Paris")
    assert window.start.date() == date(2025, 6, 2) and window.end.date() == date(2025, 6, 9)
    assert window.end - window.start == timedelta(days=7)
    assert window.to_body()["timeWindowTimeZone"] == "Europe/Paris"


WINDOW = TimeWindow("EXPLICIT", datetime(2025, 1, 1), datetime(2025, 1, 8), "UTC")


def test_preview_substitutes_placeholders_and_declares_custom_parameters():
    sql = "SELECT 1 FROM t WHERE c IN ({{ids}}) AND n > CUSTOM_PARAMETER('min_n')"
    definitions = [ParameterDefinition("ids", "id_list"), ParameterDefinition("min_n", "integer")]
    preview = ws.preview_request(sql, definitions, {"ids": "a, b", "min_n": "3"}, window=WINDOW)
    assert preview.prepared.sql == "SELECT 1 FROM t WHERE c IN ('a', 'b') AND n > CUSTOM_PARAMETER('min_n')"
    body = preview.body
    assert body["workflow"]["sqlQuery"] == preview.prepared.sql
    assert body["workflow"]["inputParameters"][0]["name"] == "min_n"
    assert body["parameterValues"] == {"min_n": 3}
    assert body["timeWindowStart"] == "2025-01-01T00:00:00" and body["timeWindowType"] == "EXPLICIT"
    assert '"min_n": 3' in preview.body_json


def test_preview_of_an_unchanged_saved_workflow_runs_it_by_id(user, make_workflow):
    workflow = make_workflow(user)
    preview = ws.preview_request(workflow.sql, [], {}, window=WINDOW, workflow=workflow)
    assert preview.body["workflowId"] == workflow.workflow_id and "workflow" not in preview.body
    edited = ws.preview_request(workflow.sql + " LIMIT 5", [], {}, window=WINDOW, workflow=workflow)
    assert "workflow" in edited.body


def test_preview_rejects_a_missing_required_value():
    with pytest.raises(ParameterError) as caught:
        ws.preview_request("SELECT {{ids}}", [ParameterDefinition("ids", "id_list")], {}, window=WINDOW)
    assert caught.value.name == "ids"


class FakeExecution:
    def __init__(self, status, reason=None):
        self.status, self.status_reason = status, reason


class FakeClient:
    def __init__(self, answer):
        self.answer, self.calls = answer, []

    def create_execution(self, instance, body):
        self.calls.append((instance, body["workflow"]["sqlQuery"], body))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class Instance:
    is_sandbox = True


def test_dry_run_answers():
    prepared = ws.preview_request("SELECT 1", [], {}, window=WINDOW).prepared
    client = FakeClient(FakeExecution("SUCCEEDED"))
    ok = ws.dry_run(client, Instance(), prepared, WINDOW)
    assert ok.ok and ok.status == "SUCCEEDED"
    body = client.calls[0][2]
    assert body["dryRun"] is True and body["requireSyntheticData"] is True

    compile_error = amc_errors.AMCValidationError("bad", compile_message="Column x not found", line=2, column=7)
    failed = ws.dry_run(FakeClient(compile_error), Instance(), prepared, WINDOW)
    assert (failed.ok, failed.message, failed.line, failed.column) == (False, "Column x not found", 2, 7)

    throttled = ws.dry_run(FakeClient(amc_errors.AMCThrottledError("AMC is busy")), Instance(), prepared, WINDOW)
    assert not throttled.ok and throttled.message == "AMC is busy"
    rejected = ws.dry_run(FakeClient(FakeExecution("REJECTED", "Too few users")), Instance(), prepared, WINDOW)
    assert not rejected.ok and rejected.message == "Too few users"


def test_example_reference(db):
    from queries.models import DataSource

    DataSource.objects.create(schema_id="dsp-impressions", name="DSP", table_name="dsp_impressions", category="DSP",
                              examples=[{"title": "One", "sql": "SELECT 1"}])  # fmt: skip
    source, example = ws.example_sql("dsp-impressions:0")
    assert source.table_name == "dsp_impressions" and example["sql"] == "SELECT 1"
    assert ws.example_sql("dsp-impressions:1") is None
    assert ws.example_sql("dsp-impressions:x") is None
    assert ws.example_sql("nope:0") is None
