"""SQL building blocks for the generator: literals, weighted picks, derived time columns, and the final
`SELECT` that gives a table exactly the columns (names, order, types) of the AMC catalog."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime

from .schema import columns_of


def lit(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def pick(rand: str, options: Sequence[object] | Mapping[object, float]) -> str:
    """A CASE expression choosing one option from a uniform random number `rand` in [0, 1)."""
    weighted = list(options.items()) if isinstance(options, Mapping) else [(o, 1.0) for o in options]
    total = sum(w for _, w in weighted)
    branches, cumulative = [], 0.0
    for value, weight in weighted[:-1]:
        cumulative += weight / total
        branches.append(f"WHEN {rand} < {cumulative:.6f} THEN {lit(value)}")
    if not branches:
        return lit(weighted[0][0])
    return f"(CASE {' '.join(branches)} ELSE {lit(weighted[-1][0])} END)"


def time_columns(prefix: str, local: str, utc: str) -> dict[str, str]:
    """The date/day/hour/timestamp family AMC derives from one event time, local and `_utc` variants."""
    columns = {}
    for suffix, ts in (("", local), ("_utc", utc)):
        columns[f"{prefix}_date{suffix}"] = f"CAST({ts} AS DATE)"
        columns[f"{prefix}_day{suffix}"] = f"dayofmonth({ts})"
        columns[f"{prefix}_dt{suffix}"] = ts
        columns[f"{prefix}_dt_hour{suffix}"] = f"date_trunc('hour', {ts})"
        columns[f"{prefix}_hour{suffix}"] = f"hour({ts})"
        columns[f"{prefix}_month{suffix}"] = f"month({ts})"
    return columns


def local_time(tz_column: str, utc: str) -> str:
    return f"timezone({tz_column}, CAST({utc} AS TIMESTAMPTZ))"


def default_expression(amc_type: str, threshold: str) -> str:
    # Unmodelled metrics read as zero so SUM() works; unmodelled dimensions stay NULL.
    if threshold == "NONE" and (amc_type in ("LONG", "INTEGER") or amc_type.startswith("DECIMAL")):
        return "0"
    if amc_type == "BOOLEAN" and threshold == "NONE":
        return "FALSE"
    return "NULL"


def select_list(table: str, expressions: Mapping[str, str] | Callable[[str], str | None]) -> str:
    """`CAST(expr AS type) AS column` for every catalog column of `table`, in catalog order."""
    lookup = expressions.get if isinstance(expressions, Mapping) else expressions
    items = []
    for column in columns_of(table):
        expr = lookup(column.name)
        if expr is None:
            expr = default_expression(column.amc_type, column.threshold)
        items.append(f"CAST({expr} AS {column.duckdb_type}) AS {column.name}")
    return ",\n  ".join(items)
