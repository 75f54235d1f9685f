"""Charts: default choice, aggregation in DuckDB (time series, top N + Other, several metrics, a split) and
the spec the ECharts bundle draws."""

from collections import defaultdict

import httpx
import pytest

from executions.models import Execution
from executions.results.charts import ChartData, ChartError, chart_data, suggest_chart
from executions.results.ingest import store_result


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
    [
        ("campaign", "day", "sum"),
        ("nope", "spend", "sum"),
        ("campaign", None, "sum"),
        ("day", "spend", "median"),
        ("campaign", ["spend", "campaign"], "avg"),
    ],
)
def test_invalid_chart_choices_are_refused(result, x, y, aggregation):
    with pytest.raises(ChartError):
        chart_data(result, x, y, aggregation=aggregation)


@pytest.mark.django_db
def test_several_metrics_are_one_series_each(result):
    chart = chart_data(result, "campaign", ["impressions", "spend"], top_n=3)

    assert [s.name for s in chart.series] == ["impressions", "spend"]
    spend = defaultdict(float)
    for campaign, _, _, amount in rows_of(300):
        spend[campaign] += amount
    top = chart.labels[:3]
    assert chart.series[1].values[:3] == pytest.approx([spend[c] for c in top])
    assert chart.series[1].values[3] == pytest.approx(sum(v for c, v in spend.items() if c not in top))
    assert chart.y_label == "sum of impressions, spend"


@pytest.mark.django_db
def test_a_split_makes_one_series_per_value_of_the_second_dimension(store):
    result = store("day,device,n\r\n2024-03-02,tv,5\r\n2024-03-01,tv,1\r\n2024-03-01,web,2\r\n2024-03-02,,7\r\n")

    chart = chart_data(result, "day", "n", split="device")

    assert chart.labels == ["2024-03-01", "2024-03-02"]
    series = {s.name: s.values for s in chart.series}
    assert series == {"(blank)": [0, 7], "tv": [1, 5], "web": [2, 0]}
    assert [s.name for s in chart.series] == ["(blank)", "tv", "web"]  # largest total first
    spec = chart.spec(filename="ex 1/chart")
    assert spec["kind"] == "line" and spec["stacked"] and spec["filename"] == "ex-1-chart"
    assert chart.title == "Sum of n by day split by device"


@pytest.mark.django_db
def test_a_split_folds_small_values_into_other(store):
    lines = ["segment,device,n"] + [f"s{i % 2},d{i},{i + 1}" for i in range(6)]
    result = store("\r\n".join(lines) + "\r\n")

    chart = chart_data(result, "segment", "n", split="device", split_top=2, aggregation="max")

    assert [s.name for s in chart.series] == ["d5", "d4", "Other"]
    assert dict(zip(chart.labels, chart.series[2].values, strict=True)) == {"s1": 4, "s0": 3}
    assert not chart.spec()["stacked"]  # maxima do not add up


def test_kind_follows_the_dimension_unless_chosen():
    categories = ChartData(x="campaign", metrics=("n",), aggregation="sum", x_type="string")
    days = ChartData(x="day", metrics=("n",), aggregation="avg", x_type="date")

    assert categories.spec()["kind"] == "bar" and days.spec()["kind"] == "line"
    assert days.spec("bar")["kind"] == "bar" and categories.spec("pie")["kind"] == "bar"
    assert days.spec()["y_label"] == "average of n" and days.title == "Average of n by day"


@pytest.mark.django_db
def test_spec_keeps_result_text_as_data(store):
    evil = "<script>alert(1)</script> & <b>"
    result = store(f"label,n\r\n{evil},3\r\n")

    spec = chart_data(result, "label", "n").spec()

    assert spec["labels"] == [evil] and spec["series"] == [{"name": "n", "values": [3]}]
