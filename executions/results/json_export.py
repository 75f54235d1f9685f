"""The JSON export written by DuckDB from the result's Parquet copy, byte for byte what `export.iter_json_rows`
(the Python encoder over the CSV) writes.

DuckDB builds each row's JSON text: `typed_value`'s rules as SQL (the type patterns are the ones Python uses, see
executions/results/__init__.py), numbers formatted by DuckDB's shortest round-trip cast (the same text as Python's
`repr(float)`; infinite values stay text as in Python), strings escaped by `to_json`. The one known difference,
`to_json` writing control characters U+001A-U+001F with upper-case hex where Python writes lower case, is left to
Python: such rows (rare) are flagged by DuckDB and re-encoded by the Python encoder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from executions.models import ExecutionResult

from . import BOOLEAN, DECIMAL, INTEGER, PATTERNS, duckdb_connect, storage_column, typed_value
from .reader import local_sidecar

BATCH_ROWS = 20_000


def iter_json(result: ExecutionResult) -> Iterator[str]:
    """A JSON array of row objects (keys in column order), in chunks of BATCH_ROWS rows."""
    columns = list(result.columns)
    types = [c["type"] for c in columns]
    # dict(zip(names, row)) keeps a repeated name once, at its first place, with its last value.
    last_index = {c["name"]: i for i, c in enumerate(columns)}
    fields = [(name, last_index[name]) for name in dict.fromkeys(c["name"] for c in columns)]
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
    yield "["
    separator = "\n"
    with local_sidecar(result) as path, duckdb_connect() as con:
        used = {types[index] for _, index in fields}
        if DECIMAL in used:
            used.add(INTEGER)
        patterns = {kind: PATTERNS[kind] for kind in (INTEGER, DECIMAL, BOOLEAN) if kind in used}
        query = con.sql(_sql(fields, types), params={"path": str(path), **patterns})
        reader = query.to_arrow_reader(BATCH_ROWS)
        for batch in reader:
            lines = batch.column(0).to_pylist()
            if batch.column(1).null_count < len(batch):  # rows Python must encode (see the module docstring)
                for number, raw in enumerate(batch.column(1).to_pylist()):
                    if raw is not None:
                        row = [typed_value(text, kind) for text, kind in zip(raw, types, strict=True)]
                        lines[number] = encode({name: row[index] for name, index in fields})
            yield separator + ",\n".join(lines)
            separator = ",\n"
    yield "\n]\n"


def _sql(fields: list[tuple[str, int]], types: list[str]) -> str:
    parts = []
    for position, (name, index) in enumerate(fields):
        key = json.dumps(name, ensure_ascii=False) + ": "
        parts.append(_literal(("{" if position == 0 else ", ") + key))
        parts.append(_value(storage_column(index), types[index]))
    line = " || ".join(parts) + " || '}'" if parts else "'{}'"
    raw = "list_value(" + ", ".join(storage_column(i) for i in range(len(types))) + ")" if types else "NULL"
    return (
        f"SELECT line, CASE WHEN regexp_matches(line, '\\\\u001[A-F]') THEN {raw} END AS raw"
        f" FROM (SELECT *, {line} AS line FROM read_parquet($path))"
    )


def _value(column: str, kind: str) -> str:
    """SQL for the JSON text of one cell, as `typed_value` then `json` would write it.

    Insertion order is kept (DuckDB's preserve_insertion_order, on by default), so rows come in file order."""
    text = f"to_json({column})::VARCHAR"

    def matches(kind: str) -> str:
        return f"regexp_full_match({column}, ${kind})"

    if kind == INTEGER:
        typed = f"CASE WHEN {matches(INTEGER)} THEN TRY_CAST({column} AS HUGEINT)::VARCHAR ELSE {text} END"
    elif kind == DECIMAL:
        number = f"TRY_CAST({column} AS DOUBLE)"
        numeric = f"({matches(INTEGER)} OR {matches(DECIMAL)})"
        typed = f"CASE WHEN {numeric} AND NOT isinf({number}) THEN {number}::VARCHAR ELSE {text} END"
    elif kind == BOOLEAN:
        typed = f"CASE WHEN {matches(BOOLEAN)} THEN (lower({column}) = 'true')::VARCHAR ELSE {text} END"
    else:
        typed = text
    return f"(CASE WHEN {column} IS NULL OR {column} = '' THEN 'null' ELSE {typed} END)"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
