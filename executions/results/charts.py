"""Chart data from a stored result, and a small server-side SVG renderer (no JavaScript, no dependency).

`chart_data` aggregates a metric (y) by a dimension (x) in DuckDB:
- a date or timestamp x gives a time series ordered by x; when there are more than `max_points` distinct
  values, they are grouped by day, month or year (the finest that fits); rows without a valid x are left out;
- any other x is categorical: the `top_n` categories by value, largest first, and the rest summed up (with the
  same aggregation) as one "Other" bar. An empty x is the category "(blank)".

`render_svg` draws a line or bar chart with a title, axis labels and ticks. Every piece of text from the result
is escaped, and each bar or point carries a <title> tooltip with its exact value. Points of a line are spaced
evenly in order (gaps in a time series are not widened).
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field

from executions.models import ExecutionResult

from . import DATE, NUMERIC_TYPES, STRING, TEMPORAL_TYPES, TIMESTAMP, duckdb_connect, storage_column
from .reader import column_index, local_sidecar, sql_value

AGGREGATIONS = ("sum", "avg", "min", "max", "count")
OTHER_LABEL = "Other"
BLANK_LABEL = "(blank)"
_TIME_BUCKETS = {DATE: (None, "month", "year"), TIMESTAMP: (None, "day", "month", "year")}
_BUCKET_FORMATS = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


class ChartError(ValueError):
    """The chosen columns or aggregation cannot make a chart."""


@dataclass(frozen=True)
class ChartData:
    x: str
    y: str | None  # None when counting rows
    aggregation: str
    x_type: str
    labels: list[str] = field(default_factory=list)
    values: list[float | int | None] = field(default_factory=list)
    bucket: str | None = None  # day / month / year when a time series was grouped
    other_categories: int = 0  # categories folded into "Other"

    @property
    def title(self) -> str:
        measure = "Rows" if self.aggregation == "count" else f"{self.aggregation.capitalize()} of {self.y}"
        return f"{measure} by {self.x}" + (f" ({self.bucket})" if self.bucket else "")

    @property
    def y_label(self) -> str:
        return "rows" if self.aggregation == "count" else f"{self.aggregation} of {self.y}"


def suggest_chart(columns: list[dict]) -> tuple[str | None, str | None]:
    """Default (x, y) column names: x is the first date/timestamp column, else the first string column; y is
    the first numeric column that does not look like an identifier. Either is None when there is none.
    A date/timestamp x reads best as a line chart, any other x as bars."""
    x = next((c for c in columns if c["type"] in TEMPORAL_TYPES), None)
    x = x or next((c for c in columns if c["type"] == STRING), None)
    y = next((c for c in columns if c["type"] in NUMERIC_TYPES and not _looks_like_id(c["name"])), None)
    return (x["name"] if x else None, y["name"] if y else None)


def _looks_like_id(name: str) -> bool:
    return re.search(r"(^|_)id$", name.lower()) is not None


def chart_data(
    result: ExecutionResult,
    x: str,
    y: str | None = None,
    *,
    aggregation: str = "sum",
    top_n: int = 10,
    max_points: int = 400,
) -> ChartData:
    """Aggregate column y by column x (see the module docstring for ordering and grouping)."""
    columns = list(result.columns)
    if aggregation not in AGGREGATIONS:
        raise ChartError(f"Unknown aggregation {aggregation!r}; use one of {', '.join(AGGREGATIONS)}.")
    x_index = _index(columns, x)
    x_type = columns[x_index]["type"]
    if aggregation == "count":
        y, measure = None, "count(*)"
    else:
        if y is None:
            raise ChartError(f"Choose a numeric column to {aggregation}.")
        y_index = _index(columns, y)
        if columns[y_index]["type"] not in NUMERIC_TYPES:
            raise ChartError(f"Column {y!r} is not numeric, so it cannot be aggregated with {aggregation}.")
        measure = f"{aggregation}({sql_value(y_index, columns[y_index]['type'])})"
    chart = ChartData(x, y, aggregation, x_type)
    with local_sidecar(result) as path, duckdb_connect() as con:
        if x_type in TEMPORAL_TYPES:
            return _time_series(con, str(path), chart, sql_value(x_index, x_type), measure, max_points)
        return _categories(con, str(path), chart, storage_column(x_index), measure, top_n)


def _index(columns: list[dict], name: str) -> int:
    try:
        return column_index(columns, name)
    except ValueError:
        raise ChartError(f"The result has no column {name!r}.")


def _time_series(con, path: str, chart: ChartData, key: str, measure: str, max_points: int) -> ChartData:
    buckets = _TIME_BUCKETS[chart.x_type]
    counts = con.execute(
        "SELECT " + ", ".join(f"count(DISTINCT {_bucketed(key, b)})" for b in buckets) + " FROM read_parquet($path)",
        {"path": path},
    ).fetchone()
    bucket = next((b for b, n in zip(buckets, counts, strict=True) if n <= max_points), buckets[-1])
    rows = con.execute(
        f"SELECT {_bucketed(key, bucket)} AS k, {measure} FROM read_parquet($path) WHERE k IS NOT NULL"
        " GROUP BY k ORDER BY k",
        {"path": path},
    ).fetchall()
    labels = [_time_label(k, bucket, chart.x_type) for k, _ in rows]
    return _with_points(chart, labels, [_number(v, chart.aggregation) for _, v in rows], bucket=bucket)


def _time_label(key, bucket: str | None, x_type: str) -> str:
    if bucket:
        return key.strftime(_BUCKET_FORMATS[bucket])
    return key.isoformat(sep=" ") if x_type == TIMESTAMP else key.isoformat()


def _bucketed(key: str, bucket: str | None) -> str:
    return f"date_trunc('{bucket}', {key})" if bucket else key


def _categories(con, path: str, chart: ChartData, column: str, measure: str, top_n: int) -> ChartData:
    rows = con.execute(
        f"""
        WITH data AS (SELECT *, coalesce({column}, '') AS k FROM read_parquet($path)),
        grouped AS (SELECT k, {measure} AS v FROM data GROUP BY k),
        top AS (SELECT k, v FROM grouped ORDER BY v DESC NULLS LAST, k LIMIT $top)
        SELECT k, v, 0 AS categories_folded FROM top
        UNION ALL
        SELECT NULL, {measure}, count(DISTINCT k) FROM data WHERE k NOT IN (SELECT k FROM top) HAVING count(*) > 0
        """,
        {"path": path, "top": max(1, top_n)},
    ).fetchall()
    top = sorted((r for r in rows if r[0] is not None), key=lambda r: (r[1] is None, -(r[1] or 0), r[0]))
    labels = [k or BLANK_LABEL for k, _, _ in top]
    values = [_number(v, chart.aggregation) for _, v, _ in top]
    other = next((r for r in rows if r[0] is None), None)
    if other:
        labels.append(OTHER_LABEL)
        values.append(_number(other[1], chart.aggregation))
    return _with_points(chart, labels, values, other_categories=other[2] if other else 0)


def _with_points(chart: ChartData, labels, values, **extra) -> ChartData:
    return ChartData(chart.x, chart.y, chart.aggregation, chart.x_type, labels, values, **extra)


def _number(value, aggregation: str):
    """Integer sums and counts stay int, the rest float; an empty sum or count is 0, an empty min/max/avg None."""
    if value is None:
        return 0 if aggregation in ("sum", "count") else None
    return value if isinstance(value, int) else float(value)


# --- SVG ---------------------------------------------------------------------------------------------------

_MARGIN = {"top": 36, "right": 16, "bottom": 64, "left": 64}  # room for title, tick labels and axis labels
_COLOR = "#3b6ea5"
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render_svg(
    chart: ChartData, kind: str = "bar", width: int = 640, height: int = 320, *, element_id: str = "chart"
) -> str:
    """The chart as a standalone, accessible SVG document (role="img", <title> and <desc>)."""
    if kind not in ("line", "bar"):
        raise ChartError(f"Unknown chart kind {kind!r}; use line or bar.")
    frame = _Frame(width, height)
    ident = _esc(re.sub(r"[^A-Za-z0-9_-]", "-", element_id))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' role="img" aria-labelledby="{ident}-title {ident}-desc" font-family="sans-serif" font-size="11">',
        f'<title id="{ident}-title">{_esc(chart.title)}</title>',
        f'<desc id="{ident}-desc">{_esc(_describe(chart, kind))}</desc>',
        f'<text x="{width / 2:.1f}" y="20" text-anchor="middle" font-size="14" font-weight="bold">'
        f"{_esc(chart.title)}</text>",
    ]
    present = [v for v in chart.values if v is not None]
    if present:
        frame.scale(nice_ticks(min(0, *present), max(0, *present)))
        parts += _y_axis(frame)
        parts += _bars(frame, chart) if kind == "bar" else _line(frame, chart)
        parts += _x_axis(frame, chart, kind)
    else:
        parts.append(f'<text x="{width / 2:.1f}" y="{height / 2:.1f}" text-anchor="middle">No data to chart</text>')
    parts.append("</svg>")
    return "\n".join(parts)


class _Frame:
    """Where the plot area sits and how values map to pixels."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.left, self.top = _MARGIN["left"], _MARGIN["top"]
        self.plot_w = max(1, width - self.left - _MARGIN["right"])
        self.plot_h = max(1, height - self.top - _MARGIN["bottom"])
        self.ticks = [0.0, 1.0]

    def scale(self, ticks: list[float]) -> None:
        self.ticks = ticks

    def y_at(self, value: float) -> float:
        low, high = self.ticks[0], self.ticks[-1]
        return self.top + self.plot_h - (value - low) / (high - low) * self.plot_h

    def centers(self, count: int) -> list[float]:
        return [self.left + self.plot_w / count * (i + 0.5) for i in range(count)]


