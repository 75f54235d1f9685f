"""What a dashboard shows, computed from its source's results: series per window, KPIs, period deltas, breakdown.

Additivity is explicit: an additive metric (impressions, spend) is summed across rows, instances and dimension
values; a non-additive one (distinct users, rates, averages) is shown only where one result row gives the value
(one window × instance × dimension value) and is never summed: a total that would need a sum is None ("n/a").
The result is plain JSON, so a snapshot is this dict frozen.
"""

from __future__ import annotations

from datetime import date, timedelta

from executions.results import NUMERIC_TYPES
from executions.results.reader import sql_value
from runsets import combined

ADDITIVE, NON_ADDITIVE = "additive", "non_additive"
NO_CHANGE_TOLERANCE = 0.0005  # relative: under 0.05 % reads "no change", not a green 0.00 %
_NON_ADDITIVE_WORDS = (
    "reach", "distinct", "unique", "users", "rate", "ctr", "cvr", "cpa", "cpc", "cpm", "avg", "average", "mean",
    "pct", "percent", "ratio", "per_", "roas", "frequency", "share", "median",
)  # fmt: skip
_DOWN_IS_GOOD_WORDS = ("cost", "spend", "cpa", "cpc", "cpm", "price", "bounce")
OTHER = "Other"


def guess_kind(name: str, catalog_metrics: set[str] = frozenset()) -> str:
    """A catalog metric column (e.g. impressions) is additive; otherwise the name decides."""
    lowered = name.lower()
    if lowered in catalog_metrics:
        return ADDITIVE
    return NON_ADDITIVE if any(word in lowered for word in _NON_ADDITIVE_WORDS) else ADDITIVE


def guess_down_is_good(name: str) -> bool:
    return any(word in name.lower() for word in _DOWN_IS_GOOD_WORDS)


def catalog_metric_names() -> set[str]:
    from queries.models import SchemaField

    return {n.lower() for n in SchemaField.objects.filter(kind=SchemaField.Kind.METRIC).values_list("name", flat=True)}


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
    sets = _grouped(table, index, metrics, dimension, list(instances), list(values), start, end)
    windows = sorted({key for key, _s, _c in sets["w"]})
    catalog = catalog_metric_names()
    data = {
        "windows": [w.isoformat() for w in windows],
        "instances": sorted({key[1] for key, _s, _c in sets["wi"]}),
        "dimension": dimension,
        "dimension_values": sorted({key[1] for key, _s, _c in sets["wd"] if key[1] is not None}, key=str)[:500],
        "metrics": [],
    }
    for position, metric in enumerate(metrics):
        kind = dashboard.kinds.get(metric) or guess_kind(metric, catalog)
        down_good = metric in dashboard.down_is_good

        def groups(name, position=position):
            return {key: [sums[position], counts[position]] for key, sums, counts in sets[name] if counts[position]}

        by_value = groups("wd")  # the breakdown's grain: window × dimension value (instances summed)
        by_window = groups("w")
        totals = _values(by_window, kind)
        series = _series(
            by_value, by_window, groups("wi") if dashboard.split == "instance" else {}, dashboard, kind, windows
        )
        data["metrics"].append(
            {
                "name": metric, "kind": kind, "down_is_good": down_good,
                "total": [totals.get(w) for w in windows], "series": series,
                "kpi": _kpi(windows, totals, down_good),
                "breakdown": _breakdown(by_value, windows, kind, down_good) if dimension else [],
            }
        )  # fmt: skip
    return data


def _grouped(table, index, metrics, dimension, instances, values, start, end) -> dict:
    """Sums and row counts per metric in one DuckDB pass, for three groupings: "wd" (window, dimension value),
    "w" (window) and "wi" (window, instance). Row counts let a non-additive value show only for a single row."""
    empty = {"wd": [], "w": [], "wi": []}
    if not table.parts or not metrics:
        return empty
    dim_sql = f"c{index[dimension][0]}" if dimension else "NULL"
    sums = ", ".join(f"SUM({sql_value(index[m][0], 'decimal')})" for m in metrics)
    counts = ", ".join(f"COUNT({sql_value(index[m][0], 'decimal')})" for m in metrics)
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
    sql = (
        f"SELECT GROUPING(instance), GROUPING(d), window_start, instance, d, {sums}, {counts} "
        f"FROM (SELECT *, {dim_sql} AS d FROM combined WHERE {' AND '.join(where)}) "
        "GROUP BY GROUPING SETS ((window_start, d), (window_start), (window_start, instance))"
    )
    with combined.relation(table) as con:
        fetched = con.execute(sql, params).fetchall()
    n = len(metrics)
    for row in fetched:
        no_instance, no_dimension, window = row[0], row[1], row[2]
        name, key = (
            ("w", window)
            if no_instance and no_dimension
            else (("wd", (window, row[4])) if no_instance else ("wi", (window, row[3])))
        )
        empty[name].append((key, row[5 : 5 + n], row[5 + n : 5 + 2 * n]))
    return empty


def _values(groups: dict, kind: str) -> dict:
    """An additive group's sum; a non-additive value only where one result row is the whole group."""
    return {k: (total if kind == ADDITIVE or rows == 1 else None) for k, (total, rows) in groups.items()}


def _series(by_value, by_window, by_instance, dashboard, kind, windows) -> list[dict]:
    split = dashboard.split
    if split == "instance":
        values = _values(by_instance, kind)
        keys = sorted({k[1] for k in values})
        return [{"name": k, "values": [values.get((w, k)) for w in windows]} for k in keys]
    if split == "dimension" and dashboard.dimension:
        latest = windows[-1] if windows else None
        ranking = {k[1]: v[0] for k, v in by_value.items() if k[0] == latest}
        top = set(sorted(ranking, key=lambda k: -ranking[k])[: dashboard.top_n])
        ordered = sorted(top, key=lambda k: -ranking[k])
        # Other = the window's total minus its top values (sums and row counts), without a pass over every value.
        grouped = {(w, k): by_value[(w, k)] for w in windows for k in ordered if (w, k) in by_value}
        for w, (total, rows) in by_window.items():
            top_total = sum(grouped[(w, k)][0] for k in ordered if (w, k) in grouped)
            top_rows = sum(grouped[(w, k)][1] for k in ordered if (w, k) in grouped)
            if rows > top_rows:
                grouped[(w, OTHER)] = [total - top_total, rows - top_rows]
        grouped = _values(grouped, kind)
        names = [*ordered, *([OTHER] if any(k[1] == OTHER for k in grouped) else [])]
        return [{"name": str(k), "values": [grouped.get((w, k)) for w in windows]} for k in names]
    return []


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


def _breakdown(by_value, windows, kind, down_is_good) -> list[dict]:
    per = _values(by_value, kind)
    latest = windows[-1] if windows else None
    previous = windows[-2] if len(windows) > 1 else None
    rows = []
    for value in sorted({k[1] for k in per}, key=str):
        current, before = per.get((latest, value)), per.get((previous, value))
        rows.append(
            {
                "value": value, "current": current, "previous": before,
                "change": change(current, before, down_is_good),
                "history": [per.get((w, value)) for w in windows],
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
