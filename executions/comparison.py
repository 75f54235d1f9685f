"""Comparing any two runs of a query row by row: added, removed and changed rows with deltas and percentages.

Rows are matched on their dimension columns (the columns that are not metrics, `executions.results.additivity`)
by a DuckDB full outer join over the two stored Parquet copies, so a result is never loaded into Python; only the
page shown is. When the dimensions do not identify a row (the same key twice), the n-th row with a key in one run
matches the n-th in the other, in file order, and the page says so. Totals are given only for additive metrics:
a non-additive one (distinct users, rates, averages) is compared per row and never summed.

Every SQL name is generated here (k0…, m0…, c0… of the Parquet copy); nothing from the request reaches SQL text.
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from dataclasses import dataclass, field

from .models import Execution
from .results import INTEGER, duckdb_connect, storage_column, typed_value
from .results.additivity import (
    ADDITIVE,
    catalog_dimension_names,
    catalog_metric_names,
    guess_kind,
    is_metric,
)
from .results.reader import local_sidecar

PAGE_SIZE = 50
STATUSES = ("changed", "added", "removed", "unchanged")
SHOW_CHOICES = {
    "differences": ("changed", "added", "removed"),
    "changed": ("changed",),
    "added": ("added",),
    "removed": ("removed",),
    "unchanged": ("unchanged",),
    "all": STATUSES,
}
DEFAULT_SHOW = "differences"


def _change(a, b) -> tuple[float | None, float | None]:
    """(b - a, percent of a); the percent is None when a is zero or either side is missing."""
    if a is None or b is None:
        return None, None
    change = b - a
    return change, (change / abs(a) * 100 if a else None)


@dataclass(frozen=True)
class MetricDelta:
    """A metric's total in both runs (additive metrics only)."""

    name: str
    a: float
    b: float

    @property
    def change(self) -> float:
        return self.b - self.a

    @property
    def percent(self) -> float | None:
        return _change(self.a, self.b)[1]


@dataclass(frozen=True)
class Metric:
    name: str
    additive: bool


@dataclass(frozen=True)
class Cell:
    a: int | float | None
    b: int | float | None

    @property
    def change(self):
        return _change(self.a, self.b)[0]

    @property
    def percent(self):
        return _change(self.a, self.b)[1]


@dataclass(frozen=True)
class Row:
    status: str  # changed / added / removed / unchanged
    keys: list
    cells: list[Cell]


@dataclass(frozen=True)
class Comparison:
    rows_a: int | None
    rows_b: int | None
    dimensions: list[str] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    totals: list[MetricDelta] = field(default_factory=list)  # additive metrics only
    counts: dict[str, int] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    show: str = DEFAULT_SHOW
    sort: str = ""
    page: int = 1
    page_count: int = 1
    repeated_keys: int = 0  # rows whose dimensions repeat an earlier row's (matched by order)
    notes: list[str] = field(default_factory=list)

    @property
    def non_additive(self) -> list[str]:
        return [m.name for m in self.metrics if not m.additive]

    @property
    def filters(self) -> list[tuple[str, int]]:
        """(show choice, rows it lists) for the filter buttons."""
        return [(key, sum(self.counts.get(s, 0) for s in statuses)) for key, statuses in SHOW_CHOICES.items()]


@dataclass(frozen=True)
class _Layout:
    """Which stored column of each run plays which part."""

    dimensions: list[tuple[str, int, int]]  # (name, index in a, index in b)
    metrics: list[tuple[str, int, int, str]]  # (name, index in a, index in b, SQL type)
    kinds: dict[str, str]
    notes: list[str]


def layout(columns_a: list[dict], columns_b: list[dict]) -> _Layout:
    """Dimensions and metrics both runs share (matched by name), and what cannot be compared."""
    catalog_metrics, catalog_dimensions = catalog_metric_names(), catalog_dimension_names()
    index_b = {c["name"]: i for i, c in enumerate(columns_b)}
    dimensions, metrics, kinds, notes = [], [], {}, []
    for i, column in enumerate(columns_a):
        j = index_b.get(column["name"])
        if j is None:
            continue
        other = columns_b[j]
        metric_a = is_metric(column, catalog_metrics, catalog_dimensions)
        metric_b = is_metric(other, catalog_metrics, catalog_dimensions)
        if metric_a and metric_b:
            both_integer = column["type"] == other["type"] == INTEGER
            metrics.append((column["name"], i, j, "HUGEINT" if both_integer else "DOUBLE"))
            kinds[column["name"]] = guess_kind(column["name"], catalog_metrics)
        elif not metric_a and not metric_b:
            dimensions.append((column["name"], i, j))
        else:
            notes.append(f"{column['name']} is a number in one run and not in the other; it is left out.")
    only_a = [c["name"] for c in columns_a if c["name"] not in index_b]
    only_b = [c["name"] for c in columns_b if c["name"] not in {c["name"] for c in columns_a}]
    if only_a:
        notes.append("Only in the first run: " + ", ".join(only_a) + ".")
    if only_b:
        notes.append("Only in the second run: " + ", ".join(only_b) + ".")
    return _Layout(dimensions, metrics, kinds, notes)


