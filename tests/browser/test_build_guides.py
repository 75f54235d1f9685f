"""An analyst follows a build guide end to end: open it, run step 1 in place, read its result, mark it done,
run step 2, then save step 2 as their own query."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from guides.models import GuideProgress
from queries.models import Workflow
from tests.browser.conftest import screenshot
from tests.browser.test_connect_and_run import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def run_step(page, demo_instance) -> None:
    page.get_by_label("Instance").select_option(str(demo_instance.pk))
    page.get_by_label("Start date").fill("2025-07-01")
    page.get_by_label("End date").fill("2025-12-31")
    page.get_by_test_id("run-step").click()
    expect(page.get_by_text(re.compile(r"Execution exec_\w+ queued"))).to_be_visible()
    # The status polls while AMC works, then the page reloads once with the result.
    expect(page.get_by_test_id("execution-status")).to_have_text("Succeeded", timeout=60_000)


def test_follow_a_guide_from_step_one_to_a_saved_query(page, connected_user, demo_instance, workers):
    call_command("import_build_guides", verbosity=0)
    sign_in(page, connected_user.email)
    page.get_by_role("link", name="Build guides", exact=True).click()
    page.get_by_role("searchbox").fill("frequency cap")
    expect(page.get_by_test_id("guide-card")).to_have_count(1)
    page.get_by_role("link", name="Reach, frequency and where to cap it").click()
    expect(page.get_by_role("heading", name="Why it matters")).to_be_visible()
    screenshot(page, "60-guide")

    page.get_by_role("link", name="Start with step 1").click()
    expect(page.get_by_role("heading", name=re.compile("Step 1 of 3"))).to_be_visible()
    expect(page.locator("#step-sql")).to_have_value(re.compile(r"\{\{min_impressions\}\}"))
    run_step(page, demo_instance)
    result = page.get_by_test_id("step-result")
    expect(result).to_contain_text("avg_frequency")
    expect(result).to_contain_text("Northwind")
    screenshot(page, "61-guide-step-result")
    page.get_by_test_id("mark-done").click()
    expect(page.get_by_test_id("step-done")).to_be_visible()
    assert GuideProgress.objects.get(owner=connected_user, step__number=1).done_at is not None

    page.get_by_test_id("next-step").click()
    expect(page.get_by_role("heading", name=re.compile("Step 2 of 3"))).to_be_visible()
    page.get_by_label("Top frequency bucket").fill("4")
    run_step(page, demo_instance)
    page.get_by_test_id("save-step").click()
    expect(page).to_have_url(re.compile(r"/queries/mine/wf_[0-9a-f]{8}/edit/"))  # saved: wait before reading the DB
    workflow = Workflow.objects.get(owner=connected_user)
    assert "LEAST(impressions, {{max_frequency}})" in workflow.sql
    assert workflow.parameters == [
        {"name": "max_frequency", "type": "integer", "default": 4, "label": "Top frequency bucket", "required": True}
    ]
    screenshot(page, "62-guide-step-saved")
    assert page.console_errors == []
