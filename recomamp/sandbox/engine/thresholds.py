"""AMC's per-column aggregation thresholds: the minimum distinct users behind an output row is set by the
strictest class among the dimensions the row is grouped on (NONE 1, LOW 2, MEDIUM and HIGH 100).

A dimension's class is found by name: an AMC column's own class, or, for a CTE or subquery output, the
classes of the columns its expression reads outside aggregates. Metrics (inside aggregates) are class NONE.
"""

from __future__ import annotations

from sqlglot import exp

from .schema import columns_in_classes
from .sqltree import final_selects, is_aggregate_call

MIN_USERS = {"NONE": 1, "LOW": 2, "MEDIUM": 100, "HIGH": 100}
_STRICT = frozenset({"MEDIUM", "HIGH"})
_LOW = frozenset({"LOW"})


def required_users(tree: exp.Expression) -> int:
    """The minimum distinct users per output row that AMC would require for this query."""
    projections = _projections_by_alias(tree)
    strictest = 1
    for select in final_selects(tree):
        for item in select.expressions:
            strictest = max(strictest, _users_for(item.unalias(), projections, depth=0))
    return strictest


def _users_for(node: exp.Expression, projections: dict[str, list[exp.Expression]], depth: int) -> int:
    users = 1
    for column in _dimension_columns(node):
        name = column.name.lower()
        if name in columns_in_classes(_STRICT):
            return MIN_USERS["MEDIUM"]
        if name in columns_in_classes(_LOW):
            users = max(users, MIN_USERS["LOW"])
        elif depth < 8:  # a CTE or subquery output: what its expressions read
            for expression in projections.get(name, []):
                users = max(users, _users_for(expression, projections, depth + 1))
    return users


def _dimension_columns(node: exp.Expression) -> list[exp.Column]:
    """Columns read outside aggregate and window functions."""
    found = []
    for column in node.find_all(exp.Column):
        parent, inside = column.parent, False
        while parent is not None and parent is not node:
            if is_aggregate_call(parent) or isinstance(parent, exp.Window):
                inside = True
                break
            parent = parent.parent
        if not inside:
            found.append(column)
    return found


def _projections_by_alias(tree: exp.Expression) -> dict[str, list[exp.Expression]]:
    by_alias: dict[str, list[exp.Expression]] = {}
    for select in tree.find_all(exp.Select):
        for item in select.expressions:
            if item.alias_or_name:
                target = item.unalias()
                if not (isinstance(target, exp.Column) and target.name.lower() == item.alias_or_name.lower()):
                    by_alias.setdefault(item.alias_or_name.lower(), []).append(target)
    return by_alias
