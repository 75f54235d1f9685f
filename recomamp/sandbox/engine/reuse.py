"""What a query run can reuse from the previous ones: compiled SQL and open DuckDB connections.

Compiling (AMC rules, user counts, translation to DuckDB SQL) depends only on the SQL, the declared parameters,
the parameter values and the time window, so it is cached on exactly those (a small LRU, process-wide); the
privacy threshold is applied to every run's rows after the query, never cached. Opening the DuckDB file costs
about 20 ms, so each process keeps one read-only database per file and each thread its own cursor on it; a file
replaced on disk (`generate` writes a new one and renames it) is noticed by its inode and mtime and reopened.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from . import privacy, rules, thresholds, translate

CACHE_SIZE = 256


@dataclass(frozen=True)
class Compiled:
    duck_sql: str
    metrics: tuple  # privacy.metric_flags of the query's output
    required_users: int  # thresholds.required_users: the strictest class among the output's dimensions


_compiled: OrderedDict[tuple, Compiled] = OrderedDict()
_compiled_lock = threading.Lock()


def compile_query(
    sql: str,
    *,
    declared_parameters: Iterable[str] | None,
    window: translate.TimeWindow,
    parameter_values: Mapping[str, object] | None,
) -> Compiled:
    """The DuckDB SQL and privacy facts of an AMC query; raises `rules.CompileError` as `rules.check` does."""
    declared = None if declared_parameters is None else tuple(sorted(declared_parameters))
    values = _frozen(parameter_values)
    key = None if values is None else (sql, declared, window, values)
    if key is not None:
        with _compiled_lock:
            if (hit := _compiled.get(key)) is not None:
                _compiled.move_to_end(key)
                return hit
    tree = rules.check(sql, declared_parameters=declared)
    duck_tree = translate.translate(privacy.add_user_counts(tree), window=window, parameters=parameter_values)
    compiled = Compiled(
        translate.to_duckdb_sql(duck_tree), tuple(privacy.metric_flags(tree)), thresholds.required_users(tree)
    )
    if key is not None:
        with _compiled_lock:
            _compiled[key] = compiled
            while len(_compiled) > CACHE_SIZE:
                _compiled.popitem(last=False)
    return compiled


def _frozen(values: Mapping[str, object] | None) -> str | None:
    """A cache key for parameter values that tells types apart ("1" vs 1 vs 1.0 vs a date); None if it cannot."""
    try:
        return json.dumps(
            {name: [type(v).__name__, v] for name, v in (values or {}).items()}, sort_keys=True, default=repr
        )
    except (TypeError, ValueError):
        return None


_databases: dict[str, tuple[tuple, duckdb.DuckDBPyConnection]] = {}
_databases_lock = threading.Lock()
_local = threading.local()


def cursor_for(db_path: str | Path) -> duckdb.DuckDBPyConnection:
    """This thread's read-only cursor on the database at `db_path` (session time zone UTC)."""
    path = str(Path(db_path).resolve())
    status = os.stat(path)
    stamp = (status.st_ino, status.st_mtime_ns, status.st_size)
    cursors = _local.__dict__.setdefault("cursors", {})
    held = cursors.get(path)
    if held is not None and held[0] == stamp:
        return held[1]
    if held is not None:
        held[1].close()
    with _databases_lock:
        entry = _databases.get(path)
        if entry is None or entry[0] != stamp:
            if entry is not None:
                entry[1].close()
            entry = (stamp, duckdb.connect(path, read_only=True))
            _databases[path] = entry
        cursor = entry[1].cursor()
    cursor.execute("SET TimeZone = 'UTC'")
    cursors[path] = (stamp, cursor)
    return cursor
