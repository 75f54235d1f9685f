"""A 12-week backfill started from a query's page with real workers: the grid fills, a dashboard reads the
week-over-week deltas, and its share link opens logged out."""

import re

import pytest
from playwright.sync_api import expect

from queries.models import Workflow
from runsets.models import Cell, RunSet
from tests.browser.conftest import screenshot
from tests.browser.test_connect_and_run import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SQL = (
    "SELECT campaign, COUNT(*) AS impressions, COUNT(DISTINCT user_id) AS reach\n"
    "FROM dsp_impressions\nGROUP BY campaign"
)


def test_backfill_grid_dashboard_and_share_link(page, connected_user, demo_instance, workers):
    workflow = Workflow.objects.create(owner=connected_user, name="Weekly reach", sql=SQL, status="active")
    sign_in(page, connected_user.email)
    page.goto(f"/queries/mine/{workflow.workflow_id}/")
    page.get_by_role("link", name="Backfill / fan out…").click()
    page.get_by_label(re.compile(re.escape(demo_instance.name))).check()
    page.get_by_label("Period", exact=True).select_option(value="week")
    page.get_by_label("Mode", exact=True).select_option(value="range")
    page.get_by_label("Start date", exact=True).fill("2025-10-06")
    page.get_by_label("End date", exact=True).fill("2025-12-28")
    page.get_by_role("button", name="Start run set").click()
    expect(page).to_have_url(re.compile(r"/runsets/rset_[0-9a-f]{12}/$"))
    run_set = RunSet.objects.get(owner=connected_user)
    assert run_set.cells.count() == 12
    grid = page.get_by_test_id("runset-grid")
    expect(grid.locator("td.cell")).to_have_count(12)
    expect(page.get_by_test_id("runset-status")).to_have_text("Done", timeout=180_000)  # htmx polling fills it
    expect(grid.locator('td[data-state="succeeded"]')).to_have_count(12)
    screenshot(page, "40-runset-grid")
    assert run_set.cells.filter(status=Cell.Status.SUCCEEDED).count() == 12

    page.get_by_role("link", name="New dashboard").click()
    page.get_by_role("button", name="Save dashboard").click()
    expect(page).to_have_url(re.compile(r"/dashboards/dash_[0-9a-f]{12}/$"))
    kpi = page.get_by_test_id("kpis")
    expect(kpi.get_by_test_id("kpi-value").first).not_to_have_text("n/a")
    change = kpi.get_by_test_id("change").first
    expect(change).to_contain_text(re.compile(r"(%|no change)"))
    screenshot(page, "41-dashboard")

    page.get_by_role("button", name="Share link").click()
    url = page.get_by_label("Share link").first.input_value()
    assert "/dashboards/shared/" in url
    anonymous = page.context.browser.new_context()
    shared = anonymous.new_page()
    shared.goto(url)
    expect(shared.get_by_role("heading", name=re.compile("dashboard"))).to_be_visible()
    expect(shared.get_by_test_id("kpi-value").first).to_be_visible()
    screenshot(shared, "42-dashboard-shared")
    anonymous.close()
