"""As an analyst would click it: sign in, connect Amazon through the consent page, sync instances, run a query
and watch it finish live, then read the results as a table and a chart and download them."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "correct-horse-battery"


def sign_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()


def test_connect_amazon_and_sync_instances(page, user, amc_sandbox):
    page.goto("/")
    expect(page).to_have_url(re.compile("/accounts/login/"))
    screenshot(page, "01-login")
    sign_in(page, user.email)
    screenshot(page, "02-home")
    page.get_by_role("link", name="Profile", exact=True).click()
    page.get_by_role("button", name="Connect Amazon Ads").click()
    expect(page.get_by_role("heading", name="Allow RecomAMP to access your Amazon Ads data")).to_be_visible()
    screenshot(page, "03-consent")
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_text("Amazon Ads connected")).to_be_visible()
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected")
    screenshot(page, "04-profile-connected")
    page.get_by_role("link", name="Instances", exact=True).click()
    page.get_by_role("button", name="Sync from Amazon").click()
    expect(page.get_by_text(re.compile("Synced from Amazon"))).to_be_visible()
    expect(page.get_by_role("link", name="RecomAMP Demo Instance (sandbox)")).to_be_visible()
    screenshot(page, "05-instances")
    assert page.console_errors == []


SQL = (
    "SELECT campaign, COUNT(*) AS impressions, COUNT(DISTINCT user_id) AS reach\n"
    "FROM dsp_impressions\nGROUP BY campaign"
)


def test_run_watch_live_then_sort_page_chart_and_download(page, connected_user, workers, tmp_path):
    from executions.models import Execution
    from queries.models import Workflow

    workflow = Workflow.objects.create(owner=connected_user, name="Reach by campaign", sql=SQL, status="active")
    sign_in(page, connected_user.email)
    page.goto(f"/executions/run/?workflow={workflow.workflow_id}")
    page.get_by_label("Start date").fill("2025-11-01")
    page.get_by_label("End date").fill("2025-11-30")
    page.get_by_label("Timezone").fill("UTC")
    screenshot(page, "10-run-dialog")
    page.get_by_role("button", name="Run on AMC").click()
    status = page.get_by_test_id("execution-status")
    expect(status).to_be_visible()
    seen = {status.inner_text()}
    # The status partial polls every 3 s; the page reloads itself once when the run is done.
    for _ in range(40):
        if page.get_by_role("link", name="Download CSV").count():
            break
        page.wait_for_timeout(1000)
        if status.count():
            seen.add(status.inner_text())
    expect(page.get_by_test_id("execution-status")).to_have_text("Succeeded", timeout=30_000)
    assert len(seen) > 1 or "Succeeded" not in seen, seen  # it changed live, without a manual reload
    screenshot(page, "11-execution-succeeded")
    execution = Execution.objects.get()
    assert execution.result.row_count == 6

    page.get_by_role("link", name="Table", exact=True).click()
    table = page.get_by_test_id("result-table")
    expect(table.locator("tbody tr")).to_have_count(6)
    page.get_by_role("link", name="impressions").click()
    expect(page).to_have_url(re.compile("sort=impressions&dir=asc"))
    expect(table.locator("th", has_text="impressions")).to_contain_text("▲")  # the swap is done
    page.get_by_role("link", name="impressions").click()  # second click: descending
    expect(page).to_have_url(re.compile("sort=impressions&dir=desc"))
    expect(table.locator("th", has_text="impressions")).to_contain_text("▼")
    values = [int(v.replace(",", "")) for v in table.locator("tbody tr td:nth-child(2)").all_inner_texts()]
    assert values == sorted(values, reverse=True)
    screenshot(page, "12-results-table")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    path = tmp_path / "result.csv"
    download.value.save_as(path)
    assert path.read_text().splitlines()[0] == "campaign,impressions,reach"
    page.get_by_role("link", name="Chart", exact=True).click()
    expect(page.get_by_test_id("chart").locator(".chart-canvas canvas")).to_be_visible()
    page.get_by_label("Kind").select_option("line")
    expect(page).to_have_url(re.compile("kind=line"))
    expect(page.get_by_test_id("chart").locator(".chart-canvas canvas")).to_be_visible()
    screenshot(page, "13-results-chart")
    assert page.console_errors == []
