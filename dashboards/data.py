"""What a dashboard shows, computed from its source's results: series per window, KPIs, period deltas, breakdown.

Additivity is explicit: an additive metric (impressions, spend) is summed across rows, instances and dimension
values; a non-additive one (distinct users, rates, averages) is shown only where one result row gives the value
(one window × instance × dimension value) and is never summed: a total that would need a sum is None ("n/a").
The result is plain JSON, so a snapshot is this dict frozen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from executions.results import NUMERIC_TYPES
from executions.results.additivity import (  # the rule lives with results; re-exported for dashboards
    ADDITIVE,
    NON_ADDITIVE,  # noqa: F401 (re-exported: dashboards.forms and views read it from here)
    catalog_metric_names,
    guess_kind,
)
from executions.results.reader import sql_value
from runsets import combined

NO_CHANGE_TOLERANCE = 0.0005  # relative: under 0.05 % reads "no change", not a green 0.00 %
_DOWN_IS_GOOD_WORDS = ("cost", "spend", "cpa", "cpc", "cpm", "price", "bounce")
OTHER = "Other"


def guess_down_is_good(name: str) -> bool:
    return any(word in name.lower() for word in _DOWN_IS_GOOD_WORDS)


def parts_for(dashboard) -> list[combined.Part]:
    if dashboard.run_set_id:
        from runsets.services import result_parts

        return result_parts(dashboard.run_set)
    from schedules.models import ScheduleRun
    from schedules.timing import get_zone

    zone = get_zone(dashboard.schedule.timezone)
    runs = (
        ScheduleRun.objects.filter(schedule=dashboard.schedule, is_test=False, status=ScheduleRun.Status.SUCCEEDED)
        .filter(execution__result__isnull=False, window_start__isnull=False)
        .select_related("execution__result__execution", "instance")
        .order_by("window_start")
    )
    return [
        combined.Part(
            r.execution.result,
            r.instance.instance_id,  # a schedule over several instances: each run its own
            r.window_start.astimezone(zone).date(),
            (r.window_end.astimezone(zone) - timedelta(seconds=1)).date(),
        )  # fmt: skip
        for r in runs
    ]


def columns_of(table: combined.Combined) -> tuple[list[str], list[str]]:
    """(numeric columns: metric candidates, other columns: dimension candidates)."""
    metrics = [c["name"] for c in table.columns if c["type"] in NUMERIC_TYPES]
    dimensions = [c["name"] for c in table.columns if c["type"] not in NUMERIC_TYPES]
    return metrics, dimensions


def compute(dashboard, *, instances=(), values=(), start: date | None = None, end: date | None = None) -> dict:
    table = combined.combine(parts_for(dashboard))
    index = {c["name"]: (i, c["type"]) for i, c in enumerate(table.columns)}
    metrics = [m for m in dashboard.metrics if m in index and index[m][1] in NUMERIC_TYPES]
    dimension = dashboard.dimension if dashboard.dimension in index else ""
    grouped = _grouped(table, index, metrics, dimension, list(instances), list(values), start, end)
    windows = grouped.windows
    catalog = catalog_metric_names()
    data = {
        "windows": [w.isoformat() for w in windows],
        "instances": sorted({key[1] for key in grouped.by_instance}),
        "dimension": dimension,
        "dimension_values": sorted((v for v, _h in grouped.by_value if v is not None), key=str)[:500],
        "metrics": [],
    }
    for position, metric in enumerate(metrics):
        kind = dashboard.kinds.get(metric) or guess_kind(metric, catalog)
        down_good = metric in dashboard.down_is_good

        def groups(rows, position=position):
            return {key: [sums[position], counts[position]] for key, (sums, counts) in rows.items() if counts[position]}

        by_window = groups(grouped.by_window)
        totals = _values(by_window, kind)
        # Per dimension value, the sums and row counts of every window (aligned with `windows`), from DuckDB.
        histories = [
            (v, sums[position], counts[position]) for v, (sums, counts) in grouped.by_value if any(counts[position])
        ]
        if dashboard.split == "instance":
            series = _instance_series(groups(grouped.by_instance), kind, windows)
        elif dashboard.split == "dimension" and dimension:
            series = _dimension_series(histories, by_window, dashboard.top_n, kind, windows)
        else:
            series = []
        data["metrics"].append(
            {
                "name": metric, "kind": kind, "down_is_good": down_good,
                "total": [totals.get(w) for w in windows], "series": series,
                "kpi": _kpi(windows, totals, down_good),
                "breakdown": _breakdown(histories, kind, down_good) if dimension else [],
            }
        )  # fmt: skip
    return data


@dataclass
class Grouped:
    windows: list = field(default_factory=list)  # window starts, oldest first
    by_window: dict = field(default_factory=dict)  # window -> (sums, counts) per metric
    by_instance: dict = field(default_factory=dict)  # (window, instance) -> (sums, counts)
    by_value: list = field(default_factory=list)  # [(value, (sums lists, counts lists))], lists aligned to windows


def _grouped(table, index, metrics, dimension, instances, values, start, end) -> Grouped:
    """Sums and row counts per metric, grouped by DuckDB over the stored Parquet results: per window and per
    (window, instance) in one pass, and per dimension value as one row holding every window's sum and count (so
    Python never walks window × value pairs). Row counts let a non-additive value show only for a single row."""
    grouped = Grouped()
    if not table.parts or not metrics:
        return grouped
    dim_sql = f"c{index[dimension][0]}" if dimension else "NULL"
    picked = ", ".join(f"{sql_value(index[m][0], 'decimal')} AS m{i}" for i, m in enumerate(metrics))
    where, params = ["TRUE"], {}
    if instances:
        where.append("list_contains($instances, instance)")
        params["instances"] = instances
    if values and dimension:
        where.append(f"list_contains($values, {dim_sql})")
        params["values"] = [str(v) for v in values]
    if start:
        where.append("window_start >= $start")
        params["start"] = start
    if end:
        where.append("window_start <= $end")
        params["end"] = end
    n = len(metrics)
    sums = ", ".join(f"SUM(m{i}) AS s{i}" for i in range(n))
    counts = ", ".join(f"COUNT(m{i}) AS c{i}" for i in range(n))
    with combined.relation(table) as con:
        con.execute(
            f"CREATE TEMP TABLE f AS SELECT instance, window_start, {dim_sql} AS d, {picked} FROM combined "
            f"WHERE {' AND '.join(where)}",
            params,
        )
        for row in con.execute(
            f"SELECT GROUPING(instance), window_start, instance, {sums}, {counts} FROM f "
            "GROUP BY GROUPING SETS ((window_start), (window_start, instance)) ORDER BY window_start"
        ).fetchall():
            key = row[1] if row[0] else (row[1], row[2])
            (grouped.by_window if row[0] else grouped.by_instance)[key] = (row[3 : 3 + n], row[3 + n : 3 + 2 * n])
        grouped.windows = sorted(grouped.by_window)
        if dimension:
            lists = ", ".join(
                [f"list(g.s{i} ORDER BY w.window_start)" for i in range(n)]
                + [f"list(COALESCE(g.c{i}, 0) ORDER BY w.window_start)" for i in range(n)]
            )
            rows = con.execute(
                f"WITH g AS (SELECT d, window_start, {sums}, {counts} FROM f GROUP BY d, window_start), "
                "w AS (SELECT DISTINCT window_start FROM f), v AS (SELECT DISTINCT d FROM f) "
                f"SELECT v.d, {lists} FROM v CROSS JOIN w "
                "LEFT JOIN g ON g.d IS NOT DISTINCT FROM v.d AND g.window_start = w.window_start GROUP BY v.d"
            ).fetchall()
            grouped.by_value = [(row[0], (row[1 : 1 + n], row[1 + n : 1 + 2 * n])) for row in rows]
    return grouped


def _values(groups: dict, kind: str) -> dict:
    """An additive group's sum; a non-additive value only where one result row is the whole group."""
    return {k: (total if kind == ADDITIVE or rows == 1 else None) for k, (total, rows) in groups.items()}


