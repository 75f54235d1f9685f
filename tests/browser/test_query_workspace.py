"""The query workspace as an analyst uses it: a data source's example opens in the editor, a mistake is marked
at its line as they type, the fix clears it, the query is saved and sent to the run dialog."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from queries.models import Workflow
from tests.browser.conftest import screenshot
from tests.browser.test_connect_and_run import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BAD = "SELECT campaign, COUNT(*) AS impressions\nFROM dsp_impressions\nGROUP BY campaign\nLIMIT 10"
GOOD = "SELECT campaign, COUNT(*) AS impressions\nFROM dsp_impressions\nGROUP BY campaign"


def replace_editor_text(page, text: str) -> None:
    page.locator(".cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)


def test_example_to_editor_validation_save_and_run_dialog(page, connected_user):
    call_command("import_amc_schemas", verbosity=0)
    sign_in(page, connected_user.email)
    page.get_by_role("link", name="Data sources", exact=True).click()
    page.get_by_role("searchbox").first.fill("dsp_impressions")
    page.get_by_role("link", name="dsp_impressions", exact=True).first.click()
    expect(page.get_by_role("heading", name=re.compile("dsp_impressions"))).to_be_visible()
    screenshot(page, "30-data-source")
    page.get_by_role("link", name="Open in editor").first.click()
    expect(page.locator(".cm-editor")).to_be_visible()
    expect(page.locator(".cm-content")).to_contain_text("dsp_impressions")

    replace_editor_text(page, BAD)
    diagnostics = page.locator("#diagnostics")
    expect(diagnostics).to_contain_text("Line 4, column 1", timeout=10_000)
    expect(page.locator(".cm-lint-marker-error")).to_have_count(1)
    screenshot(page, "31-editor-error")
    replace_editor_text(page, GOOD)
    expect(diagnostics).to_contain_text("No problems found", timeout=10_000)
    expect(page.locator(".cm-lint-marker-error")).to_have_count(0)

    page.get_by_label("Name").fill("Impressions by campaign")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/queries/mine/wf_[0-9a-f]{8}/edit/"))  # saved: wait before reading the DB
    workflow = Workflow.objects.get(owner=connected_user, name="Impressions by campaign")
    assert workflow.sql.strip() == GOOD
    expect(page).to_have_url(re.compile(f"{workflow.workflow_id}/edit"))
    screenshot(page, "32-editor-saved")
    page.get_by_role("button", name="Run…").click()
    expect(page.get_by_role("button", name="Run on AMC")).to_be_visible()
    expect(page.locator("pre.sql")).to_contain_text("GROUP BY campaign")
    assert page.console_errors == []
