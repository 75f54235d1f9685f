"""One table over many stored results, each row tagged with its instance and window, served by DuckDB.

Every part is a stored execution result (its Parquet copy, columns c0, c1, … as text); parts with other columns
than the first are left out and named, never silently mixed. Sorting accepts only known column names and the
SQL is built from names we generate, so nothing from the request reaches the SQL text. Run sets and schedule
histories both become parts, so the dashboards read one shape.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from executions.results import duckdb_connect, storage_column, typed_value, widen
from executions.results.reader import MAX_PAGE_SIZE, local_sidecar, sql_value

TAGS = [{"name": "instance", "type": "string"}, {"name": "window_start", "type": "date"}]
EXPORT_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
}


class CombinedError(ValueError):
    """The combined table cannot be read as asked; the message is for the analyst."""


@dataclass(frozen=True)
class Part:
    result: object  # executions.models.ExecutionResult
    instance: str  # AMC instance id
    first_day: date
    last_day: date


@dataclass(frozen=True)
class Combined:
    columns: list[dict]  # the parts' own columns
    parts: list[Part]
    left_out: list[Part]  # parts whose columns differ from the first

    @property
    def total_rows(self) -> int:
        return sum(p.result.row_count for p in self.parts)

    @property
    def all_columns(self) -> list[dict]:
        return TAGS + [{"name": "window_end", "type": "date"}] + self.columns


def combine(parts: list[Part]) -> Combined:
    parts = [p for p in parts if p.result is not None]
    if not parts:
        return Combined([], [], [])
    names = [c["name"] for c in parts[0].result.columns]
    kept = [p for p in parts if [c["name"] for c in p.result.columns] == names]
    # A column is as wide as its widest part (an integer in one week and a decimal in another is a decimal).
    columns = [dict(c) for c in parts[0].result.columns]
    for part in kept[1:]:
        for column, other in zip(columns, part.result.columns, strict=True):
            if column["type"] != other["type"]:
                column["type"] = widen(column["type"], other["type"])
    return Combined(columns, kept, [p for p in parts if p not in kept])


_shared: tuple[int, object] | None = None  # (pid, DuckDB database): opening a database costs ~40 ms


def _cursor():
    """A fresh connection (its own temp tables) to one in-memory DuckDB database per process; a forked worker
    opens its own, never the parent's."""
    global _shared
    if _shared is None or _shared[0] != os.getpid():
        _shared = (os.getpid(), duckdb_connect())
    return _shared[1].cursor()


@contextmanager
def relation(combined: Combined) -> Iterator:
    """A DuckDB connection with a view `combined(instance, window_start, window_end, c0, c1, …)`."""
    with ExitStack() as stack:
        paths = [str(stack.enter_context(local_sidecar(p.result))) for p in combined.parts]
        con = stack.enter_context(_cursor())
        con.execute("CREATE TEMP TABLE tags(f VARCHAR, instance VARCHAR, window_start DATE, window_end DATE, n INT)")
        if paths:  # one statement: executemany costs a round of planning per row
            con.execute(
                "INSERT INTO tags VALUES " + ", ".join(["(?, ?, ?, ?, ?)"] * len(paths)),
                [
                    value
                    for i, (path, p) in enumerate(zip(paths, combined.parts, strict=True))
                    for value in (path, p.instance, p.first_day, p.last_day, i)
                ],
            )
        names = ", ".join(f"p.{storage_column(i)}" for i in range(len(combined.columns)))
        if paths:
            # A view cannot take parameters: the paths are ours (storage paths), quoted as SQL strings.
            listed = ", ".join("'" + path.replace("'", "''") + "'" for path in paths)
            con.execute(
                f"CREATE TEMP VIEW combined AS SELECT t.instance, t.window_start, t.window_end, t.n, "
                f"p.file_row_number AS r, {names} "
                f"FROM read_parquet([{listed}], filename = true, file_row_number = true) p "
                "JOIN tags t ON p.filename = t.f"
            )
        yield con


@dataclass(frozen=True)
class Page:
    columns: list[dict]
    rows: list[list]
    total_rows: int
    page: int
    page_count: int
    page_size: int
    sort: str | None
    descending: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.page_count


def order_by(combined: Combined, sort: str | None, descending: bool) -> str:
    base = "window_start DESC, instance, n, r" if sort is None else "n, r"
    if sort is None:
        return base
    direction = "DESC" if descending else "ASC"
    if sort in ("instance", "window_start", "window_end"):
        return f"{sort} {direction}, {base}"
    for index, column in enumerate(combined.columns):
        if column["name"] == sort:
            return f"{sql_value(index, column['type'])} {direction} NULLS LAST, {base}"
    raise CombinedError(f"Cannot sort by {sort!r}: the combined result has no such column.")


def read_page(combined: Combined, *, page: int = 1, page_size: int = 50, sort=None, descending=False) -> Page:
    page_size = min(max(1, page_size), MAX_PAGE_SIZE)
    page_count = max(1, math.ceil(combined.total_rows / page_size))
    page = min(max(1, page), page_count)
    order = order_by(combined, sort, descending)
    rows = []
    if combined.parts:
        names = ", ".join(storage_column(i) for i in range(len(combined.columns)))
        with relation(combined) as con:
            fetched = con.execute(
                f"SELECT instance, window_start, window_end, {names} FROM combined ORDER BY {order} "
                "LIMIT $limit OFFSET $offset",
                {"limit": page_size, "offset": (page - 1) * page_size},
            ).fetchall()
        types = [c["type"] for c in combined.columns]
        for row in fetched:
            rows.append(
                [
                    row[0],
                    row[1].isoformat(),
                    row[2].isoformat(),
                    *(typed_value(v, t) for v, t in zip(row[3:], types, strict=True)),
                ]
            )
    return Page(combined.all_columns, rows, combined.total_rows, page, page_count, page_size, sort, descending)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def export_file(combined: Combined, fmt: str) -> Path:
    """Write the whole combined table to a temporary file (the caller deletes it). CSV keeps the stored text;
    JSON and Parquet carry typed values."""
    if fmt not in EXPORT_FORMATS:
        raise CombinedError(f"Unknown format {fmt!r}; use csv, json or parquet.")
    typed = fmt != "csv"
    projection = [
        f"{sql_value(i, c['type']) if typed else storage_column(i)} AS {quote(c['name'])}"
        for i, c in enumerate(combined.columns)
    ]
    handle, name = tempfile.mkstemp(prefix="recomamp-combined-", suffix=f".{fmt}")
    os.close(handle)
    options = {"csv": "FORMAT CSV, HEADER true", "json": "FORMAT JSON, ARRAY true", "parquet": "FORMAT PARQUET"}[fmt]
    columns = ", ".join(["instance", "window_start", "window_end", *projection])
    with relation(combined) as con:
        if combined.parts:
            con.execute(
                f"COPY (SELECT {columns} FROM combined ORDER BY window_start, instance, n, r) TO '{name}' ({options})"
            )
        else:
            con.execute(f"COPY (SELECT NULL AS instance WHERE false) TO '{name}' ({options})")
    return Path(name)
