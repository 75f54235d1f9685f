"""Loading a stored result into a Snowflake table, and testing a connection.

Framework-light on purpose: everything here takes plain values (credentials, rows of CSV text, column lists), so
the Django side (`executions.delivery`) only gathers them and records the outcome.

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

import csv
import io
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO

import snowflake.connector
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from snowflake.connector import errors as sf_errors

from recomamp.crypto import DecryptionError

DEFAULT_BATCH_SIZE = 5000
LOGIN_TIMEOUT_SECONDS = 60

_PLAIN_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,254}$")

# Our result column types (and AMC's spellings of them) to Snowflake column types; anything else is text.
_SNOWFLAKE_TYPES = {
    **dict.fromkeys(("integer", "int", "long", "short", "byte", "bigint", "smallint", "tinyint"), "NUMBER(38,0)"),
    **dict.fromkeys(("decimal", "float", "double", "number", "numeric", "real"), "FLOAT"),
    **dict.fromkeys(("boolean", "bool"), "BOOLEAN"),
    "date": "DATE",
    **dict.fromkeys(("timestamp", "datetime"), "TIMESTAMP_NTZ"),
}
_NUMERIC_TYPES = ("NUMBER(38,0)", "FLOAT")
_TRUE = frozenset({"true", "t", "1", "yes", "y"})
_FALSE = frozenset({"false", "f", "0", "no", "n"})

# Columns we add to every row; a result may not use these names.
METADATA_COLUMNS = (
    ("AMC_INSTANCE_ID", "VARCHAR"),
    ("TIME_WINDOW_START", "TIMESTAMP_NTZ"),
    ("TIME_WINDOW_END", "TIMESTAMP_NTZ"),
    ("EXECUTION_ID", "VARCHAR"),
    ("LOADED_AT", "TIMESTAMP_NTZ"),
)
_RUN_KEY = ("AMC_INSTANCE_ID", "TIME_WINDOW_START", "TIME_WINDOW_END")


class SnowflakeError(Exception):
    """A delivery problem whose message is safe and useful to show to the user."""


class InvalidIdentifier(SnowflakeError, ValueError):
    """A table, schema or database name that is not a plain identifier."""


# Failures that come from configuration, data or Snowflake itself rather than from a bug in our code.
EXPECTED_ERRORS = (SnowflakeError, sf_errors.Error, OSError)


# --- identifiers ---------------------------------------------------------------------------------------------


def quote_identifier(name: str, what: str = "name") -> str:
    """Quote a table, schema, database or warehouse name, refusing anything but a plain identifier."""
    if not isinstance(name, str) or not _PLAIN_IDENTIFIER.match(name):
        raise InvalidIdentifier(
            f"Invalid Snowflake {what} {name!r}: use letters, digits, _ or $, starting with a letter or _ "
            "(at most 255 characters)."
        )
    return f'"{name.upper()}"'


def qualified_schema(database: str, schema: str) -> str:
    return f"{quote_identifier(database, 'database')}.{quote_identifier(schema, 'schema')}"


def column_name(name: str) -> str:
    """The name a result column gets in Snowflake: upper-cased when plain, as written otherwise."""
    if not name or len(name) > 255:
        raise SnowflakeError(f"Invalid result column name {name!r}.")
    return name.upper() if _PLAIN_IDENTIFIER.match(name) else name


def quote_column(stored_name: str) -> str:
    return '"' + stored_name.replace('"', '""') + '"'


# --- types and values ----------------------------------------------------------------------------------------


def snowflake_type(column_type: str) -> str:
    """Snowflake column type for one of our result column types (e.g. "integer", "decimal(10,2)", "LONG")."""
    base = (column_type or "").split("(")[0].strip().lower()
    return _SNOWFLAKE_TYPES.get(base, "VARCHAR")


def convert_value(text: str, sf_type: str) -> Any:
    """Python value to bind for CSV `text` in a column of Snowflake type `sf_type`; "" is NULL.
    Raises ValueError when the text does not fit the type."""
    if text == "":
        return None
    if sf_type == "NUMBER(38,0)":
        number = Decimal(text)
        if number != number.to_integral_value():
            raise ValueError("not a whole number")
        return int(number)
    if sf_type == "FLOAT":
        return float(text)
    if sf_type == "BOOLEAN":
        lowered = text.strip().lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
        raise ValueError("not a boolean")
    if sf_type == "DATE":
        try:
            return date.fromisoformat(text)
        except ValueError:
            return datetime.fromisoformat(text).date()
    if sf_type == "TIMESTAMP_NTZ":
        return utc_naive(datetime.fromisoformat(text))
    return text


def utc_naive(moment: datetime | None) -> datetime | None:
    """TIMESTAMP_NTZ holds wall-clock values: aware instants are stored as UTC."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Column:
    """A result column as stored with the result: its name and our type name."""

    name: str
    type: str = "string"

    @property
    def stored_name(self) -> str:
        return column_name(self.name)

    @property
    def sf_type(self) -> str:
        return snowflake_type(self.type)


def read_csv_rows(binary_file: BinaryIO, columns: Sequence[Column]) -> Iterator[list[str]]:
    """Stream the data rows of a result CSV (text cells), checking its header against the stored column list."""
    reader = csv.reader(io.TextIOWrapper(binary_file, encoding="utf-8-sig", newline=""))
    header = next(reader, None)
    expected = [c.name for c in columns]
    if header is None:
        return
    if header != expected:
        raise SnowflakeError("The result file's header does not match its stored column list.")
    yield from reader


