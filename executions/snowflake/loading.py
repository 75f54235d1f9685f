"""Loading rows into a table with one MERGE from a staged temporary table (see the package docstring)."""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import InvalidOperation
from typing import Any

from .values import (
    _NUMERIC_TYPES,
    Column,
    SnowflakeError,
    convert_value,
    qualified_schema,
    quote_column,
    quote_identifier,
    utc_naive,
)

DEFAULT_BATCH_SIZE = 5000

# Columns we add to every row; a result may not use these names.
METADATA_COLUMNS = (
    ("AMC_INSTANCE_ID", "VARCHAR"),
    ("TIME_WINDOW_START", "TIMESTAMP_NTZ"),
    ("TIME_WINDOW_END", "TIMESTAMP_NTZ"),
    ("EXECUTION_ID", "VARCHAR"),
    ("LOADED_AT", "TIMESTAMP_NTZ"),
)
_RUN_KEY = ("AMC_INSTANCE_ID", "TIME_WINDOW_START", "TIME_WINDOW_END")


# --- loading -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadTarget:
    """Where the rows go. Names are validated on creation."""

    database: str
    schema: str
    table: str

    def __post_init__(self):
        quote_identifier(self.database, "database")
        quote_identifier(self.schema, "schema")
        quote_identifier(self.table, "table name")

    @property
    def qualified_schema(self) -> str:
        return qualified_schema(self.database, self.schema)

    @property
    def qualified_table(self) -> str:
        return f"{self.qualified_schema}.{quote_identifier(self.table, 'table name')}"


@dataclass(frozen=True)
class RunInfo:
    """Which run the rows came from: the run key (instance and time window) and the audit columns."""

    amc_instance_id: str
    time_window_start: datetime | None
    time_window_end: datetime | None
    execution_id: str
    loaded_at: datetime

    def bind_values(self) -> list[Any]:
        return [
            self.amc_instance_id,
            utc_naive(self.time_window_start),
            utc_naive(self.time_window_end),
            self.execution_id,
            utc_naive(self.loaded_at),
        ]


@dataclass(frozen=True)
class LoadReport:
    rows_loaded: int
    inserted: int
    updated: int
    columns_added: tuple[str, ...]


