"""The editor page as the workbench: its run bar, pane, history and draft slots; saving never fails silently."""

import pytest
from django.urls import reverse

from queries.models import Workflow

pytestmark = pytest.mark.django_db

PARAM_SQL = "SELECT campaign FROM dsp_impressions WHERE campaign_id_string IN ({{campaign_ids}}) GROUP BY campaign"


def test_new_query_page_holds_the_workbench(user_client):
    html = user_client.get(reverse("query_editor")).content.decode()
    assert f'hx-get="{reverse("workbench_bar")}"' in html
    assert f'data-run-url="{reverse("workbench_run")}"' in html
    assert 'data-draft-key="recomamp:draft:new"' in html and 'id="workbench-draft"' in html
    assert "workbench-history" not in html  # an unsaved query has no runs of its own
    assert "js/workbench.js" in html and "css/workbench.css" in html


def test_saved_query_page_lists_its_runs_and_keys_its_draft(user_client, user, make_workflow):
    workflow = make_workflow(user)
    html = user_client.get(reverse("workflow_edit", args=[workflow.workflow_id])).content.decode()
    assert f'data-draft-key="recomamp:draft:{workflow.workflow_id}"' in html
    assert reverse("workbench_history", args=[workflow.workflow_id]) in html
    assert "data-unsaved" not in html  # as saved: leaving does not ask


def test_a_missing_parameter_value_does_not_block_the_save(user_client, user):
    response = user_client.post(
        reverse("query_editor"),
        {"name": "Campaigns", "status": "draft", "sql": PARAM_SQL, "action": "save", "param_campaign_ids": ""},
    )
    workflow = Workflow.objects.get(owner=user, name="Campaigns")
    assert response.status_code == 302 and response["Location"] == reverse("workflow_edit", args=[workflow.workflow_id])
    assert workflow.parameters[0]["name"] == "campaign_ids" and workflow.parameters[0]["default"] is None


def test_a_failed_save_says_so_at_the_top(user_client):
    response = user_client.post(
        reverse("query_editor"),
        {"name": "X", "status": "draft", "sql": PARAM_SQL, "action": "save", "param_campaign_ids": "1'); DROP --"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and not Workflow.objects.exists()
    assert html.index('data-testid="save-error"') < html.index('id="diagnostics"')
    assert "Not saved: correct the parameter values marked below." in html
    assert 'data-unsaved="1"' in html  # the page holds unsaved work: leaving asks first

    response = user_client.post(reverse("query_editor"), {"sql": PARAM_SQL, "status": "draft", "action": "save"})
    assert "Not saved: correct the fields marked below." in response.content.decode()


def test_list_parameters_on_the_workbench_offer_a_brands_list(user_client, user, make_workflow):
    """The workbench runs with the editor's parameter values, so its list parameters carry the brand picker."""
    sql = "SELECT campaign FROM dsp_impressions WHERE asin IN ({{asins}}) GROUP BY campaign"
    workflow = make_workflow(user, sql=sql)
    workflow.parameters = [{"name": "asins", "type": "asin_list", "label": "ASINs"}]
    workflow.save()
    html = user_client.get(reverse("workflow_edit", args=[workflow.workflow_id])).content.decode()
    assert 'name="param_asins"' in html and 'data-list-picker="asins"' in html
    assert "js/brand_picker.js" in html and 'id="list-picker-config"' in html
