"""Run an AMC query against a sandbox database: check the rules, count users per row, translate to DuckDB
(compiled once per query and window, see reuse.py), execute on a reused connection, apply the aggregation
threshold to every run's rows, and hand back rows (or CSV)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TextIO

import duckdb

from . import privacy, reuse, translate

DEFAULT_MIN_USERS = 100


class ExecutionError(Exception):
    """The query compiled but failed while running (e.g. a function DuckDB does not provide)."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    column_types: list[str]  # AMC type names: STRING, LONG, DOUBLE, DECIMAL(p,s), DATE, TIMESTAMP, ...
    rows: list[tuple]
    filtered_count: int  # rows that fell below the aggregation threshold


def run_query(
    sql: str,
    *,
    db_path: str | Path,
    time_window_start: datetime,
    time_window_end: datetime,
    parameter_values: Mapping[str, object] | None = None,
    declared_parameters: Iterable[str] | None = None,
    filtered_rows: str = "drop",
    time_window_timezone: str = "UTC",
    min_users: int | None = DEFAULT_MIN_USERS,
    filtered_column: str = "filtered",
) -> QueryResult:
    """Raises `rules.CompileError` for queries AMC would reject and `ExecutionError` for runtime failures.
    `declared_parameters=None` skips the declaration check (ad hoc queries with no inputParameters)."""
    window = translate.TimeWindow(time_window_start, time_window_end, time_window_timezone)
    compiled = reuse.compile_query(
        sql, declared_parameters=declared_parameters, window=window, parameter_values=parameter_values
    )
    if min_users is None:  # as AMC: the strictest threshold class among the output's dimensions
        min_users = compiled.required_users
    try:
        cursor = reuse.cursor_for(db_path).execute(compiled.duck_sql)
        rows = cursor.fetchall()
        description = cursor.description
    except duckdb.Error as error:
        raise ExecutionError(str(error).split("\n")[0]) from error

    columns = [d[0].lower() for d in description]  # AMC returns output names in lower case
    types = [amc_type_name(str(d[1])) for d in description]
    outcome = privacy.apply_threshold(
        columns,
        types,
        rows,
        metrics=list(compiled.metrics),
        min_users=min_users,
        mode=filtered_rows,
        flag_column=filtered_column,
    )
    return QueryResult(outcome.columns, outcome.column_types, outcome.rows, outcome.filtered_count)


_TYPE_NAMES = {
    "VARCHAR": "STRING",
    "BIGINT": "LONG",
    "HUGEINT": "LONG",
    "INTEGER": "INTEGER",
    "SMALLINT": "INTEGER",
    "TINYINT": "INTEGER",
    "UBIGINT": "LONG",
    "UINTEGER": "LONG",
    "DOUBLE": "DOUBLE",
    "FLOAT": "FLOAT",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
}


def amc_type_name(duckdb_type: str) -> str:
    upper = duckdb_type.upper()
    if upper.endswith("[]"):
        return "ARRAY"
    if upper.startswith("STRUCT"):
        return "STRUCT"
    if upper.startswith("DECIMAL"):
        return re.sub(r"\s+", "", upper)
    return _TYPE_NAMES.get(upper, upper)


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def to_csv(result: QueryResult, fileobj: TextIO) -> None:
    """RFC 4180 CSV with a header row; dates as yyyy-MM-dd and timestamps as yyyy-MM-ddTHH:mm:ss.SSS."""
    writer = csv.writer(fileobj, lineterminator="\r\n")
    writer.writerow(result.columns)
    for row in result.rows:
        writer.writerow([_csv_value(v) for v in row])
