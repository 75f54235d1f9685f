"""The schema the validator checks against: tables, their columns and aggregation thresholds."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

# Aggregation-threshold classes from least to most restrictive.
THRESHOLDS = ("NONE", "LOW", "MEDIUM", "HIGH", "VERY_HIGH", "INTERNAL")
_RANK = {name: rank for rank, name in enumerate(THRESHOLDS)}

NEVER_OUTPUT = frozenset({"VERY_HIGH", "INTERNAL"})  # may be used inside the query, never returned
NO_LITERAL_FILTERS = frozenset({"HIGH", "VERY_HIGH"})  # AMC rejects comparisons with literals/parameters

AUDIENCE_SUFFIX = "_for_audiences"


def stricter(first: str | None, second: str | None) -> str | None:
    """The more restrictive of two threshold classes (None means unknown)."""
    if first is None:
        return second
    if second is None:
        return first
    return first if _RANK.get(first, 0) >= _RANK.get(second, 0) else second


@dataclass(frozen=True)
class ColumnInfo:
    data_type: str
    kind: Literal["dimension", "metric"]
    threshold: str | None = None


class Catalog:
    """Tables and columns known to the validator.

    Names are matched case-insensitively. A ``<table>_for_audiences`` mirror that is not listed itself
    resolves to ``<table>``: AMC documents the mirrors as carrying the same columns.
    """

    def __init__(self, tables: Mapping[str, Mapping[str, ColumnInfo]]):
        self._tables = {
            table.lower(): {column.lower(): info for column, info in columns.items()}
            for table, columns in tables.items()
        }

    def columns(self, table: str) -> Mapping[str, ColumnInfo] | None:
        table = table.lower()
        found = self._tables.get(table)
        if found is None and table.endswith(AUDIENCE_SUFFIX):
            found = self._tables.get(table[: -len(AUDIENCE_SUFFIX)])
        return found

    def table_names(self) -> list[str]:
        return sorted(self._tables)

    @classmethod
    def from_columns_json(cls, path: str | Path) -> Catalog:
        """Build a catalog from the reference ``columns.json`` (used by tests and benchmarks)."""
        raw_tables = json.loads(Path(path).read_text(encoding="utf-8"))["tables"]

        def rows_of(entry) -> list[dict]:
            if isinstance(entry, list):
                return entry
            if "same_as" in entry:
                return rows_of(raw_tables[entry["same_as"]])
            return rows_of(raw_tables[entry["extends"]]) + entry.get("extra_columns", [])

        tables: dict[str, dict[str, ColumnInfo]] = {}
        for pattern, entry in raw_tables.items():
            columns = {row["name"]: _column_info(row) for row in rows_of(entry)}
            for name in _expand_table_name(pattern):
                tables[name] = columns
        return cls(tables)


def _column_info(row: dict) -> ColumnInfo:
    kind = "metric" if row.get("dim_or_metric", "").startswith("M") else "dimension"
    threshold = row.get("agg_threshold")
    return ColumnInfo(row.get("type", ""), kind, threshold if threshold in _RANK else None)


_NAME_VARIABLES = {"region": ("amer", "apac", "eu"), "category": ("inmarket", "lifestyle")}
_NAME_PARTS = re.compile(r"<(\w+)>|\[([^\]]*)\]")


def _expand_table_name(pattern: str) -> list[str]:
    """``audience_segments_<region>_<category>[_snapshot]`` -> the twelve concrete table names."""
    pieces: list[tuple[str, ...]] = []
    cursor = 0
    for match in _NAME_PARTS.finditer(pattern):
        pieces.append((pattern[cursor : match.start()],))
        variable, optional = match.groups()
        pieces.append(_NAME_VARIABLES[variable] if variable else ("", optional))
        cursor = match.end()
    pieces.append((pattern[cursor:],))
    return ["".join(combo) for combo in itertools.product(*pieces)]
