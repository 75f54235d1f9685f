"""The dashboard's date-range brush: dragging across a chart sets the From/To filter and htmx re-renders the
dashboard for those windows (URL pushed, no page load); a double-click clears the range."""

import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from dashboards.models import Dashboard
from executions.models import Execution, ExecutionResult
from queries.models import Workflow
from runsets.models import Cell, RunSet
from tests.browser.conftest import screenshot
from tests.browser.test_connect_and_run import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

FIRST = date(2025, 9, 1)  # a Monday
WEEKS = [(FIRST + timedelta(days=7 * n)).isoformat() for n in range(8)]
COLUMNS = [{"name": "campaign", "type": "string"}, {"name": "impressions", "type": "integer"}]


@pytest.fixture
def dashboard(user, make_instance, settings, tmp_path):
    """A run set of 8 weekly cells with stored results (impressions = 100 × week number + campaign) and a
    dashboard over it."""
    settings.MEDIA_ROOT = tmp_path / "media"
    instance = make_instance(user)
    workflow = Workflow.objects.create(owner=user, name="Weekly", sql="SELECT 1")
    run_set = RunSet.objects.create(owner=user, workflow=workflow, name="8 weeks", sql_snapshot="SELECT 1",
                                    status=RunSet.Status.DONE)  # fmt: skip
    for week, first in enumerate(WEEKS, start=1):
        start = datetime.fromisoformat(first).replace(tzinfo=UTC)
        execution = Execution.objects.create(
            owner=user, instance=instance, workflow=workflow, status=Execution.Status.SUCCEEDED,
            time_window_start=start, time_window_end=start + timedelta(days=7),
        )  # fmt: skip
        result = ExecutionResult(execution=execution, columns=COLUMNS, row_count=2)
        body = f"campaign,impressions\nSpring,{100 * week + 1}\nSummer,{100 * week + 2}\n"
        result.file.save(f"{execution.execution_id}.csv", ContentFile(body.encode()))
        Cell.objects.create(
            run_set=run_set, instance=instance, first_day=start.date(), end_day=start.date() + timedelta(days=7),
            window_start=start, window_end=start + timedelta(days=7), status=Cell.Status.SUCCEEDED,
            execution=execution,
        )  # fmt: skip
    return Dashboard.objects.create(owner=user, name="Weekly impressions", run_set=run_set, metrics=["impressions"],
                                    dimension="campaign", split="dimension", top_n=5)  # fmt: skip


def window_x(page, chart, index: int) -> tuple[float, float]:
    """Screen coordinates of window `index` on a chart, from the positions the chart declares."""
    box = chart.bounding_box()
    left, step = (float(chart.get_attribute(f"data-brush-{n}")) for n in ("left", "step"))
    scale = box["width"] / 760  # the chart's viewBox width (dashboards/charts.py)
    return box["x"] + (left + index * step) * scale, box["y"] + box["height"] / 2


def test_dragging_across_the_chart_filters_the_dates_and_double_click_clears_them(page, user, dashboard):
    sign_in(page, user.email)
    page.goto(f"/dashboards/{dashboard.dashboard_id}/")
    chart = page.locator("#dashboard-main svg[data-brush-windows]").first
    expect(chart).to_have_attribute("data-brush-windows", ",".join(WEEKS))
    expect(page.get_by_test_id("kpi-value")).to_have_text("1,603")  # the latest week: 801 + 802
    page.evaluate("window.__brushMarker = 'same page'")

    x1, y = window_x(page, chart, 2)
    x2, _ = window_x(page, chart, 5)
    page.mouse.move(x1 - 3, y)
    page.mouse.down()
    page.mouse.move((x1 + x2) / 2, y, steps=4)
    expect(page.locator("svg rect.brush-selection")).to_have_count(1)  # the selection is drawn while dragging
    page.mouse.move(x2 + 3, y, steps=4)
    page.mouse.up()

    expect(page).to_have_url(re.compile(r"from=2025-09-15.*to=2025-10-06"))
    query = parse_qs(urlsplit(page.url).query)
    assert (query["from"], query["to"]) == (["2025-09-15"], ["2025-10-06"])
    chart = page.locator("#dashboard-main svg[data-brush-windows]").first
    expect(chart).to_have_attribute("data-brush-windows", ",".join(WEEKS[2:6]))
    expect(page.get_by_label("From", exact=True)).to_have_value("2025-09-15")
    expect(page.get_by_label("To", exact=True)).to_have_value("2025-10-06")
    expect(page.get_by_test_id("kpi-value")).to_have_text("1,203")  # week 6: 601 + 602
    assert page.evaluate("window.__brushMarker") == "same page"  # htmx swapped the dashboard, no page load
    screenshot(page, "43-dashboard-brush")

    chart.dblclick()
    expect(page.locator("#dashboard-main svg[data-brush-windows]").first).to_have_attribute(
        "data-brush-windows", ",".join(WEEKS)
    )
    expect(page.get_by_label("From", exact=True)).to_have_value("")
    assert page.evaluate("window.__brushMarker") == "same page"
    assert page.console_errors == []


def test_a_bookmarked_range_without_the_brush_still_filters(page, user, dashboard):
    sign_in(page, user.email)
    page.goto(f"/dashboards/{dashboard.dashboard_id}/?from=2025-09-08&to=2025-09-15")
    expect(page.locator("#dashboard-main svg[data-brush-windows]").first).to_have_attribute(
        "data-brush-windows", "2025-09-08,2025-09-15"
    )