def _history(sums: list, counts: list, kind: str) -> list:
    """`_values` for one dimension value's aligned window lists (None where the window has no row)."""
    if kind == ADDITIVE:
        return sums
    return [total if rows == 1 else None for total, rows in zip(sums, counts, strict=True)]


def _instance_series(by_instance: dict, kind: str, windows) -> list[dict]:
    values = _values(by_instance, kind)
    keys = sorted({k[1] for k in values})
    return [{"name": k, "values": [values.get((w, k)) for w in windows]} for k in keys]


def _dimension_series(histories, by_window: dict, top_n: int, kind: str, windows) -> list[dict]:
    """Top N values at the latest window, then Other: the window's total minus its top values (sums and row
    counts), without a pass over every value."""
    ranked = sorted(((h[1][-1], str(h[0]), h) for h in histories if h[2] and h[2][-1]), key=lambda r: (-r[0], r[1]))
    top = [h for _s, _n, h in ranked[:top_n]]
    series = [{"name": str(value), "values": _history(sums, counts, kind)} for value, sums, counts in top]
    other, has_other = [], False
    for position, window in enumerate(windows):
        total, rows = by_window.get(window, (None, 0))
        top_total = sum(sums[position] for _v, sums, counts in top if counts[position])
        top_rows = sum(counts[position] for _v, _s, counts in top)
        if rows > top_rows:
            has_other = True
            remainder, remaining_rows = total - top_total, rows - top_rows
            other.append(remainder if kind == ADDITIVE or remaining_rows == 1 else None)
        else:
            other.append(None)
    return series + ([{"name": OTHER, "values": other}] if has_other else [])


