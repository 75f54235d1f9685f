"""Loading a stored result into a Snowflake table, and testing a connection.

Snowflake delivery is this one package: `values`, `connection` and `loading` are framework-light (plain values:
credentials, rows of CSV text, column lists); `delivery` is the Django side that gathers them and records the
outcome, started by `executions.receivers` on `execution_finished`; `forms` and `views` are the settings page.

How a result lands in Snowflake:
- The table holds the result columns plus AMC_INSTANCE_ID, TIME_WINDOW_START, TIME_WINDOW_END (UTC), EXECUTION_ID
  and LOADED_AT. It is created if missing; columns the result gained are added to an existing table.
- Rows are upserted with MERGE. The key is the dimension columns plus instance and time window. Dimensions are the
  non-numeric result columns (string, date, timestamp, boolean) unless `key_columns` names them explicitly.
  Re-running the same window updates the metrics in place; another window appends: one table is a time series.
- Rows are staged into a temporary table with `executemany` in batches, then merged in one statement, so a failed
  load changes nothing in the target table.
- Table, schema and database names must be plain identifiers (letters, digits, `_`, `$`); they are upper-cased and
  quoted, which is what Snowflake does with an unquoted name. Result column names that are plain identifiers are
  treated the same way; any other column name is kept as written and quoted with `"` doubled.
"""

from .connection import Credentials, classify_error, connect, credentials_from, private_key_der, test_connection
from .loading import DEFAULT_BATCH_SIZE, METADATA_COLUMNS, LoadReport, LoadTarget, RunInfo, load_rows
from .values import (
    EXPECTED_ERRORS,
    Column,
    InvalidIdentifier,
    SnowflakeError,
    column_name,
    convert_value,
    qualified_schema,
    quote_column,
    quote_identifier,
    read_csv_rows,
    snowflake_type,
    utc_naive,
)

__all__ = [
    "DEFAULT_BATCH_SIZE", "EXPECTED_ERRORS", "METADATA_COLUMNS", "Column", "Credentials", "InvalidIdentifier",
    "LoadReport", "LoadTarget", "RunInfo", "SnowflakeError", "classify_error", "column_name", "connect",
    "convert_value", "credentials_from", "load_rows", "private_key_der", "qualified_schema", "quote_column",
    "quote_identifier", "read_csv_rows", "snowflake_type", "test_connection", "utc_naive",
]  # fmt: skip