def _key_columns(plan: _Layout, position: int) -> list[str]:
    return [storage_column(d[1 + position]) for d in plan.dimensions]


def _repeated_keys_sql(plan: _Layout) -> str:
    """How many key values occur more than once in either run (0: every row is identified by its dimensions)."""
    parts = []
    for position, param in ((0, "pa"), (1, "pb")):
        keys = ", ".join(_key_columns(plan, position))
        parts.append(
            f"(SELECT count(*) FROM (SELECT 1 FROM read_parquet(${param}) GROUP BY {keys} HAVING count(*) > 1))"
        )
    return "SELECT " + " + ".join(parts)


def _side(alias: str, path_param: str, plan: _Layout, position: int, numbered: bool) -> str:
    """One run's rows: its keys (text, as stored), metrics (typed) and its occurrence number per key.

    Numbering the occurrences is a window over every row, most of a comparison's time, so it is done only when
    some key repeats; otherwise each row is occurrence 1."""
    keys = [f"{column} AS k{n}" for n, column in enumerate(_key_columns(plan, position))]
    values = [f"TRY_CAST({storage_column(m[1 + position])} AS {m[3]}) AS m{n}" for n, m in enumerate(plan.metrics)]
    source = f"read_parquet(${path_param}, file_row_number = true)"
    rows = f"SELECT {', '.join([*keys, *values, 'file_row_number'])} FROM {source}"
    if not numbered:
        return f"{alias} AS (SELECT *, 1 AS dup FROM ({rows}))"
    partition = f"PARTITION BY {', '.join(f'k{n}' for n in range(len(plan.dimensions)))}" if plan.dimensions else ""
    return f"{alias} AS (SELECT *, row_number() OVER ({partition} ORDER BY file_row_number) AS dup FROM ({rows}))"


def _joined_sql(plan: _Layout, numbered: bool) -> str:
    """`WITH … joined AS (…)`: both runs' rows matched, with their status; the queries after it read `joined`.

    Not materialised: copying every row of both runs into a table cost more than joining them twice (once for the
    counts and totals, once for the page, which DuckDB reads as a top-N)."""
    on = [f"a.k{n} IS NOT DISTINCT FROM b.k{n}" for n in range(len(plan.dimensions))]
    on += ["a.dup = b.dup"] if numbered else []
    changed = " OR ".join(f"a.m{n} IS DISTINCT FROM b.m{n}" for n in range(len(plan.metrics))) or "FALSE"
    keys = [f"COALESCE(a.k{n}, b.k{n}) AS k{n}" for n in range(len(plan.dimensions))]
    values = [f"a.m{n} AS a{n}, b.m{n} AS b{n}" for n in range(len(plan.metrics))]
    status = (
        "CASE WHEN a.dup IS NULL THEN 'added' WHEN b.dup IS NULL THEN 'removed' "
        f"WHEN {changed} THEN 'changed' ELSE 'unchanged' END AS status"
    )
    columns = ", ".join([*keys, *values, status, "COALESCE(a.dup, b.dup) AS dup",
                         "COALESCE(a.file_row_number, b.file_row_number) AS position"])  # fmt: skip
    return (
        f"WITH {_side('a', 'pa', plan, 0, numbered)}, {_side('b', 'pb', plan, 1, numbered)}, "
        f"joined AS (SELECT {columns} FROM a FULL OUTER JOIN b ON {' AND '.join(on)}) "
    )


