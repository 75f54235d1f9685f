"""The schema catalog as the pages and the editor use it: search, the validator's Catalog and autocomplete data.

Building the catalog reads every SchemaField row, so the result is cached. The cache key is a fingerprint of
the catalog tables (row counts, newest change, highest field id) plus a version that `invalidate_catalog()`
bumps; an import that only edits field rows in place is caught by the version bump or, at worst, by the TTL.
Each process also keeps the catalog built for the current fingerprint, so a page builds it at most once.
"""

from __future__ import annotations

import threading

from django.core.cache import cache
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet

from .amc_functions import amc_functions
from .models import DataSource, SchemaField
from .validation import Catalog, ColumnInfo

CACHE_TTL_SECONDS = 600
_VERSION_KEY = "queries:catalog:version"


def invalidate_catalog() -> None:
    """Forget the cached catalog (call after importing schemas)."""
    try:
        cache.incr(_VERSION_KEY)
    except ValueError:  # no version stored yet
        cache.set(_VERSION_KEY, 1, None)


def catalog_fingerprint() -> str:
    sources = DataSource.objects.aggregate(count=Count("pk"), changed=Max("updated_at"))
    fields = SchemaField.objects.aggregate(count=Count("pk"), last=Max("pk"))
    changed = sources["changed"].timestamp() if sources["changed"] else 0
    version = cache.get(_VERSION_KEY, 0)
    return f"{version}-{sources['count']}-{changed}-{fields['count']}-{fields['last']}"


def catalog_columns() -> dict[str, list[dict]]:
    """{table_name: [{name, type, kind, threshold, description}, …]} in column order, cached."""
    return _memoised(catalog_fingerprint(), "columns", _cached_columns)


def validator_catalog() -> Catalog:
    return catalog_snapshot()[1]


def catalog_snapshot() -> tuple[dict[str, list[dict]], Catalog]:
    """The columns and the validator's Catalog of one catalog version (one fingerprint for both)."""
    fingerprint = catalog_fingerprint()
    tables = _memoised(fingerprint, "columns", _cached_columns)
    return tables, _memoised(fingerprint, "validator", lambda _: _build_catalog(tables))


# Built catalogs, per process, for the current fingerprint only: a page then pays for the fingerprint's two
# small queries, not for reading the pickled columns from the cache and building thousands of ColumnInfo.
_memo: dict[tuple[str, str], object] = {}
_memo_lock = threading.Lock()


def _memoised(fingerprint: str, what: str, build):
    key = (what, fingerprint)
    with _memo_lock:
        if key in _memo:
            return _memo[key]
    value = build(fingerprint)
    with _memo_lock:
        for stale in [k for k in _memo if k[1] != fingerprint]:
            del _memo[stale]
        _memo[key] = value
    return value


def _cached_columns(fingerprint: str) -> dict[str, list[dict]]:
    key = f"queries:catalog:{fingerprint}"
    tables = cache.get(key)
    if tables is None:
        tables = {}
        rows = SchemaField.objects.order_by("data_source__table_name", "position").values_list(
            "data_source__table_name", "name", "data_type", "kind", "threshold", "description"
        )
        for table, name, data_type, kind, threshold, description in rows:
            tables.setdefault(table, []).append(
                {"name": name, "type": data_type, "kind": kind, "threshold": threshold, "description": description}
            )
        cache.set(key, tables, CACHE_TTL_SECONDS)
    return tables


def _build_catalog(tables: dict[str, list[dict]]) -> Catalog:
    return Catalog(
        {
            table: {c["name"]: ColumnInfo(c["type"], c["kind"], c["threshold"] or None) for c in columns}
            for table, columns in tables.items()
        }
    )


def hint_tables() -> dict[str, list[str]]:
    """Table -> column names (the plain shape, for clients that only need names)."""
    return {table: [c["name"] for c in columns] for table, columns in catalog_columns().items()}


def editor_hints() -> dict:
    """The editor's autocomplete data: names, typed columns with their dimension/metric kind, AMC functions."""
    columns = {
        table: [{key: c[key] for key in ("name", "type", "kind", "description")} for c in table_columns]
        for table, table_columns in catalog_columns().items()
    }
    return {"tables": hint_tables(), "columns": columns, "functions": amc_functions()}


def distinct_tags(rows) -> list[str]:
    """Sorted distinct tags over an iterable of tag lists."""
    return sorted({tag for tags in rows for tag in (tags or []) if isinstance(tag, str)}, key=str.lower)


def filter_data_sources(q: str = "", category: str = "", tag: str = "") -> QuerySet[DataSource]:
    """Data sources matching a search over name, table, description and column names, with `field_count`."""
    sources = DataSource.objects.annotate(field_count=Count("fields"))
    if q:
        column_match = SchemaField.objects.filter(data_source=OuterRef("pk"), name__icontains=q)
        sources = sources.filter(
            Q(name__icontains=q) | Q(table_name__icontains=q) | Q(description__icontains=q) | Exists(column_match)
        )
    if category:
        sources = sources.filter(category=category)
    if tag:
        sources = sources.filter(tags__contains=[tag])
    return sources.order_by("category", "table_name")


def search_schema(q: str, *, limit: int = 30, expand_up_to: int = 3, tables: dict | None = None) -> list[dict]:
    """Tables for the editor's schema explorer, each with the columns worth listing.

    A table matches by name or through some of its columns (those are listed). Tables matching by name list
    all their columns only when few do, so a one-letter search stays short; no search lists bare table names.
    `tables` is the catalog's columns when the caller already has them (`catalog_snapshot`).
    """
    needle = q.strip().lower()
    by_name, by_column = [], []
    for table, columns in (catalog_columns() if tables is None else tables).items():
        if not needle or needle in table.lower():
            by_name.append({"table": table, "columns": columns})
        elif matching := [c for c in columns if needle in c["name"].lower()]:
            by_column.append({"table": table, "columns": matching})
    if not needle or len(by_name) > expand_up_to:
        by_name = [{"table": entry["table"], "columns": []} for entry in by_name]
    return (by_name + by_column)[:limit]