def _y_axis(frame: _Frame) -> list[str]:
    right = frame.left + frame.plot_w
    parts = []
    for tick in frame.ticks:
        y = frame.y_at(tick)
        parts.append(f'<line x1="{frame.left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end">{_esc(short_number(tick))}</text>')
    baseline = frame.y_at(0)
    parts.append(f'<line x1="{frame.left}" x2="{right}" y1="{baseline:.1f}" y2="{baseline:.1f}" stroke="#333"/>')
    parts.append(
        f'<line x1="{frame.left}" x2="{frame.left}" y1="{frame.top}" y2="{frame.top + frame.plot_h}" stroke="#333"/>'
    )
    return parts


def _bars(frame: _Frame, chart: ChartData) -> list[str]:
    count = len(chart.values)
    bar_w = max(1.0, frame.plot_w / count * 0.7)
    baseline = frame.y_at(0)
    parts = []
    for center, label, value in zip(frame.centers(count), chart.labels, chart.values, strict=True):
        if value is None:
            continue
        y0, y1 = sorted((frame.y_at(value), baseline))
        parts.append(
            f'<rect x="{center - bar_w / 2:.1f}" y="{y0:.1f}" width="{bar_w:.1f}" height="{max(y1 - y0, 0.5):.1f}"'
            f' fill="{_COLOR}"><title>{_esc(label)}: {_esc(full_number(value))}</title></rect>'
        )
    return parts