def _year_before(windows, latest):
    for candidate in (latest - timedelta(days=364), _same_day_last_year(latest)):
        if candidate in windows:
            return candidate
    return None


def _same_day_last_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def change(current, previous, down_is_good: bool) -> dict | None:
    """Absolute and relative change, and whether it is good; within the tolerance it is "no change"."""
    if current is None or previous is None:
        return None
    delta = current - previous
    pct = (delta / abs(previous)) if previous else None
    flat = delta == 0 or (pct is not None and abs(pct) < NO_CHANGE_TOLERANCE)
    tone = "flat" if flat else ("good" if (delta < 0) == down_is_good else "bad")
    return {"delta": delta, "pct": None if pct is None else pct * 100, "tone": tone}


def _kpi(windows, totals, down_is_good) -> dict:
    if not windows:
        return {}
    latest = windows[-1]
    previous = windows[-2] if len(windows) > 1 else None
    year = _year_before(windows, latest)
    value = totals.get(latest)
    return {
        "window": latest.isoformat(),
        "value": value,
        "previous": totals.get(previous) if previous else None,
        "vs_previous": change(value, totals.get(previous), down_is_good) if previous else None,
        "vs_year": change(value, totals.get(year), down_is_good) if year else None,
        "history": [totals.get(w) for w in windows],
    }


def _breakdown(histories, kind, down_is_good) -> list[dict]:
    rows = []
    for value, sums, counts in sorted(histories, key=lambda h: str(h[0])):
        history = _history(sums, counts, kind)
        current = history[-1] if history else None
        before = history[-2] if len(history) > 1 else None
        rows.append(
            {
                "value": value, "current": current, "previous": before,
                "change": change(current, before, down_is_good), "history": history,
            }
        )  # fmt: skip
    return rows


def sort_breakdown(rows: list[dict], key: str, descending: bool) -> list[dict]:
    def value(row):
        if key == "value":
            return str(row["value"])
        if key in ("delta", "pct"):
            return (row["change"] or {}).get(key)
        return row.get(key)

    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    return sorted(present, key=value, reverse=descending) + missing
