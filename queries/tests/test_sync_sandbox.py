"""Saving a workflow on AMC (the sandbox, over real HTTP) from the workflow page: create, outdated, update, errors."""

import pytest
from django.urls import reverse

from queries.models import Workflow, WorkflowSync
from queries.workflow_services import save_workflow
from recomamp.sandbox.models import SandboxWorkflow

pytestmark = pytest.mark.django_db(transaction=True)

SQL = "SELECT campaign, COUNT(*) AS impressions FROM dsp_impressions GROUP BY campaign"


def test_sync_creates_marks_outdated_and_updates_under_the_full_id(connected_user, demo_instance, client):
    client.force_login(connected_user)
    workflow = Workflow.objects.create(owner=connected_user, name="Impressions", sql=SQL)
    url = reverse("workflow_sync", args=[workflow.workflow_id])
    response = client.post(url, {"instance": demo_instance.pk}, follow=True)
    assert f"Saved on {demo_instance.name} as {workflow.workflow_id}" in response.content.decode()
    remote = SandboxWorkflow.objects.get(workflow_id=workflow.workflow_id)  # the readable id, never truncated
    assert remote.sql_query == SQL
    sync = WorkflowSync.objects.get(workflow=workflow, instance=demo_instance)
    assert sync.state == WorkflowSync.State.SYNCED

    workflow.sql = SQL.replace("COUNT(*)", "COUNT(DISTINCT user_id)")
    save_workflow(workflow, workflow.parameters)
    sync.refresh_from_db()
    assert sync.state == WorkflowSync.State.OUTDATED
    partial = client.post(url, {"instance": demo_instance.pk}, HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content
    sync.refresh_from_db()
    remote.refresh_from_db()
    assert sync.state == WorkflowSync.State.SYNCED and "DISTINCT user_id" in remote.sql_query


def test_sync_of_invalid_sql_reports_amcs_compile_error(connected_user, demo_instance, client):
    client.force_login(connected_user)
    workflow = Workflow.objects.create(owner=connected_user, name="Broken", sql="SELECT * FROM dsp_impressions")
    response = client.post(
        reverse("workflow_sync", args=[workflow.workflow_id]), {"instance": demo_instance.pk}, follow=True
    )
    assert "AMC did not accept the workflow" in response.content.decode()
    assert WorkflowSync.objects.get(workflow=workflow).state == WorkflowSync.State.FAILED
    assert not SandboxWorkflow.objects.filter(workflow_id=workflow.workflow_id).exists()
