"""Questions about the shape of a parsed AMC query that the rules, the translator and the privacy
rewrite all ask: which tables and CTEs a SELECT reads, which SELECTs form the output, what aggregates."""

from __future__ import annotations

from sqlglot import exp

# Schema prefixes AMC accepts in front of table names.
ACCEPTED_SCHEMAS = frozenset({"", "sandbox"})


def extend_time_window_call(table: exp.Table) -> exp.Anonymous | None:
    """The EXTEND_TIME_WINDOW(...) call when `table` is `TABLE(EXTEND_TIME_WINDOW(...))`."""
    wrapper = table.this
    if isinstance(wrapper, exp.Anonymous) and str(wrapper.this).upper() == "TABLE" and wrapper.expressions:
        inner = wrapper.expressions[0]
        if isinstance(inner, exp.Anonymous) and str(inner.this).upper() == "EXTEND_TIME_WINDOW":
            return inner
    return None


def cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def base_table_name(table: exp.Table, ctes: set[str]) -> str | None:
    """The AMC table a FROM/JOIN item reads, or None for CTE references and other sources."""
    if not isinstance(table.this, exp.Identifier) or table.catalog:
        return None
    name = table.name.lower()
    if table.db.lower() not in ACCEPTED_SCHEMAS or (not table.db and name in ctes):
        return None
    return name


def function_name(node: exp.Expression) -> str | None:
    return str(node.this).upper() if isinstance(node, exp.Anonymous) else None


def is_aggregate_call(node: exp.Expression) -> bool:
    return isinstance(node, exp.AggFunc) or function_name(node) == "COLLECT"


def has_aggregate(expression: exp.Expression) -> bool:
    stop = (exp.Window, exp.Subquery)
    return any(is_aggregate_call(n) for n in expression.walk(prune=lambda n: isinstance(n, stop)))


def final_selects(query: exp.Expression) -> list[exp.Select]:
    """The SELECTs whose rows form the query's output (each branch of a UNION)."""
    if isinstance(query, exp.SetOperation):
        return final_selects(query.this) + final_selects(query.expression)
    if isinstance(query, exp.Subquery):
        return final_selects(query.this)
    return [query] if isinstance(query, exp.Select) else []


def is_aggregating(select: exp.Select) -> bool:
    return bool(select.args.get("group")) or any(has_aggregate(p) for p in select.expressions)


def derived_sources(select: exp.Select, ctes: dict[str, exp.Expression]) -> dict[str, exp.Expression]:
    """alias -> query for the CTEs and subqueries a SELECT reads; AMC tables map to their Table node."""
    sources: dict[str, exp.Expression] = {}
    from_ = select.args.get("from_")
    items = ([from_.this] if from_ else []) + [join.this for join in select.args.get("joins") or []]
    for item in items:
        alias = item.alias_or_name.lower()
        if isinstance(item, exp.Subquery):
            sources[alias] = item.this
        elif isinstance(item, exp.Table):
            name = item.name.lower()
            if not item.db and name in ctes and extend_time_window_call(item) is None:
                sources[alias] = ctes[name]
            else:
                sources[alias] = item
    return sources


def cte_queries(tree: exp.Expression) -> dict[str, exp.Expression]:
    return {cte.alias_or_name.lower(): cte.this for cte in tree.find_all(exp.CTE)}


def resolve_projection(column: exp.Column, sources: dict[str, exp.Expression]) -> exp.Expression | None:
    """The expression a derived source computes for `column`, when it can be found."""
    name = column.name.lower()
    candidates = (
        [sources[column.table.lower()]] if column.table.lower() in sources else list(sources.values())
    )
    for query in candidates:
        for select in final_selects(query)[:1]:
            for projection in select.expressions:
                if projection.alias_or_name.lower() == name:
                    return projection
    return None


def is_star(projection: exp.Expression) -> bool:
    return isinstance(projection, exp.Star) or (
        isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
    )
