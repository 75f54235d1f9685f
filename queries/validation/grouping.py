"""The GROUP BY rule AMC applies at compile time: in an aggregating SELECT every column outside an aggregate
must be grouped. Code ``ungrouped-column`` (error), reported on the column with AMC's wording.
"""

from __future__ import annotations

from sqlglot import exp

from .relations import _ANONYMOUS_AGGREGATES

UNGROUPED_HINT = "the query. Add it to the GROUP BY or wrap it in an aggregate such as MAX(...)."


def _is_aggregate(node: exp.Expression) -> bool:
    return isinstance(node, exp.AggFunc) or (
        isinstance(node, exp.Anonymous) and node.name.upper() in _ANONYMOUS_AGGREGATES
    )


def _owner(node: exp.Expression) -> exp.Expression | None:
    """The nearest enclosing aggregate, window function or SELECT of `node`."""
    parent = node.parent
    while parent is not None and not (isinstance(parent, (exp.Window, exp.Select)) or _is_aggregate(parent)):
        parent = parent.parent
    return parent


def _aggregates(select: exp.Select) -> bool:
    """An aggregate of this SELECT itself (not one inside a window function or a subquery)."""
    return any(
        _owner(node) is select
        for item in select.expressions
        for node in item.walk()
        if _is_aggregate(node) and not isinstance(node, exp.Window)
    )


def ungrouped_columns(select: exp.Select) -> list[exp.Column]:
    """Columns of the select list that are neither grouped nor inside an aggregate or window function."""
    group = select.args.get("group")
    keys = list(group.expressions) if group else []
    if not keys and not _aggregates(select):
        return []
    items = [item.unalias() for item in select.expressions]
    by_alias = {item.alias.lower(): item.unalias() for item in select.expressions if isinstance(item, exp.Alias)}
    resolved = []
    for key in keys:  # GROUP BY 2 and GROUP BY alias stand for a select-list expression
        if isinstance(key, exp.Literal) and key.is_int and 0 < int(key.name) <= len(items):
            key = items[int(key.name) - 1]
        elif isinstance(key, exp.Column) and not key.table and key.name.lower() in by_alias:
            resolved.append(by_alias[key.name.lower()])
        resolved.append(key)
    grouped = {key.sql().lower() for key in resolved}
    found = []
    for item in items:
        if item.sql().lower() in grouped:
            continue
        for column in item.find_all(exp.Column):
            # Inside an aggregate, a window function or a subquery of its own: not this SELECT's grouping.
            if _owner(column) is not select:
                continue
            name = column.name.lower()
            if column.sql().lower() in grouped or any(
                isinstance(k, exp.Column) and k.name.lower() == name and k.table in ("", column.table)
                for k in resolved
            ):
                continue
            found.append(column)
    return found