def load_rows(
    conn,
    target: LoadTarget,
    columns: Sequence[Column],
    rows: Iterable[Sequence[str]],
    run: RunInfo,
    *,
    key_columns: Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> LoadReport:
    """Upsert `rows` (CSV text cells in `columns` order) into `target` on an open connection."""
    names = _checked_names(columns)
    keys = _key_names(columns, key_columns)
    cursor = conn.cursor()
    cursor.execute(f"USE SCHEMA {target.qualified_schema}")
    wanted = [(c.stored_name, c.sf_type) for c in columns] + list(METADATA_COLUMNS)
    columns_added = _ensure_table(cursor, target.qualified_table, wanted)

    stage = quote_identifier(f"RECOMAMP_STAGE_{uuid.uuid4().hex}")
    column_defs = ", ".join(f"{quote_column(c.stored_name)} {c.sf_type}" for c in columns)
    cursor.execute(f"CREATE TEMPORARY TABLE {stage} ({column_defs})")
    try:
        rows_loaded = _stage_rows(cursor, stage, columns, rows, batch_size)
        _refuse_duplicate_keys(cursor, stage, keys)
        inserted, updated = _merge(cursor, target.qualified_table, stage, names, keys, run)
    finally:
        cursor.execute(f"DROP TABLE IF EXISTS {stage}")
    return LoadReport(rows_loaded, inserted, updated, columns_added)


def _checked_names(columns: Sequence[Column]) -> list[str]:
    names = [c.stored_name for c in columns]
    reserved = {name for name, _ in METADATA_COLUMNS}
    clashes = sorted(set(names) & reserved)
    if clashes:
        raise SnowflakeError(f"Result columns {', '.join(clashes)} clash with the columns added on load; rename them.")
    if len(set(names)) != len(names):
        raise SnowflakeError("The result has two columns with the same name (Snowflake names ignore case).")
    return names


def _key_names(columns: Sequence[Column], key_columns: Sequence[str] | None) -> list[str]:
    if key_columns is None:
        return [c.stored_name for c in columns if c.sf_type not in _NUMERIC_TYPES]
    known = {c.name: c.stored_name for c in columns}
    unknown = [name for name in key_columns if name not in known]
    if unknown:
        raise SnowflakeError(f"Key columns not in the result: {', '.join(unknown)}.")
    return [known[name] for name in key_columns]


def _ensure_table(cursor, table: str, wanted: list[tuple[str, str]]) -> tuple[str, ...]:
    """Create the table if missing, then add the columns it lacks. Returns the names of added columns."""
    column_defs = ", ".join(f"{quote_column(name)} {sf_type}" for name, sf_type in wanted)
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {table} ({column_defs})")
    cursor.execute(f"DESCRIBE TABLE {table}")
    existing = {row[0] for row in cursor.fetchall()}
    missing = [(name, sf_type) for name, sf_type in wanted if name not in existing]
    for name, sf_type in missing:
        # IF NOT EXISTS: two deliveries into one table may race to add the same column.
        cursor.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {quote_column(name)} {sf_type}")
    return tuple(name for name, _ in missing)


def _stage_rows(cursor, stage: str, columns: Sequence[Column], rows: Iterable[Sequence[str]], batch_size: int) -> int:
    insert = (
        f"INSERT INTO {stage} ({', '.join(quote_column(c.stored_name) for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    sf_types = [c.sf_type for c in columns]
    batch: list[list[Any]] = []
    count = 0
    for count, row in enumerate(rows, start=1):
        batch.append(_convert_row(row, columns, sf_types, count))
        if len(batch) >= batch_size:
            cursor.executemany(insert, batch)
            batch = []
    if batch:
        cursor.executemany(insert, batch)
    return count


def _convert_row(row: Sequence[str], columns: Sequence[Column], sf_types: list[str], number: int) -> list[Any]:
    if len(row) != len(columns):
        raise SnowflakeError(f"Result row {number} has {len(row)} values, expected {len(columns)}.")
    values = []
    for text, column, sf_type in zip(row, columns, sf_types, strict=True):
        try:
            values.append(convert_value(text, sf_type))
        except (ValueError, InvalidOperation):
            raise SnowflakeError(
                f"Result row {number}, column {column.name}: {text[:50]!r} is not a valid {column.type}."
            ) from None
    return values


def _refuse_duplicate_keys(cursor, stage: str, keys: list[str]) -> None:
    """MERGE needs one source row per key; say so plainly instead of letting Snowflake fail or duplicate."""
    group_by = f" GROUP BY {', '.join(quote_column(k) for k in keys)}" if keys else ""
    cursor.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM {stage}{group_by} HAVING COUNT(*) > 1)")
    if cursor.fetchone()[0]:
        described = ", ".join(keys) if keys else "(no dimension columns)"
        raise SnowflakeError(
            f"The result has several rows for the same key {described}; the upsert needs one row per key."
        )


def _merge(cursor, table: str, stage: str, names: list[str], keys: list[str], run: RunInfo) -> tuple[int, int]:
    metadata = [name for name, _ in METADATA_COLUMNS]
    source = ", ".join(f"CAST(? AS {sf_type}) AS {quote_column(name)}" for name, sf_type in METADATA_COLUMNS)
    # Null-safe equality: a NULL dimension or an open time window is still the same key on the next run.
    on = " AND ".join(f"t.{quote_column(k)} IS NOT DISTINCT FROM s.{quote_column(k)}" for k in [*keys, *_RUN_KEY])
    updated = [n for n in names if n not in keys] + ["EXECUTION_ID", "LOADED_AT"]
    all_columns = [*names, *metadata]
    sql = (
        f"MERGE INTO {table} AS t USING (SELECT st.*, {source} FROM {stage} AS st) AS s ON {on} "
        f"WHEN MATCHED THEN UPDATE SET {', '.join(f't.{quote_column(n)} = s.{quote_column(n)}' for n in updated)} "
        f"WHEN NOT MATCHED THEN INSERT ({', '.join(quote_column(n) for n in all_columns)}) "
        f"VALUES ({', '.join(f's.{quote_column(n)}' for n in all_columns)})"
    )
    cursor.execute(sql, run.bind_values())
    return _merge_counts(cursor)


def _merge_counts(cursor) -> tuple[int, int]:
    """(inserted, updated) from MERGE's one-row answer, whose columns Snowflake names in words."""
    row = cursor.fetchone() or ()
    counts = {d[0].lower(): int(v or 0) for d, v in zip(cursor.description or (), row, strict=False)}
    return counts.get("number of rows inserted", 0), counts.get("number of rows updated", 0)
