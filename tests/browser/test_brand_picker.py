"""As an analyst: pick a brand in the run form, its DSP campaigns fill the parameter, and AMC returns rows;
then discover an instance's campaigns and ASINs from AMC and add them to a brand in one click."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_connect_and_run import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SQL = (
    "SELECT campaign, SUM(impressions) AS impressions\nFROM dsp_impressions\n"
    "WHERE campaign_id_string IN ({{campaign_ids}})\nGROUP BY campaign"
)


def wait_for_execution(page):
    for _ in range(60):
        if page.get_by_test_id("execution-status").inner_text() in ("Succeeded", "Failed"):
            break
        page.wait_for_timeout(1000)
    from executions.models import Execution

    failed = Execution.objects.filter(status="failed").values_list("error_kind", "error_message").first()
    assert failed is None, failed  # the reason, not only the badge
    expect(page.get_by_test_id("execution-status")).to_have_text("Succeeded", timeout=30_000)


def test_pick_a_brand_in_the_run_form_and_get_rows(page, connected_user, workers, sandbox_dataset):
    from brands.demo import ensure_demo_brands
    from executions.models import Execution
    from instances.models import AMCInstance
    from queries.models import Workflow

    ensure_demo_brands(connected_user, sandbox_dataset, AMCInstance.objects.filter(owner=connected_user))
    workflow = Workflow.objects.create(
        owner=connected_user, name="Delivery by campaign", sql=SQL, status="active",
        parameters=[{"name": "campaign_ids", "type": "campaign_list", "label": "DSP campaign ids"}],
    )  # fmt: skip
    sign_in(page, connected_user.email)
    page.goto(f"/executions/run/?workflow={workflow.workflow_id}")
    page.get_by_label("Start date").fill("2025-01-01")
    page.get_by_label("End date").fill("2025-12-30")
    northwind = connected_user.brands.get(name="Northwind")
    page.get_by_label("Brand").select_option(str(northwind.pk))
    expect(page.locator("[data-picker-count]")).to_have_text("3 of 3 selected")  # DSP only: preselected type
    page.get_by_role("button", name="Use selected").click()
    expect(page.get_by_label("DSP campaign ids")).to_have_value(re.compile(r"^\d+, \d+, \d+$"))
    screenshot(page, "30-brand-picker")
    page.get_by_role("button", name="Run on AMC").click()
    wait_for_execution(page)
    execution = Execution.objects.get()
    assert re.search(r"IN \('\d+', '\d+', '\d+'\)", execution.sql_sent)
    assert execution.result.row_count == 3  # Northwind's three DSP campaigns, all with impressions
    assert page.console_errors == []


def test_discover_campaigns_and_asins_and_add_them_to_a_brand(page, connected_user, workers):
    from brands.models import Brand

    brand = Brand.objects.create(owner=connected_user, name="Acme")
    sign_in(page, connected_user.email)
    page.goto(f"/brands/{brand.pk}/")
    page.get_by_label("Days").select_option("90")
    page.get_by_label("Until").fill("2025-12-30")  # the test dataset ends with 2025
    page.get_by_role("button", name="Discover").click()
    expect(page.get_by_role("heading", name=re.compile("Discovered on"))).to_be_visible()
    for _ in range(60):
        if page.get_by_role("button", name="Add selected to Acme").count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    page.get_by_label("Select all").check()
    screenshot(page, "31-brand-discovered")
    page.get_by_role("button", name="Add selected to Acme").click()
    expect(page.get_by_text(re.compile(r"Added \d+ ASIN"))).to_be_visible()
    assert brand.asins.count() == 12  # the sandbox's advertised ASINs of both advertisers
    assert set(brand.campaigns.values_list("type", flat=True)) == {"SP", "SB", "SD", "DSP"}
    assert page.console_errors == []