def compare_results(
    a: Execution, b: Execution, *, show: str = DEFAULT_SHOW, sort: str = "", page: int = 1, page_size: int = PAGE_SIZE
) -> Comparison:
    """Compare two runs' stored results; `show` picks the row statuses listed, `sort` a metric's largest change."""
    result_a, result_b = getattr(a, "result", None), getattr(b, "result", None)
    notes = [] if a.workflow_id == b.workflow_id else ["These executions ran different queries."]
    if result_a is None or result_b is None:
        notes.append("Both executions need stored results.")
        return Comparison(result_a and result_a.row_count, result_b and result_b.row_count, notes=notes)
    show = show if show in SHOW_CHOICES else DEFAULT_SHOW
    plan = layout(list(result_a.columns), list(result_b.columns))
    metric_names = [m[0] for m in plan.metrics]
    sort = sort if sort in metric_names else ""
    with ExitStack() as stack:
        path_a = stack.enter_context(local_sidecar(result_a))
        path_b = stack.enter_context(local_sidecar(result_b))
        con = stack.enter_context(duckdb_connect())
        paths = {"pa": str(path_a), "pb": str(path_b)}
        numbered = not plan.dimensions or con.execute(_repeated_keys_sql(plan), paths).fetchone()[0] > 0
        joined = _joined_sql(plan, numbered)
        additive = [(n, name) for n, name in enumerate(metric_names) if plan.kinds[name] == ADDITIVE]
        summary = con.execute(joined + _summary_sql(additive), paths).fetchone()  # counts, repeats and totals
        counts = dict(zip(STATUSES, summary[: len(STATUSES)], strict=True))
        repeated, totals_row = summary[len(STATUSES)], summary[len(STATUSES) + 1 :]
        shown = sum(counts.get(s, 0) for s in SHOW_CHOICES[show])
        page_count = max(1, math.ceil(shown / page_size))
        page = min(max(1, page), page_count)
        rows = con.execute(joined + _page_sql(plan, sort, metric_names), {
            **paths, "statuses": list(SHOW_CHOICES[show]), "limit": page_size, "offset": (page - 1) * page_size,
        }).fetchall()  # fmt: skip
    totals = [
        MetricDelta(name, _number(totals_row[2 * k]), _number(totals_row[2 * k + 1]))
        for k, (_n, name) in enumerate(additive)
    ]
    if repeated:
        notes.append(f"{repeated} rows repeat the dimensions of an earlier row; those were matched in file order.")
    return Comparison(
        result_a.row_count, result_b.row_count,
        dimensions=[d[0] for d in plan.dimensions],
        metrics=[Metric(name, plan.kinds[name] == ADDITIVE) for name in metric_names],
        totals=totals, counts={s: counts.get(s, 0) for s in STATUSES},
        rows=[_row(record, plan, result_a.columns) for record in rows],
        show=show, sort=sort, page=page, page_count=page_count, repeated_keys=repeated, notes=plan.notes + notes,
    )  # fmt: skip


def _summary_sql(additive: list[tuple[int, str]]) -> str:
    counts = [f"count(*) FILTER (WHERE status = '{status}')" for status in STATUSES]
    sums = [f"sum(a{n}), sum(b{n})" for n, _name in additive]
    return f"SELECT {', '.join([*counts, 'count(*) FILTER (WHERE dup > 1)', *sums])} FROM joined"


def _page_sql(plan: _Layout, sort: str, metric_names: list[str]) -> str:
    keys = [f"k{n}" for n in range(len(plan.dimensions))]
    values = [f"a{n}, b{n}" for n in range(len(plan.metrics))]
    rank = "CASE status WHEN 'changed' THEN 0 WHEN 'added' THEN 1 WHEN 'removed' THEN 2 ELSE 3 END"
    order = [rank]
    if sort:
        n = metric_names.index(sort)
        order = [f"abs(coalesce(b{n}, 0) - coalesce(a{n}, 0)) DESC", rank]
    order += [*keys, "dup", "position"]
    return (
        f"SELECT {', '.join(['status', *keys, *values])} FROM joined WHERE list_contains($statuses, status) "
        f"ORDER BY {', '.join(order)} LIMIT $limit OFFSET $offset"
    )


def _number(value):
    """A sum over no rows is NULL in SQL and zero here."""
    return 0 if value is None else value


def _row(record, plan: _Layout, columns_a: list[dict]) -> Row:
    status, rest = record[0], record[1:]
    width = len(plan.dimensions)
    keys = [typed_value(text, columns_a[d[1]]["type"]) for text, d in zip(rest[:width], plan.dimensions, strict=True)]
    values = rest[width:]
    cells = [Cell(_plain(values[2 * n]), _plain(values[2 * n + 1])) for n in range(len(plan.metrics))]
    return Row(status, keys, cells)


def _plain(value):
    """DuckDB's HUGEINT arrives as int and DOUBLE as float; a double that is not finite is shown as missing."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
