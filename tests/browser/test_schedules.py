"""Creating a schedule with the wizard, checking its preview, running it now with real workers, reading its
history, pausing and resuming it."""

import re

import pytest
from playwright.sync_api import expect

from queries.models import Workflow
from schedules.models import Schedule, ScheduleRun
from tests.browser.conftest import screenshot
from tests.browser.test_connect_and_run import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SQL = (
    "SELECT campaign, COUNT(*) AS impressions, COUNT(DISTINCT user_id) AS reach\n"
    "FROM dsp_impressions\nGROUP BY campaign"
)


def _option_label(page, select_label: str, starts_with: str) -> str:
    options = page.get_by_label(select_label).locator("option").all_inner_texts()
    return next(text for text in options if text.strip().startswith(starts_with))


def test_schedule_wizard_preview_run_now_history_pause_resume(page, connected_user, workers):
    Workflow.objects.create(owner=connected_user, name="Weekly reach", sql=SQL, status="active")
    sign_in(page, connected_user.email)
    page.get_by_role("link", name="Schedules", exact=True).click()
    page.get_by_role("link", name="New schedule").click()
    # Step 1: what and where.
    page.get_by_label("Name").fill("Reach every Monday")
    page.get_by_label("Query").select_option(label=_option_label(page, "Query", "Weekly reach"))
    page.get_by_label("AMC instance").select_option(label=_option_label(page, "AMC instance", "RecomAMP Demo Instance"))
    page.get_by_role("button", name="Next →").click()
    # Step 2: when.
    page.get_by_label("Weekly on chosen days").check()
    page.get_by_label("Mon", exact=True).check()
    page.get_by_label("At (local time)").fill("06:00")
    page.get_by_label("Time zone").fill("America/New_York")
    page.get_by_role("button", name="Next →").click()
    # Step 3: which data.
    page.get_by_label("Date window").select_option(value="last_n_days")
    page.get_by_label("N days").fill("7")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#preview-table")
    expect(preview).to_be_visible()
    expect(preview.locator("tbody tr")).to_have_count(10)
    expect(preview.locator("tbody tr").first).to_contain_text("Mon")
    expect(preview.locator("tbody tr").first).to_contain_text("06:00")
    screenshot(page, "20-schedule-preview")
    page.get_by_role("button", name="Next →").click()
    # Step 4: notifications, then save.
    page.get_by_role("button", name="Save schedule").click()
    expect(page).to_have_url(re.compile(r"/schedules/sched_[0-9a-f]{12}/$"))  # saved: wait before reading the DB
    schedule = Schedule.objects.get(name="Reach every Monday")
    expect(page).to_have_url(re.compile(schedule.schedule_id))
    next_run = schedule.next_run_at
    assert schedule.weekdays == [0] and schedule.timezone == "America/New_York"
    screenshot(page, "21-schedule-detail")

    page.get_by_role("button", name="Run now (test)").click()
    expect(page.get_by_text(re.compile("Test run started"))).to_be_visible()
    run = ScheduleRun.objects.get(schedule=schedule)
    assert run.is_test
    for _ in range(60):
        run.refresh_from_db()
        if run.status in ("succeeded", "failed"):
            break
        page.wait_for_timeout(1000)
    assert run.status == "succeeded", (run.status, run.error, (workers / "qcluster.log").read_text()[-2000:])
    page.reload()
    expect(page.get_by_text("Succeeded").first).to_be_visible()
    screenshot(page, "22-schedule-history")
    schedule.refresh_from_db()
    assert schedule.next_run_at == next_run and schedule.run_count == 0  # a test run never moves timing

    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_text(re.compile("No runs start until you resume it"))).to_be_visible()
    schedule.refresh_from_db()
    assert not schedule.is_active
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_text(re.compile("Resumed"))).to_be_visible()
    schedule.refresh_from_db()
    assert schedule.is_active and schedule.next_run_at is not None
    page.get_by_role("link", name="Schedules", exact=True).click()
    screenshot(page, "23-schedules-dashboard")
    assert page.console_errors == []
