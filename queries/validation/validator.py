"""Client-side validation of AMC SQL for the live editor: syntax, names, privacy and AMC restrictions.

No database and no network: the schema comes in as a :class:`Catalog`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from sqlglot import exp

from .catalog import Catalog, ColumnInfo
from .diagnostics import ERROR, Diagnostic, SourceMap
from .limits import sql_limit_problem
from .parsing import ParsedSQL, SQLSyntaxError, TokenType, parse
from .rules import RuleContext, run_rules
from .scope import Resolver
from .sql_text import TextScan, mask_placeholders, scan

__all__ = ["Catalog", "ColumnInfo", "Diagnostic", "validate"]


def validate(
    sql: str,
    catalog: Catalog,
    *,
    declared_parameters: set[str] | None = None,
    placeholder_values: Mapping | None = None,
) -> list[Diagnostic]:
    """Check one AMC query and return its diagnostics sorted by position.

    ``declared_parameters``: names declared for the workflow; when given, every ``CUSTOM_PARAMETER('x')``
    must be one of them. ``placeholder_values``: values entered for ``{{name}}`` placeholders; when given,
    every placeholder needs a non-empty value.
    """
    if not sql.strip():
        return []
    source = SourceMap(sql)
    too_big = sql_limit_problem(sql)
    if too_big:
        return [source.diagnostic(ERROR, "too-large", too_big, 0, 1)]
    text = scan(sql)
    diagnostics = _parameter_diagnostics(text, source, declared_parameters, placeholder_values)
    try:
        parsed = parse(mask_placeholders(sql, text.occurrences), source, text.unclosed)
    except SQLSyntaxError as error:
        return _sorted(diagnostics + [error.diagnostic])

    diagnostics += _statement_shape(parsed, source)
    if parsed.statements and isinstance(parsed.statements[0], exp.Query):
        statement = parsed.statements[0]
        resolver = Resolver(catalog, source, sql)
        resolution = resolver.resolve(statement)
        diagnostics += resolution.diagnostics
        diagnostics += run_rules(RuleContext(sql, statement, resolution, resolver, parsed.tokens, source))
    return _sorted(diagnostics)


def _statement_shape(parsed: ParsedSQL, source: SourceMap) -> list[Diagnostic]:
    """AMC runs exactly one query: a SELECT, optionally with CTEs and UNIONs."""
    problems = []
    tokens = [token for token in parsed.tokens.tokens if token.token_type != TokenType.SEMICOLON]
    if parsed.statements and not isinstance(parsed.statements[0], exp.Query):
        message = "AMC only runs queries (SELECT, optionally starting with WITH); this statement cannot run."
        problems.append(source.diagnostic(ERROR, "not-a-query", message, tokens[0].start, tokens[0].end + 1))
    if len(parsed.statements) > 1:
        first_semicolon = next(t for t in parsed.tokens.tokens if t.token_type == TokenType.SEMICOLON)
        second = next(t for t in tokens if t.start > first_semicolon.start)
        message = "A workflow holds a single query; remove everything after the first semicolon."
        problems.append(
            source.diagnostic(ERROR, "multiple-statements", message, second.start, second.end + 1)
        )
    return problems


def _parameter_diagnostics(
    text: TextScan,
    source: SourceMap,
    declared: set[str] | None,
    values: Mapping | None,
) -> list[Diagnostic]:
    found = []
    for occurrence in text.occurrences:
        name = occurrence.name
        if occurrence.syntax == "custom" and declared is not None and name not in declared:
            close = difflib.get_close_matches(name, sorted(declared), n=1, cutoff=0.75)
            hint = f" Did you mean '{close[0]}'?" if close else f" Declare a parameter named '{name}'."
            message = f"CUSTOM_PARAMETER('{name}') is not declared for this workflow." + hint
            found.append(
                source.diagnostic(ERROR, "undeclared-parameter", message, occurrence.start, occurrence.end)
            )
        elif occurrence.syntax == "placeholder" and values is not None and _is_blank(values.get(name)):
            message = f"{{{{{name}}}}} has no value: enter one for '{name}' before running the query."
            found.append(
                source.diagnostic(
                    ERROR, "placeholder-missing-value", message, occurrence.start, occurrence.end
                )
            )
    return found


def _is_blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, set)):
        return not value
    return False


def _sorted(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(dict.fromkeys(diagnostics), key=lambda d: d.sort_key)