def _line(frame: _Frame, chart: ChartData) -> list[str]:
    points = [
        (x, frame.y_at(v), label, v)
        for x, label, v in zip(frame.centers(len(chart.values)), chart.labels, chart.values, strict=True)
        if v is not None
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
    parts = [f'<polyline points="{path}" fill="none" stroke="{_COLOR}" stroke-width="2"/>']
    for x, y, label, value in points:
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{_COLOR}">'
            f"<title>{_esc(label)}: {_esc(full_number(value))}</title></circle>"
        )
    return parts


def _x_axis(frame: _Frame, chart: ChartData, kind: str) -> list[str]:
    """Tick labels (every category for bars, slanted when crowded; about eight for lines) and axis labels."""
    count = len(chart.labels)
    every = 1 if kind == "bar" else max(1, math.ceil(count / 8))
    room = frame.plot_w / count * every
    slanted = kind == "bar" and room < 60
    y = frame.top + frame.plot_h + 14
    centers = frame.centers(count)
    parts = []
    for index in range(0, count, every):
        x = centers[index]
        text = _esc(_shorten(chart.labels[index], 14 if slanted else max(4, int(room / 7))))
        turn = f' transform="rotate(-35 {x:.1f} {y})"' if slanted else ""
        anchor = "end" if slanted else "middle"
        parts.append(f'<text x="{x:.1f}" y="{y}" text-anchor="{anchor}"{turn}>{text}</text>')
    middle_x = frame.left + frame.plot_w / 2
    middle_y = frame.top + frame.plot_h / 2
    parts.append(f'<text x="{middle_x:.1f}" y="{frame.height - 6}" text-anchor="middle">{_esc(chart.x)}</text>')
    parts.append(
        f'<text x="14" y="{middle_y:.1f}" text-anchor="middle" transform="rotate(-90 14 {middle_y:.1f})">'
        f"{_esc(chart.y_label)}</text>"
    )
    return parts


def _describe(chart: ChartData, kind: str) -> str:
    present = [(label, v) for label, v in zip(chart.labels, chart.values, strict=True) if v is not None]
    if not present:
        return f"{kind.capitalize()} chart with no data."
    top_label, top_value = max(present, key=lambda p: p[1])
    return (
        f"{kind.capitalize()} chart of {chart.y_label} by {chart.x}: {len(chart.labels)} points from "
        f"{chart.labels[0]} to {chart.labels[-1]}; highest is {top_label} at {full_number(top_value)}."
    )


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) covering low..high."""
    if high == low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    steps = math.ceil(high / step) - math.floor(low / step)
    return [round(start + i * step, 10) for i in range(steps + 1)]


def short_number(value: float) -> str:
    """Compact tick label: 1.5K, 2M, 0.25."""
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def full_number(value: float | int) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "…"


def _esc(text: str) -> str:
    """Text safe inside SVG/XML: markup characters escaped, characters XML forbids removed."""
    return html.escape(_INVALID_XML.sub("", str(text)), quote=True)
