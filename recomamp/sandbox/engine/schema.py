"""The AMC table catalog the sandbox knows: columns, AMC types and aggregation-threshold classes.

`amc_tables.json` holds, per table, `[column, AMC type, threshold class]` rows taken from the project's
published AMC column list, with derived tables (`extends`, `same_as`) expanded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# The column each table's rows are selected by when AMC applies the execution time window.
EVENT_TIME_COLUMNS: dict[str, str] = {
    "dsp_impressions": "impression_dt_utc",
    "dsp_impressions_by_matched_segments": "impression_dt_utc",
    "dsp_impressions_by_user_segments": "impression_dt_utc",
    "dsp_video_events_feed": "impression_dt_utc",
    "dsp_clicks": "click_dt_utc",
    "dsp_views": "event_dt_utc",
    "sponsored_ads_traffic": "event_dt_utc",
    "amazon_attributed_events_by_conversion_time": "conversion_event_dt_utc",
    "amazon_attributed_events_by_traffic_time": "traffic_event_dt_utc",
    "conversions": "event_dt_utc",
    "conversions_with_relevance": "event_dt_utc",
    "conversions_all": "event_dt_utc",
    "amazon_retail_purchases": "purchase_dt_utc",
    "experian_vehicle_purchases": "purchase_date",
}

# Threshold classes whose columns may never appear in a query's output.
NEVER_OUTPUT_CLASSES = frozenset({"VERY_HIGH", "INTERNAL"})
# Threshold classes that may not be compared with literals or parameters.
NO_LITERAL_FILTER_CLASSES = frozenset({"HIGH", "VERY_HIGH"})

_SIMPLE_TYPES = {
    "STRING": "VARCHAR",
    "LONG": "BIGINT",
    "INTEGER": "INTEGER",
    "DOUBLE": "DOUBLE",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP",
    "DECIMAL": "DECIMAL(38,4)",
    "DECIMAL(38,4)": "DECIMAL(38,4)",
    "DECIMAL(38,2)": "DECIMAL(38,2)",
    "Array[LONG]": "BIGINT[]",
    "Array[INTEGER]": "INTEGER[]",
    "ARRAY": "VARCHAR[]",
}


@dataclass(frozen=True)
class Column:
    name: str
    amc_type: str
    threshold: str

    @property
    def duckdb_type(self) -> str:
        return _SIMPLE_TYPES[self.amc_type]


@cache
def tables() -> dict[str, tuple[Column, ...]]:
    raw = json.loads((Path(__file__).with_name("amc_tables.json")).read_text())
    return {name: tuple(Column(*row) for row in rows) for name, rows in raw.items()}


def columns_of(table: str) -> tuple[Column, ...]:
    return tables()[table]


@cache
def column_names(table: str) -> frozenset[str]:
    return frozenset(c.name for c in tables()[table])


@cache
def columns_in_classes(classes: frozenset[str]) -> frozenset[str]:
    """Names of columns that belong to one of `classes` in any table (the classes agree across tables)."""
    return frozenset(c.name for cols in tables().values() for c in cols if c.threshold in classes)


def is_known_table(name: str) -> bool:
    return name in tables()
