"""Charts: default choice, aggregation (time series and top N + Other) and an escaped, accessible SVG."""

import xml.etree.ElementTree as ET
from collections import defaultdict

import httpx
import pytest

from executions.models import Execution
from executions.results.charts import (
    ChartData,
    ChartError,
    chart_data,
    nice_ticks,
    render_svg,
    suggest_chart,
)
from executions.results.ingest import store_result

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def rows_of(count: int) -> list[tuple[str, str, int, float]]:
    """(campaign, day, impressions, spend): uneven campaign sizes so the top N is well defined."""
    return [(f"camp{(i * i) % 13}", f"2024-03-{i % 20 + 1:02d}", i % 11, round(i % 7 * 0.5, 2)) for i in range(count)]


@pytest.fixture
def store(user, make_instance):
    execution = Execution.objects.create(owner=user, instance=make_instance(user))

    def store(text: str):
        client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, content=text.encode())))
        return store_result(execution, ["https://s3.example.com/r.csv"], http=client)

    return store


@pytest.fixture
def result(store):
    lines = ["campaign,day,impressions,spend"] + [f"{c},{d},{i},{s}" for c, d, i, s in rows_of(300)]
    return store("\r\n".join(lines) + "\r\n")


def test_suggest_prefers_a_date_dimension_and_a_numeric_metric():
    columns = [
        {"name": "campaign", "type": "string"},
        {"name": "campaign_id", "type": "integer"},
        {"name": "day", "type": "date"},
        {"name": "reach", "type": "integer"},
    ]

    assert suggest_chart(columns) == ("day", "reach")


def test_suggest_falls_back_to_a_string_dimension_and_skips_identifiers():
    assert suggest_chart([{"name": "user_id", "type": "integer"}, {"name": "segment", "type": "string"}]) == (
        "segment",
        None,
    )
    assert suggest_chart([{"name": "n", "type": "decimal"}, {"name": "ok", "type": "boolean"}]) == (None, "n")


@pytest.mark.django_db
def test_categories_are_top_n_by_value_plus_other(result):
    chart = chart_data(result, "campaign", "impressions", top_n=5)

    totals = defaultdict(int)
    for campaign, _, impressions, _ in rows_of(300):
        totals[campaign] += impressions
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    assert chart.labels == [k for k, _ in ranked[:5]] + ["Other"]
    assert chart.values == [v for _, v in ranked[:5]] + [sum(v for _, v in ranked[5:])]
    assert chart.other_categories == len(ranked) - 5
    assert chart.title == "Sum of impressions by campaign"


@pytest.mark.django_db
def test_time_series_is_ordered_by_date(result):
    chart = chart_data(result, "day", "spend")

    totals = defaultdict(float)
    for _, day, _, spend in rows_of(300):
        totals[day] += spend
    assert chart.labels == sorted(totals)
    assert chart.values == pytest.approx([totals[d] for d in sorted(totals)])
    assert chart.bucket is None


@pytest.mark.django_db
def test_long_time_series_are_grouped_into_coarser_buckets(result):
    chart = chart_data(result, "day", aggregation="count", max_points=5)

    assert chart.bucket == "month"
    assert (chart.labels, chart.values) == (["2024-03"], [300])


@pytest.mark.django_db
def test_average_other_is_averaged_over_its_rows(result):
    chart = chart_data(result, "campaign", "spend", aggregation="avg", top_n=3)

    rest = [s for c, _, _, s in rows_of(300) if c not in chart.labels[:3]]
    assert chart.values[-1] == pytest.approx(sum(rest) / len(rest))


@pytest.mark.django_db
def test_blank_categories_are_labelled(store):
    result = store("segment,n\r\nA,1\r\n,5\r\nA,2\r\n")

    chart = chart_data(result, "segment", "n")

    assert (chart.labels, chart.values) == (["(blank)", "A"], [5, 3])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("x", "y", "aggregation"),
    [("campaign", "day", "sum"), ("nope", "spend", "sum"), ("campaign", None, "sum"), ("day", "spend", "median")],
)
def test_invalid_chart_choices_are_refused(result, x, y, aggregation):
    with pytest.raises(ChartError):
        chart_data(result, x, y, aggregation=aggregation)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 (our own output, parsed to check it is well-formed)


@pytest.mark.parametrize("kind", ["bar", "line"])
def test_svg_escapes_every_text_from_the_result(kind):
    evil = '<script>alert("x")</script>'
    chart = ChartData(
        x=f"x {evil}", y="y & z", aggregation="sum", x_type="string", labels=[evil, "ok\x00"], values=[3, 1]
    )

    svg = render_svg(chart, kind=kind, width=400, height=240)

    root = parse(svg)
    assert "<script" not in svg
    assert not root.findall(f".//{SVG}script")
    assert "&lt;script&gt;" in svg
    tooltips = [t.text for t in root.iter(f"{SVG}title")]
    assert f"{evil}: 3" in tooltips  # the exact text survives as text
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == f"Sum of y & z by x {evil}"
    assert root.find(f"{SVG}desc") is not None


def test_bar_svg_has_one_bar_per_category_and_axis_labels():
    chart = ChartData(
        x="campaign", y="reach", aggregation="sum", x_type="string", labels=["A", "B", "Other"], values=[5, -2, 1]
    )

    root = parse(render_svg(chart, kind="bar", width=500, height=300))

    bars = root.findall(f"{SVG}rect")
    assert [b.find(f"{SVG}title").text for b in bars] == ["A: 5", "B: -2", "Other: 1"]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "campaign" in texts and "sum of reach" in texts
    assert {"A", "B", "Other"} <= set(texts)


def test_line_svg_has_one_point_per_value():
    chart = ChartData(
        x="day", y="n", aggregation="sum", x_type="date", labels=["2024-01-01", "2024-01-02"], values=[1, 4]
    )

    root = parse(render_svg(chart, kind="line"))

    assert len(root.findall(f"{SVG}circle")) == 2
    assert len(root.find(f"{SVG}polyline").get("points").split()) == 2


def test_empty_chart_says_so():
    svg = render_svg(ChartData(x="day", y="n", aggregation="sum", x_type="date"), kind="line")
    assert "No data to chart" in svg and parse(svg) is not None


@pytest.mark.parametrize(("low", "high"), [(0, 7), (0, 1234), (-35, 80), (0, 0.03), (5, 5)])
def test_nice_ticks_cover_the_range_in_round_steps(low, high):
    ticks = nice_ticks(low, high)

    assert ticks[0] <= low and ticks[-1] >= high
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1 and 2 <= len(ticks) <= 12
