"""AMC's compile-time rules, reported the way AMC reports them: a message with the source range of the
offending token ("From line L, column C to line L2, column C2: message").

`check(sql, declared_parameters=...)` parses the query and applies the rules in a fixed order, raising the
first `CompileError` found, or returns the parsed tree.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.scope import Scope, traverse_scope

from .compile_error import CompileError
from .functions import function_label, unknown_function
from .positions import Span, node_offsets, node_span, offset_to_line_col, token_span, tokens
from .rules_grouping import check_grouping
from .rules_output import check_aggregation, check_literal_filters, check_output_columns
from .schema import column_names, is_known_table
from .sqltree import base_table_name, cte_names, extend_time_window_call, function_name, is_star
from .translate import parse_duration

__all__ = ["CompileError", "check", "parse"]

BUILT_IN_PARAMETERS = frozenset({"TIME_WINDOW_START", "TIME_WINDOW_END"})


def check(sql: str, *, declared_parameters: Iterable[str] | None = None) -> exp.Expression:
    tree = parse(sql)
    _check_functions(sql, tree)
    _check_limit(sql, tree)
    _check_right_join(sql, tree)
    _check_tables(sql, tree)
    _check_select_star(sql, tree)
    _check_columns(sql, tree)
    _check_parameters(sql, tree, declared_parameters)
    check_literal_filters(sql, tree)
    check_output_columns(sql, tree)
    check_aggregation(sql, tree)
    check_grouping(sql, tree)
    return tree


def parse(sql: str) -> exp.Expression:
    """Parse one AMC SQL statement, turning parser failures into positioned CompileErrors."""
    if not sql.strip():
        raise CompileError("The query is empty")
    try:
        statements = sqlglot.parse(sql)
    except ParseError as error:
        raise _syntax_error(sql, error) from None
    except TokenError:
        raise _unterminated_error(sql) from None
    except RecursionError:  # AMC refuses absurdly nested text with a compile error too
        raise CompileError("The query is nested too deeply to be compiled") from None
    statements = [s for s in statements if s is not None]
    if len(statements) != 1:
        raise _extra_statement_error(sql)
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        first = tokens(sql)[0]
        raise CompileError.at("Only SELECT queries can be run", token_span(sql, first))
    return tree


def _syntax_error(sql: str, error: ParseError) -> CompileError:
    detail = error.errors[0] if error.errors else {}
    highlight = (detail.get("highlight") or "").strip()
    line, end_column = detail.get("line") or 1, detail.get("col") or 1
    description = detail.get("description") or ""
    if description.startswith("Required keyword"):
        description = "an expression is missing before this point"
    elif description.startswith("Invalid expression"):
        description = "unexpected token"
    if highlight and "\n" not in highlight:
        column = max(1, end_column - len(highlight) + 1)
        message = f'Syntax error at "{highlight}": {description or "unexpected token"}'
    else:
        column = end_column
        message = f"Syntax error: {description or 'unexpected end of query'}"
    return CompileError(message, line, column, line, end_column)


def _unterminated_error(sql: str) -> CompileError:
    quote = max(sql.rfind("'"), sql.rfind('"'))
    line, column = offset_to_line_col(sql, max(quote, 0))
    return CompileError("Syntax error: unterminated quoted string or identifier", line, column)


def _extra_statement_error(sql: str) -> CompileError:
    toks = tokens(sql)
    for index, token in enumerate(toks):
        if token.token_type.name == "SEMICOLON" and index + 1 < len(toks):
            following = toks[index + 1]
            return CompileError.at(
                "Only one statement can be run at a time", token_span(sql, following, toks[-1])
            )
    return CompileError("Only one statement can be run at a time")


def _first_token(sql: str, *names: str):
    return next((t for t in tokens(sql) if t.token_type.name in names), None)


def _check_limit(sql: str, tree: exp.Expression) -> None:
    limit = tree.find(exp.Limit, exp.Fetch)
    if limit is None:
        return
    keyword = _first_token(sql, "LIMIT", "FETCH")
    value = node_span(sql, limit)
    span = token_span(sql, keyword) if keyword else value
    if keyword and value:
        span = Span(span.line, span.column, value.end_line, value.end_column)
    raise CompileError.at(
        "LIMIT is not supported; rank rows with ROW_NUMBER() or RANK() and filter on the rank", span
    )


def _check_right_join(sql: str, tree: exp.Expression) -> None:
    if not any(join.side.upper() == "RIGHT" for join in tree.find_all(exp.Join)):
        return
    toks = tokens(sql)
    for index, token in enumerate(toks):
        if token.token_type.name == "RIGHT":
            last = next((t for t in toks[index:] if t.token_type.name == "JOIN"), token)
            raise CompileError.at(
                "RIGHT JOIN is not supported; swap the two sides and use LEFT JOIN",
                token_span(sql, token, last),
            )
    raise CompileError("RIGHT JOIN is not supported; swap the two sides and use LEFT JOIN")


def _check_tables(sql: str, tree: exp.Expression) -> None:
    ctes = cte_names(tree)
    for table in tree.find_all(exp.Table):
        call = extend_time_window_call(table)
        if call is not None:
            _check_extend_time_window(sql, call)
            continue
        if not isinstance(table.this, exp.Identifier):
            raise CompileError.at(
                "Only AMC tables, common table expressions and subqueries can be read", node_span(sql, table)
            )
        name = base_table_name(table, ctes)
        if name is None and table.name.lower() in ctes:
            continue
        if name is None or not is_known_table(name):
            raise CompileError.at(f"Object '{table.sql()}' not found", node_span(sql, table))


def _check_extend_time_window(sql: str, call: exp.Anonymous) -> None:
    args = call.expressions
    span = node_span(sql, call, through_paren=True)
    if len(args) != 3 or not all(isinstance(a, exp.Literal) and a.is_string for a in args):
        raise CompileError.at(
            "EXTEND_TIME_WINDOW takes three strings: a table name and two ISO-8601 durations", span
        )
    if not is_known_table(args[0].name.lower()):
        raise CompileError.at(f"Object '{args[0].name}' not found", node_span(sql, args[0]) or span)
    for duration in args[1:]:
        if parse_duration(duration.name) is None:
            raise CompileError.at(
                f"'{duration.name}' is not an ISO-8601 duration such as P14D",
                node_span(sql, duration) or span,
            )


def _source_tables(select: exp.Select, ctes: set[str]) -> dict[str, str]:
    """alias -> AMC table for the base tables a SELECT reads directly."""
    sources = {}
    from_ = select.args.get("from_")
    items = ([from_.this] if from_ else []) + [join.this for join in select.args.get("joins") or []]
    for item in items:
        if isinstance(item, exp.Table):
            call = extend_time_window_call(item)
            name = call.expressions[0].name.lower() if call is not None else base_table_name(item, ctes)
            if name and is_known_table(name):
                sources[(item.alias or item.name).lower()] = name
    return sources


def _check_functions(sql: str, tree: exp.Expression) -> None:
    call = unknown_function(tree)
    if call is not None:
        raise CompileError.at(f"Function {function_label(call)} is not supported", node_span(sql, call))


def _check_select_star(sql: str, tree: exp.Expression) -> None:
    ctes = cte_names(tree)
    for select in tree.find_all(exp.Select):
        tables = _source_tables(select, ctes)
        for projection in select.expressions:
            qualifier = projection.table.lower() if isinstance(projection, exp.Column) else ""
            if is_star(projection) and ((not qualifier and tables) or qualifier in tables):
                raise CompileError.at(
                    "SELECT * is not allowed on AMC tables; list the columns you need",
                    _star_span(sql, select, projection),
                )


def _star_span(sql: str, select: exp.Select, projection: exp.Expression) -> Span | None:
    # Stars carry no position: take the last projection star before this SELECT's FROM clause.
    from_ = select.args.get("from_")
    offsets = node_offsets(from_) if from_ else None
    limit = offsets[0] if offsets else len(sql)
    toks = tokens(sql)
    stars = [
        (index, t)
        for index, t in enumerate(toks)
        if t.token_type.name == "STAR"
        and t.start < limit
        and index > 0
        and toks[index - 1].token_type.name in ("SELECT", "DISTINCT", "ALL", "COMMA", "DOT")
    ]
    if not stars:
        return node_span(sql, projection)
    index, star = stars[-1]
    first = toks[index - 2] if toks[index - 1].token_type.name == "DOT" else star
    return token_span(sql, first, star)


def _plain_tables(tree: exp.Expression) -> exp.Expression:
    """A copy where TABLE(EXTEND_TIME_WINDOW('t', ...)) reads as plain `t`, for scope analysis."""
    tree = tree.copy()
    for table in list(tree.find_all(exp.Table)):
        call = extend_time_window_call(table)
        if call is not None:
            name = call.expressions[0].name.lower()
            table.replace(exp.Table(this=exp.to_identifier(name), alias=table.args.get("alias")))
    return tree


def _alias_columns(node: exp.Expression | None) -> set[str] | None:
    alias = node.args.get("alias") if node is not None else None
    columns = alias.columns if isinstance(alias, exp.TableAlias) else []
    return {c.name.lower() for c in columns} or None


def _query_outputs(query: exp.Expression) -> set[str] | None:
    """Output column names of a derived query, or None when they cannot be known (stars, VALUES)."""
    renamed = _alias_columns(query.parent)
    if renamed:
        return renamed
    while isinstance(query, exp.SetOperation):
        query = query.this
    if not isinstance(query, exp.Select) or any(is_star(p) for p in query.expressions):
        return None
    return {name.lower() for name in query.named_selects}


def _source_outputs(source: exp.Expression | Scope, ctes: set[str]) -> set[str] | None:
    if isinstance(source, Scope):
        return _query_outputs(source.expression)
    if isinstance(source, exp.Table):
        name = base_table_name(source, ctes)
        return set(column_names(name)) if name and is_known_table(name) else None
    return None


def _check_columns(sql: str, tree: exp.Expression) -> None:
    work = _plain_tables(tree)
    ctes = cte_names(work)
    try:
        scopes = traverse_scope(work)
    except Exception:  # noqa: BLE001 - scope analysis is best effort; DuckDB still reports what it misses
        return
    for scope in scopes:
        sources = {alias.lower(): source for alias, source in scope.sources.items()}
        select = scope.expression
        # Output aliases may be referenced from GROUP BY, HAVING and ORDER BY.
        aliases = (
            {p.alias.lower() for p in select.expressions if isinstance(p, exp.Alias)}
            if isinstance(select, exp.Select)
            else set()
        )
        for column in scope.columns:
            if isinstance(column.this, exp.Star) or column.args.get("db"):
                continue
            name, qualifier = column.name.lower(), column.table.lower()
            if qualifier:
                outputs = _source_outputs(sources[qualifier], ctes) if qualifier in sources else None
                if outputs is not None and name not in outputs:
                    raise CompileError.at(
                        f"Column '{column.name}' not found in table '{column.table}'", node_span(sql, column)
                    )
                continue
            all_outputs = [_source_outputs(source, ctes) for source in sources.values()]
            if not all_outputs or any(outputs is None for outputs in all_outputs):
                continue
            if name not in aliases and not any(name in outputs for outputs in all_outputs):
                raise CompileError.at(
                    f"Column '{column.name}' not found in any table", node_span(sql, column)
                )


def _check_parameters(sql: str, tree: exp.Expression, declared: Iterable[str] | None) -> None:
    declared_names = set(declared) if declared is not None else None
    for call in tree.find_all(exp.Anonymous):
        kind = function_name(call)
        if kind not in ("CUSTOM_PARAMETER", "BUILT_IN_PARAMETER"):
            continue
        span = node_span(sql, call, through_paren=True)
        args = call.expressions
        if len(args) != 1 or not (isinstance(args[0], exp.Literal) and args[0].is_string):
            raise CompileError.at(f"{kind} takes one quoted parameter name", span)
        name = args[0].name
        if kind == "BUILT_IN_PARAMETER" and name.upper() not in BUILT_IN_PARAMETERS:
            raise CompileError.at(f"Unknown built-in parameter '{name}'", span)
        if kind == "CUSTOM_PARAMETER" and declared_names is not None and name not in declared_names:
            raise CompileError.at(f"The query references the undeclared parameter {name}", span)