# --- connection ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """What snowflake.connector needs. Secrets are left out of repr so they never reach a log by accident."""

    account: str
    user: str
    warehouse: str
    database: str
    schema: str = "PUBLIC"
    role: str = ""
    password: str = field(default="", repr=False)
    private_key_pem: str = field(default="", repr=False)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.password, self.private_key_pem) if s)


def credentials_from(config: Any) -> Credentials:
    """Credentials from a SnowflakeConfig (or anything with the same attributes); only the chosen secret is read."""
    key_pair = config.auth_method == "key_pair"
    try:
        password = "" if key_pair else config.password
        private_key_pem = config.private_key if key_pair else ""
    except DecryptionError:
        raise SnowflakeError("The stored Snowflake password or key can no longer be decrypted: enter it again.")
    return Credentials(
        account=config.account,
        user=config.user,
        warehouse=config.warehouse,
        database=config.database,
        schema=config.schema or "PUBLIC",
        role=config.role,
        password=password,
        private_key_pem=private_key_pem,
    )


def private_key_der(pem: str) -> bytes:
    """The DER (PKCS#8) bytes snowflake.connector takes as `private_key`, from an unencrypted PEM key."""
    try:
        key = serialization.load_pem_private_key(pem.strip().encode(), password=None)
    except (ValueError, TypeError):
        # The library's message may quote the input; ours does not.
        raise SnowflakeError("The private key could not be read: paste an unencrypted PEM private key.") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SnowflakeError("Snowflake key-pair authentication needs an RSA private key.")
    return key.private_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def connect(credentials: Credentials):
    """Open a connection (qmark binding: values travel apart from the SQL text)."""
    options = {
        "account": credentials.account,
        "user": credentials.user,
        "warehouse": credentials.warehouse,
        "database": credentials.database,
        "schema": credentials.schema,
        "paramstyle": "qmark",
        "login_timeout": LOGIN_TIMEOUT_SECONDS,
    }
    if credentials.role:
        options["role"] = credentials.role
    if credentials.private_key_pem:
        options["private_key"] = private_key_der(credentials.private_key_pem)
    else:
        options["password"] = credentials.password
    return snowflake.connector.connect(**options)


def test_connection(config: Any) -> tuple[bool, str]:
    """Connect and check that the warehouse and schema can be used. Returns (ok, message for the user)."""
    credentials = None
    try:
        credentials = credentials_from(config)
        warehouse = quote_identifier(credentials.warehouse, "warehouse")
        schema = qualified_schema(credentials.database, credentials.schema)
        conn = connect(credentials)
        try:
            cursor = conn.cursor()
            cursor.execute(f"USE WAREHOUSE {warehouse}")
            cursor.execute(f"USE SCHEMA {schema}")
            cursor.execute("SELECT CURRENT_VERSION()")
            version = cursor.fetchone()[0]
        finally:
            conn.close()
    except Exception as exc:
        return False, classify_error(exc, credentials.secrets if credentials else ())
    where = (
        f"warehouse {credentials.warehouse.upper()}, schema {credentials.database.upper()}.{credentials.schema.upper()}"
    )
    return True, f"Connected to Snowflake {version} as {credentials.user}; {where}."


test_connection.__test__ = False  # not a pytest test, whatever module imports it


# --- errors --------------------------------------------------------------------------------------------------

_AUTH_ERRNOS = {390100, 390144}
_NETWORK_ERRNOS = {250001, 250002, 250005, 251011, 251012, 252007}
_MISSING_OBJECT_ERRNOS = {2003, 2043, 390201}
_PERMISSION_ERRNOS = {3001, 3003, 390189}


def classify_error(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """A plain message for a failed connection or load. Secrets are masked should Snowflake ever echo them."""
    detail = _mask(str(getattr(exc, "raw_msg", None) or exc), secrets)[:300]
    errno = getattr(exc, "errno", None)
    lowered = detail.lower()
    if isinstance(exc, SnowflakeError):
        message = detail
    elif errno in _AUTH_ERRNOS or "incorrect username or password" in lowered or "jwt token" in lowered:
        message = "Snowflake rejected the credentials: check the account, user and password or key pair."
    elif errno == 606 or "no active warehouse" in lowered or ("warehouse" in lowered and "not exist" in lowered):
        message = f"The warehouse does not exist or this role cannot use it ({detail})."
    elif errno in _PERMISSION_ERRNOS or "insufficient privileges" in lowered or "not granted" in lowered:
        message = f"The Snowflake role lacks a privilege needed here, e.g. CREATE TABLE or INSERT ({detail})."
    elif errno in _MISSING_OBJECT_ERRNOS or "does not exist" in lowered:
        message = f"The database, schema or table does not exist or this role cannot see it ({detail})."
    elif errno in _NETWORK_ERRNOS or isinstance(
        exc, sf_errors.OperationalError | sf_errors.InterfaceError | OSError | TimeoutError
    ):
        message = "Could not reach Snowflake (network error or timeout): check the account identifier and network."
    elif isinstance(exc, sf_errors.Error):
        message = f"Snowflake error: {detail}"
    else:
        message = f"Unexpected error ({type(exc).__name__}): {detail}"
    return _mask(message, secrets)


def _mask(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


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
