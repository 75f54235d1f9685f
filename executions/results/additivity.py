"""Which result columns are dimensions and metrics, and which metrics may be summed.

An additive metric (impressions, spend) may be summed across rows; a non-additive one (distinct users, rates,
averages) may not: the sum of two campaigns' reach is not the reach of both. A column the schema catalog lists as a
metric (e.g. impressions) is additive; otherwise the name decides. Dashboards (`dashboards.data`, which re-exports
these names) and run comparisons (`executions.comparison`) share this one rule.
"""

from __future__ import annotations

import re

from . import NUMERIC_TYPES

ADDITIVE, NON_ADDITIVE = "additive", "non_additive"
_NON_ADDITIVE_WORDS = (
    "reach", "distinct", "unique", "users", "rate", "ctr", "cvr", "cpa", "cpc", "cpm", "avg", "average", "mean",
    "pct", "percent", "ratio", "per_", "roas", "frequency", "share", "median",
)  # fmt: skip
# Numeric columns that name a thing or a time rather than measure one: ids and calendar parts.
_DIMENSION_NAME = re.compile(r"(^|_)(id|ids|year|quarter|month|week|day|date|hour|dow|rank)$")


def guess_kind(name: str, catalog_metrics: set[str] = frozenset()) -> str:
    """A catalog metric column (e.g. impressions) is additive; otherwise the name decides."""
    lowered = name.lower()
    if lowered in catalog_metrics:
        return ADDITIVE
    return NON_ADDITIVE if any(word in lowered for word in _NON_ADDITIVE_WORDS) else ADDITIVE


def catalog_metric_names() -> set[str]:
    from queries.models import SchemaField

    return {n.lower() for n in SchemaField.objects.filter(kind=SchemaField.Kind.METRIC).values_list("name", flat=True)}


def catalog_dimension_names() -> set[str]:
    from queries.models import SchemaField

    fields = SchemaField.objects.filter(kind=SchemaField.Kind.DIMENSION).values_list("name", flat=True)
    return {n.lower() for n in fields}


def is_metric(column: dict, catalog_metrics: set[str] = frozenset(), catalog_dimensions: set[str] = frozenset()
              ) -> bool:  # fmt: skip
    """A numeric column that is not a catalog dimension, an id or a calendar part."""
    if column["type"] not in NUMERIC_TYPES:
        return False
    lowered = column["name"].lower()
    if lowered in catalog_metrics:
        return True
    return lowered not in catalog_dimensions and not _DIMENSION_NAME.search(lowered)
