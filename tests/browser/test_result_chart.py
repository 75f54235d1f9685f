"""The result chart drawn by ECharts (static/dist/charts.js) from the server's spec: line for a time dimension,
bars for a category, a split and an aggregation chosen on the page, and PNG and SVG downloads, under the CSP."""

import httpx
import pytest
from playwright.sync_api import expect

from executions.models import Execution
from executions.results.ingest import store_result
from tests.browser.conftest import screenshot
from tests.browser.test_connect_and_run import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DEVICES = ("tv", "web", "mobile")
CSV = "day,device,campaign,impressions,spend\r\n" + "".join(
    f"2026-03-{i % 9 + 1:02d},{DEVICES[i % 3]},campaign number {i % 14} with a long name,{i},{i / 4}\r\n"
    for i in range(120)
)


@pytest.fixture
def execution(user, make_instance, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    execution = Execution.objects.create(owner=user, instance=make_instance(user))
    # the result file as AMC's download URL serves it (the sandbox is not needed to draw a chart)
    http = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, content=CSV.encode())))
    store_result(execution, ["https://s3.example.com/result.csv"], http=http)
    return execution


def chart_option(page) -> dict:
    """The drawn chart's options, once the swapped-in chart is mounted."""
    expect(page.locator(".chart-canvas[data-chart-mounted]")).to_have_count(1)
    return page.evaluate(
        """() => { const o = [...RecomAMP.charts.values()].pop().getOption();
        return {types: o.series.map((s) => s.type), names: o.series.map((s) => s.name), labels: o.xAxis[0].data,
                stack: o.series.map((s) => s.stack || null)}; }"""
    )


def test_chart_fits_the_data_and_downloads(page, user, execution, tmp_path):
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, user.email)
    page.goto(f"/executions/{execution.execution_id}/chart/")
    chart = page.get_by_test_id("chart")
    expect(chart.locator(".chart-canvas canvas")).to_be_visible()
    option = chart_option(page)
    assert option["types"] == ["line"] and option["labels"][0] == "2026-03-01" and len(option["labels"]) == 9
    box = chart.locator(".chart-canvas").bounding_box()
    assert box["width"] > 0.9 * chart.bounding_box()["width"]  # the full width of its card

    page.get_by_label("Dimension").select_option("campaign")
    expect(chart.get_by_role("heading")).to_contain_text("by campaign")
    expect(chart.locator(".chart-canvas canvas")).to_be_visible()
    option = chart_option(page)
    assert option["types"] == ["bar"] and option["labels"][-1] == "Other" and len(option["labels"]) == 11
    chart.get_by_role("checkbox", name="spend").check()
    expect(chart.get_by_role("heading")).to_contain_text("impressions, spend")
    assert chart_option(page)["names"] == ["impressions", "spend"]

    page.get_by_label("Split by").select_option("device")
    expect(chart.get_by_role("heading")).to_contain_text("split by device")
    option = chart_option(page)
    assert option["names"] == ["mobile", "web", "tv"] or set(option["names"]) == {"tv", "web", "mobile"}
    assert set(option["stack"]) == {"total"}  # sums of a split add up: stacked
    page.get_by_label("Aggregation").select_option("avg")
    expect(chart.get_by_role("heading")).to_contain_text("Average of impressions")
    assert set(chart_option(page)["stack"]) == {None}
    canvas = chart.locator(".chart-canvas canvas").first
    canvas.hover(position={"x": canvas.bounding_box()["width"] / 3, "y": 200})  # the tooltip, under the CSP
    screenshot(page, "42-result-chart")

    with page.expect_download() as png:
        chart.get_by_role("button", name="Download PNG").click()
    assert png.value.suggested_filename.endswith(".png")
    png.value.save_as(tmp_path / "chart.png")
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with page.expect_download() as svg:
        chart.get_by_role("button", name="Download SVG").click()
    svg.value.save_as(tmp_path / "chart.svg")
    text = (tmp_path / "chart.svg").read_text()
    assert text.startswith("<svg") and "mobile" in text

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the chart shrinks with its card
    page.wait_for_function("() => document.querySelector('.chart-canvas canvas').clientWidth <= 370")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "44-result-chart-phone")
    assert csp == [] and page.console_errors == []
