"""Chart data from a stored result, aggregated in DuckDB, as a JSON spec the ECharts bundle draws
(frontend/charts.js; decision in docs/decisions.md, "Front-end libraries").

`chart_data` aggregates one or more metrics by a dimension x, optionally split by a second dimension:
- a date or timestamp x gives a time series ordered by x (a line by default); when there are more than
  `max_points` distinct values they are grouped by day, month or year (the finest that fits); rows without a
  valid x are left out;
- any other x is categorical (bars by default): the `top_n` categories by the first metric, largest first, and
  the rest as one "Other" category. An empty x is the category "(blank)";
- a split makes one series per value of the second dimension (the `split_top` largest, the rest as "Other"),
  for the first metric; without a split every metric is a series.
Each group, "Other" included, is aggregated over its rows in DuckDB, so an average of "Other" is the average
of its rows, never an average of averages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from executions.models import ExecutionResult

from . import DATE, NUMERIC_TYPES, STRING, TEMPORAL_TYPES, TIMESTAMP, duckdb_connect, storage_column
from .reader import column_index, local_sidecar, sql_value

AGGREGATIONS = ("sum", "avg", "min", "max", "count")
AGGREGATION_LABELS = {"sum": "Sum", "avg": "Average", "min": "Minimum", "max": "Maximum", "count": "Count of rows"}
KINDS = ("bar", "line")
OTHER_LABEL = "Other"
BLANK_LABEL = "(blank)"
MAX_METRICS = 6
_TIME_BUCKETS = {DATE: (None, "month", "year"), TIMESTAMP: (None, "day", "month", "year")}
_BUCKET_FORMATS = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


class ChartError(ValueError):
    """The chosen columns or aggregation cannot make a chart."""


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | int | None]


@dataclass(frozen=True)
class ChartData:
    x: str
    metrics: tuple[str, ...]  # empty when counting rows
    aggregation: str
    x_type: str
    split: str | None = None
    labels: list[str] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    bucket: str | None = None  # day / month / year when a time series was grouped
    other_categories: int = 0  # categories folded into "Other"

    @property
    def values(self) -> list[float | int | None]:
        """The first series (the only one for a single metric without a split)."""
        return self.series[0].values if self.series else []

    @property
    def y_label(self) -> str:
        if self.aggregation == "count":
            return "rows"
        words = AGGREGATION_LABELS[self.aggregation].lower()
        return f"{words} of {', '.join(self.metrics[:1] if self.split else self.metrics)}"

    @property
    def title(self) -> str:
        measure = "Rows" if self.aggregation == "count" else self.y_label[0].upper() + self.y_label[1:]
        split = f" split by {self.split}" if self.split else ""
        return f"{measure} by {self.x}{split}" + (f" ({self.bucket})" if self.bucket else "")

    @property
    def default_kind(self) -> str:
        return "line" if self.x_type in TEMPORAL_TYPES else "bar"

    def spec(self, kind: str | None = None, *, filename: str = "chart") -> dict:
        """What frontend/charts.js draws (and the page's data table lists)."""
        kind = kind if kind in KINDS else self.default_kind
        return {
            "kind": kind,
            "title": self.title,
            "x_label": self.x + (f" ({self.bucket})" if self.bucket else ""),
            "y_label": self.y_label,
            "labels": self.labels,
            "series": [{"name": s.name, "values": s.values} for s in self.series],
            # stacked bars show a split's parts adding up to the whole; averages or extremes do not add up
            "stacked": bool(self.split) and self.aggregation in ("sum", "count"),
            "other_categories": self.other_categories,
            "filename": re.sub(r"[^A-Za-z0-9_-]+", "-", filename).strip("-") or "chart",
        }


def suggest_chart(columns: list[dict]) -> tuple[str | None, str | None]:
    """Default (x, y) column names: x is the first date/timestamp column, else the first string column; y is
    the first numeric column that does not look like an identifier. Either is None when there is none."""
    x = next((c for c in columns if c["type"] in TEMPORAL_TYPES), None)
    x = x or next((c for c in columns if c["type"] == STRING), None)
    y = next((c for c in columns if c["type"] in NUMERIC_TYPES and not _looks_like_id(c["name"])), None)
    return (x["name"] if x else None, y["name"] if y else None)


def chartable_metrics(columns: list[dict]) -> list[str]:
    return [c["name"] for c in columns if c["type"] in NUMERIC_TYPES]


def _looks_like_id(name: str) -> bool:
    return re.search(r"(^|_)id$", name.lower()) is not None


def chart_data(
    result: ExecutionResult,
    x: str,
    y: str | list[str] | None = None,
    *,
    aggregation: str = "sum",
    split: str | None = None,
    top_n: int = 10,
    split_top: int = 6,
    max_points: int = 400,
) -> ChartData:
    """Aggregate the metric column(s) y by column x, optionally split by a second dimension (see the module
    docstring for ordering, grouping and "Other")."""
    columns = list(result.columns)
    if aggregation not in AGGREGATIONS:
        raise ChartError(f"Unknown aggregation {aggregation!r}; use one of {', '.join(AGGREGATIONS)}.")
    metrics = [y] if isinstance(y, str) else [m for m in (y or []) if m]
    x_index = _index(columns, x)
    x_type = columns[x_index]["type"]
    if aggregation == "count":
        metrics, measures = [], ["count(*)"]
    else:
        if not metrics:
            raise ChartError(f"Choose a numeric column to {aggregation}.")
        if split:
            metrics = metrics[:1]  # a split draws one metric; several would need a series per pair
        measures = [_measure(columns, name, aggregation) for name in dict.fromkeys(metrics[:MAX_METRICS])]
        metrics = list(dict.fromkeys(metrics[:MAX_METRICS]))
    split_index = None
    if split:
        split_index = _index(columns, split)
        if split_index == x_index:
            raise ChartError("Split by a different column than the dimension.")
    chart = ChartData(x, tuple(metrics), aggregation, x_type, split)
    with local_sidecar(result) as path, duckdb_connect() as con:
        query = _Query(con, str(path), measures)
        if x_type in TEMPORAL_TYPES:
            key, bucket = query.time_key(sql_value(x_index, x_type), x_type, max_points)
        else:
            key, bucket = f"coalesce({storage_column(x_index)}, '')", None
        split_key = f"coalesce({storage_column(split_index)}, '')" if split_index is not None else None
        top = 0 if x_type in TEMPORAL_TYPES else top_n  # a time series keeps every point, in order
        rows, folded = query.grouped(key, split_key, top, split_top)
    return _assemble(chart, rows, bucket, folded)


def _index(columns: list[dict], name: str) -> int:
    try:
        return column_index(columns, name)
    except ValueError:
        raise ChartError(f"The result has no column {name!r}.")


def _measure(columns: list[dict], name: str, aggregation: str) -> str:
    index = _index(columns, name)
    if columns[index]["type"] not in NUMERIC_TYPES:
        raise ChartError(f"Column {name!r} is not numeric, so it cannot be aggregated with {aggregation}.")
    return f"{aggregation}({sql_value(index, columns[index]['type'])})"


class _Query:
    """The DuckDB queries over one result's Parquet copy."""

    def __init__(self, con, path: str, measures: list[str]) -> None:
        self.con, self.path, self.measures = con, path, measures

    def time_key(self, value: str, x_type: str, max_points: int) -> tuple[str, str | None]:
        buckets = _TIME_BUCKETS[x_type]
        counts = self.con.execute(
            "SELECT "
            + ", ".join(f"count(DISTINCT {_bucketed(value, b)})" for b in buckets)
            + " FROM read_parquet($path)",
            {"path": self.path},
        ).fetchone()
        bucket = next((b for b, n in zip(buckets, counts, strict=True) if n <= max_points), buckets[-1])
        return _bucketed(value, bucket), bucket

    def grouped(self, key: str, split_key: str | None, top_n: int, split_top: int) -> tuple[list[tuple], int]:
        """Rows (x rank, x, split rank, split, *measures) with x ranked by the first measure (NULL x = "Other"
        when top_n > 0 and there are more categories) and the split likewise; and how many x were folded."""
        first = self.measures[0]
        split_expr = split_key or "''"
        measures = ", ".join(self.measures)
        rows = self.con.execute(
            f"""
            WITH data AS (SELECT *, {key} AS _k, {split_expr} AS _s FROM read_parquet($path)),
            kept AS (SELECT * FROM data WHERE _k IS NOT NULL),
            ks AS (SELECT _k, row_number() OVER (ORDER BY {first} DESC NULLS LAST, _k) AS _kr FROM kept GROUP BY _k),
            ss AS (SELECT _s, row_number() OVER (ORDER BY {first} DESC NULLS LAST, _s) AS _sr FROM kept GROUP BY _s)
            SELECT CASE WHEN $top = 0 OR _kr <= $top THEN _kr END AS kr,
                   CASE WHEN $top = 0 OR _kr <= $top THEN _k END AS k,
                   CASE WHEN _sr <= $stop THEN _sr END AS sr,
                   CASE WHEN _sr <= $stop THEN _s END AS s,
                   {measures}
            FROM kept JOIN ks USING (_k) JOIN ss USING (_s)
            GROUP BY ALL
            """,
            {"path": self.path, "top": max(0, top_n), "stop": max(1, split_top)},
        ).fetchall()
        folded = 0
        if top_n:
            (distinct,) = self.con.execute(
                f"SELECT count(DISTINCT {key}) FROM read_parquet($path)", {"path": self.path}
            ).fetchone()
            folded = max(0, distinct - top_n)
        return rows, folded


def _bucketed(value: str, bucket: str | None) -> str:
    return f"date_trunc('{bucket}', {value})" if bucket else value


def _assemble(chart: ChartData, rows: list[tuple], bucket: str | None, folded: int) -> ChartData:
    """Labels in x order (rank for categories, time for a series; "Other" last) and one series per metric, or
    per split value when split."""
    temporal = chart.x_type in TEMPORAL_TYPES

    def x_order(row):
        if temporal:
            return (0, row[1])
        return (row[0] is None, row[0] or 0)

    xs = list(dict.fromkeys(row[1] for row in sorted(rows, key=x_order)))
    labels = [_label(k, bucket, chart.x_type) for k in xs]
    position = {k: i for i, k in enumerate(xs)}
    aggregation = chart.aggregation
    if chart.split:
        splits = list(dict.fromkeys(r[3] for r in sorted(rows, key=lambda r: (r[2] is None, r[2] or 0))))
        cells = {(r[1], r[3]): r[4] for r in rows}
        series = [Series(_split_label(s), [_number(cells.get((k, s)), aggregation) for k in xs]) for s in splits]
    else:
        names = chart.metrics or ("rows",)
        values = [[None] * len(xs) for _ in names]
        for row in rows:
            for i in range(len(names)):
                values[i][position[row[1]]] = row[4 + i]
        series = [Series(name, [_number(v, aggregation) for v in vs]) for name, vs in zip(names, values, strict=True)]
    return ChartData(chart.x, chart.metrics, aggregation, chart.x_type, chart.split, labels, series, bucket, folded)


def _label(key, bucket: str | None, x_type: str) -> str:
    if key is None:
        return OTHER_LABEL
    if x_type in TEMPORAL_TYPES:
        if bucket:
            return key.strftime(_BUCKET_FORMATS[bucket])
        return key.isoformat(sep=" ") if x_type == TIMESTAMP else key.isoformat()
    return key or BLANK_LABEL


def _split_label(key) -> str:
    return OTHER_LABEL if key is None else (key or BLANK_LABEL)


def _number(value, aggregation: str):
    """Integer sums and counts stay int, the rest float; an empty sum or count is 0, an empty min/max/avg None."""
    if value is None:
        return 0 if aggregation in ("sum", "count") else None
    return value if isinstance(value, int) else float(value)
