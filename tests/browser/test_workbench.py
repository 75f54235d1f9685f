"""The workbench as an analyst uses it: type SQL in the editor of a saved query, Ctrl-Enter, watch the status in
place and read the rows without leaving the page; the run is the query's; leaving with unsaved changes asks, and
the draft is offered back."""

import pytest
from playwright.sync_api import expect

from executions.models import Execution
from instances.models import AMCInstance
from queries.models import Workflow
from recomamp.sandbox.seed import DEMO_INSTANCE_ID
from tests.browser.conftest import screenshot
from tests.browser.test_connect_and_run import sign_in
from tests.browser.test_query_workspace import replace_editor_text

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SAVED = "SELECT campaign, COUNT(*) AS impressions\nFROM dsp_impressions\nGROUP BY campaign"
TYPED = "SELECT campaign, COUNT(*) AS impressions_typed\nFROM dsp_impressions\nGROUP BY campaign"


def test_ctrl_enter_runs_in_place_and_a_draft_survives_leaving(page, connected_user, workers):
    workflow = Workflow.objects.create(owner=connected_user, name="Impressions", sql=SAVED, status="active")
    instance = AMCInstance.objects.get(owner=connected_user, instance_id=DEMO_INSTANCE_ID)
    sign_in(page, connected_user.email)
    page.goto(f"/queries/mine/{workflow.workflow_id}/edit/")
    expect(page.locator(".cm-editor")).to_be_visible()
    page.locator("select[name='wb-instance']").select_option(str(instance.pk))
    page.locator("select[name='wb-window_type']").select_option("PREVIOUS_MONTH")
    expect(page.get_by_label("From")).to_be_hidden()  # a relative window hides the date pickers
    page.locator("select[name='wb-window_type']").select_option("EXPLICIT")
    page.get_by_label("From").fill("2025-11-01")
    page.get_by_label("To", exact=True).fill("2025-11-30")
    page.get_by_label("Time zone").fill("UTC")

    replace_editor_text(page, TYPED)
    page.keyboard.press("Control+Enter")
    status = page.get_by_test_id("workbench-status")
    expect(status).to_be_visible()
    seen = {status.inner_text()}
    screenshot(page, "60-workbench-running")
    table = page.locator("#workbench-pane").get_by_test_id("result-table")
    for _ in range(40):
        if table.count():
            break
        page.wait_for_timeout(500)
        if status.count():
            seen.add(status.inner_text())
    expect(table.locator("tbody tr").first).to_be_visible(timeout=30_000)
    expect(status).to_have_text("Succeeded")
    assert len(seen) > 1 or "Succeeded" not in seen, seen  # it changed live, in place
    assert page.url.endswith(f"/queries/mine/{workflow.workflow_id}/edit/")  # never left the editor
    rows = table.locator("tbody tr")
    execution = Execution.objects.get()
    assert execution.workflow == workflow and rows.count() == execution.result.row_count > 0
    expect(table.locator("th", has_text="impressions_typed")).to_have_class("num")
    expect(page.locator("#workbench-history")).to_contain_text("Succeeded")
    expect(page.locator("#workbench-pane .wb-chart")).not_to_be_empty()  # the chart, in place too
    screenshot(page, "61-workbench-results")

    # Leaving with unsaved changes asks first; the draft is offered back on return.
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    page.wait_for_timeout(1200)  # the draft is written every second
    page.goto("/executions/")
    assert dialogs == ["beforeunload"]
    page.goto(f"/queries/mine/{workflow.workflow_id}/edit/")
    banner = page.locator("#workbench-draft")
    expect(banner).to_contain_text("An unsaved draft of this query")
    expect(page.locator(".cm-content")).not_to_contain_text("impressions_typed")
    screenshot(page, "62-workbench-draft")
    banner.get_by_role("button", name="Restore draft").click()
    expect(page.locator(".cm-content")).to_contain_text("impressions_typed")
    expect(banner).to_be_hidden()
    assert page.console_errors == []
