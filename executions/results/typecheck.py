"""Column types checked over every row of a result's Parquet copy, in one DuckDB pass.

The types are first inferred from a sample (`infer_types`); this confirms them over the whole file. The common
case, every value fitting its sampled type, costs one pattern per typed column. Only a column with a value that
does not fit is classified fully (every pattern counted), and widened as `widen` says.
"""

from __future__ import annotations

from pathlib import Path

from . import BOOLEAN, DATE, DECIMAL, INTEGER, PATTERNS, STRING, TIMESTAMP, storage_column, widen

# The patterns a value may match and still keep a column's sampled type (the integer pattern is a subset of the
# decimal one; a date in a timestamp column keeps it a timestamp).
KEEPS_TYPE = {
    INTEGER: (INTEGER,),
    DECIMAL: (DECIMAL,),
    BOOLEAN: (BOOLEAN,),
    DATE: (DATE,),
    TIMESTAMP: (DATE, TIMESTAMP),
}


def checked_types(con, parquet_path: Path, types: list[str]) -> list[str]:
    """`types` confirmed or widened over every row of the Parquet copy at `parquet_path`."""
    typed = [i for i, kind in enumerate(types) if kind != STRING]  # a sampled string can only stay a string
    if not typed:
        return list(types)
    misfits = []
    for index in typed:
        column = storage_column(index)
        fits = " OR ".join(f"regexp_full_match({column}, ${kind})" for kind in KEEPS_TYPE[types[index]])
        misfits.append(f"count(*) FILTER ({column} IS NOT NULL AND NOT ({fits}))")
    used = {kind for index in typed for kind in KEEPS_TYPE[types[index]]}
    counts = con.execute(
        f"SELECT {', '.join(misfits)} FROM read_parquet($path)",
        {"path": str(parquet_path), **{kind: PATTERNS[kind] for kind in used}},
    ).fetchone()
    widened = [index for index, count in zip(typed, counts, strict=True) if count]
    return _with_full_types(con, parquet_path, list(types), widened)


def full_types(con, parquet_path: Path, types: list[str]) -> list[str]:
    """Every typed column classified by counting each pattern over every row (the slow, general path)."""
    return _with_full_types(con, parquet_path, list(types), [i for i, kind in enumerate(types) if kind != STRING])


def _with_full_types(con, parquet_path: Path, types: list[str], indexes: list[int]) -> list[str]:
    if not indexes:
        return types
    aggregates = []
    for index in indexes:
        column = storage_column(index)
        aggregates.append(f"count({column})")
        aggregates += [f"count(*) FILTER (regexp_full_match({column}, ${name}))" for name in PATTERNS]
    counts = con.execute(
        f"SELECT {', '.join(aggregates)} FROM read_parquet($path)", {"path": str(parquet_path), **PATTERNS}
    ).fetchone()
    step = 1 + len(PATTERNS)
    for position, index in enumerate(indexes):
        types[index] = _type_from_counts(*counts[position * step : (position + 1) * step])
    return types


def _type_from_counts(values: int, integer: int, decimal: int, boolean: int, date: int, timestamp: int) -> str:
    """The type of a column from how many of its values match each pattern (the integer pattern is a subset
    of the decimal one; the others are disjoint)."""
    kinds = {
        INTEGER: integer,
        DECIMAL: decimal - integer,
        BOOLEAN: boolean,
        DATE: date,
        TIMESTAMP: timestamp,
        STRING: values - decimal - boolean - date - timestamp,
    }
    result = None
    for kind, count in kinds.items():
        if count:
            result = widen(result, kind)
    return result or STRING
