"""Errors, identifiers, column types and CSV values for Snowflake loads."""

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, BinaryIO

from snowflake.connector import errors as sf_errors

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
