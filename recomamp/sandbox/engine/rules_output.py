"""Rules about what a query may output and filter on: sensitive identifiers never reach the output, the
most sensitive columns are not compared with fixed values, and event data is aggregated."""

from __future__ import annotations

from sqlglot import exp

from .compile_error import CompileError
from .positions import Span, node_span, token_span, tokens
from .schema import NEVER_OUTPUT_CLASSES, NO_LITERAL_FILTER_CLASSES, columns_in_classes, is_known_table
from .sqltree import (
    cte_queries,
    derived_sources,
    extend_time_window_call,
    final_selects,
    function_name,
    is_aggregate_call,
    is_aggregating,
    is_star,
    resolve_projection,
)

_COMPARISONS = (
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Like,
    exp.ILike,
    exp.RegexpLike,
    exp.In,
)


def _is_fixed_value(node: exp.Expression | None) -> bool:
    return (
        isinstance(node, exp.Literal)
        or function_name(node) == "CUSTOM_PARAMETER"
        or (isinstance(node, exp.Cast) and _is_fixed_value(node.this))
    )


def check_literal_filters(sql: str, tree: exp.Expression) -> None:
    restricted = columns_in_classes(NO_LITERAL_FILTER_CLASSES)
    for node in tree.find_all(*_COMPARISONS):
        others = (
            [*node.expressions, node.args.get("field")] if isinstance(node, exp.In) else [node.expression]
        )
        pairs = [(node.this, others)]
        if not isinstance(node, exp.In):
            pairs.append((node.expression, [node.this]))
        for column, values in pairs:
            if (
                isinstance(column, exp.Column)
                and column.name.lower() in restricted
                and any(_is_fixed_value(v) for v in values)
            ):
                raise CompileError.at(
                    f"Column '{column.name}' is too sensitive to be compared with a literal or "
                    "parameter value",
                    node_span(sql, node),
                )


def _bare_columns(expression: exp.Expression) -> list[exp.Column]:
    """Columns whose values reach the output as they are: not aggregated, windowed or merely tested."""
    stop = (exp.Window, exp.Subquery, exp.Predicate)
    return [
        node
        for node in expression.walk(prune=lambda n: is_aggregate_call(n) or isinstance(n, stop))
        if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star)
    ]


def _leak(
    projection: exp.Expression,
    select: exp.Select,
    never: frozenset[str],
    ctes: dict[str, exp.Expression],
    depth: int = 0,
) -> exp.Expression | None:
    """The part of `projection` that outputs a never-output column unaggregated, following columns of
    CTEs and subqueries back to where they are computed."""
    if depth > 20:
        return None
    derived = {k: v for k, v in derived_sources(select, ctes).items() if not isinstance(v, exp.Table)}
    if is_star(projection):
        for query in derived.values():
            for inner in final_selects(query):
                if any(_leak(p, inner, never, ctes, depth + 1) for p in inner.expressions):
                    return projection
        return None
    for column in _bare_columns(projection):
        if column.name.lower() in never:
            return column
        origin = resolve_projection(column, derived)
        inner = origin.find_ancestor(exp.Select) if origin is not None else None
        if inner is not None and _leak(origin, inner, never, ctes, depth + 1) is not None:
            return column
    return None


def check_output_columns(sql: str, tree: exp.Expression) -> None:
    never = columns_in_classes(NEVER_OUTPUT_CLASSES)
    ctes = cte_queries(tree)
    for select in final_selects(tree):
        leaked = next(filter(None, (_leak(p, select, never, ctes) for p in select.expressions)), None)
        if leaked is not None:
            raise CompileError.at(
                f"'{leaked.sql()}' cannot appear in the query output: it exposes a user-level identifier "
                "(aggregate it, e.g. COUNT(DISTINCT ...), or drop it from the final SELECT)",
                node_span(sql, leaked) or _select_keyword_span(sql, 0),
            )


def _reads_events(query: exp.Expression, ctes: dict[str, exp.Expression], depth: int = 0) -> bool:
    """Whether rows of `query` are unaggregated event rows from AMC tables."""
    if depth > 20:
        return False
    for select in final_selects(query):
        if is_aggregating(select) and depth > 0:
            continue
        for source in derived_sources(select, ctes).values():
            if isinstance(source, exp.Table):
                if extend_time_window_call(source) is not None or is_known_table(source.name.lower()):
                    return True
            elif _reads_events(source, ctes, depth + 1):
                return True
    return False


def _select_keyword_span(sql: str, branch: int) -> Span | None:
    depth, selects = 0, []
    for token in tokens(sql):
        kind = token.token_type.name
        depth += kind == "L_PAREN"
        depth -= kind == "R_PAREN"
        if kind == "SELECT":
            selects.append((depth, token))
    if not selects:
        return None
    outer = min(d for d, _ in selects)
    top = [t for d, t in selects if d == outer]
    token = top[min(branch, len(top) - 1)]
    return token_span(sql, token)


def check_aggregation(sql: str, tree: exp.Expression) -> None:
    ctes = cte_queries(tree)
    for branch, select in enumerate(final_selects(tree)):
        if not is_aggregating(select) and _reads_events(select, ctes, depth=1):
            raise CompileError.at(
                "The query must aggregate: the final SELECT needs at least one aggregate function "
                "(SUM, COUNT, ...) over the event data",
                _select_keyword_span(sql, branch),
            )
