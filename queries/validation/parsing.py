"""Parsing AMC SQL with sqlglot, keeping enough position data to point at tokens."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from sqlglot import exp, tokens
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError

from .diagnostics import ERROR, Diagnostic, SourceMap
from .sql_text import Unclosed

TokenType = tokens.TokenType


class AMC(Dialect):
    """AMC SQL for validation purposes.

    sqlglot's permissive default grammar already reads AMC's own constructs (``CUSTOM_PARAMETER('x')``,
    ``BUILT_IN_PARAMETER(...)``, ``SECONDS_BETWEEN(a, b)``, ``TABLE(EXTEND_TIME_WINDOW(...))``, ``IF``,
    ``NAMED_ROW``, ``SIMILAR TO``, ``ARRAY[...]``) as functions or expressions; this dialect pins the
    lexical rules AMC documents so that upgrades of the default cannot change them.
    """

    class Tokenizer(tokens.Tokenizer):
        STRING_ESCAPES = ["'"]  # 'men''s': quotes are doubled; backslash is not an escape character
        IDENTIFIERS = ['"']


@dataclass
class ParsedSQL:
    statements: list[exp.Expression]
    tokens: TokenIndex


class SQLSyntaxError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


class TokenIndex:
    """Tokens in text order, to find keywords (LIMIT, RIGHT, SELECT) next to positioned AST nodes."""

    def __init__(self, token_list: list[tokens.Token]):
        self.tokens = token_list
        self._starts = [token.start for token in token_list]

    def last_before(self, offset: int, token_type: TokenType) -> tokens.Token | None:
        index = bisect.bisect_left(self._starts, offset) - 1
        while index >= 0:
            if self.tokens[index].token_type == token_type:
                return self.tokens[index]
            index -= 1
        return None

    def first_after(self, offset: int) -> tokens.Token | None:
        index = bisect.bisect_right(self._starts, offset)
        return self.tokens[index] if index < len(self.tokens) else None


def parse(masked_sql: str, source: SourceMap, unclosed: Unclosed | None) -> ParsedSQL:
    """Parse text whose placeholders are already masked; raise SQLSyntaxError with a positioned message."""
    dialect = AMC()
    try:
        token_list = dialect.tokenize(masked_sql)
        statements = dialect.parser().parse(token_list, masked_sql)
    except TokenError:
        if unclosed is None:
            message = "The SQL contains text that cannot be read."
            diagnostic = source.diagnostic(ERROR, "syntax", message, 0, 1)
        else:
            closing = {"string": "single quote (')", "quoted name": 'double quote (")', "comment": "*/"}
            message = f"This {unclosed.kind} is never closed: add the missing {closing[unclosed.kind]}."
            diagnostic = source.diagnostic(ERROR, "syntax", message, unclosed.start, unclosed.start + 1)
        raise SQLSyntaxError(diagnostic) from None
    except ParseError as error:
        raise SQLSyntaxError(_parse_error_diagnostic(error, source)) from None
    except RecursionError:  # nesting under limits.MAX_NESTING can still be too deep in places (subqueries)
        message = "The query nests too deeply to be read; simplify it."
        raise SQLSyntaxError(source.diagnostic(ERROR, "syntax", message, 0, 1)) from None
    _check_token_sequence(token_list, source)
    return ParsedSQL([s for s in statements if s is not None], TokenIndex(token_list))


def _check_token_sequence(token_list: list[tokens.Token], source: SourceMap) -> None:
    """Mistakes sqlglot forgives but AMC does not: stray commas and an empty SELECT list."""
    for previous, current in zip(token_list, token_list[1:], strict=False):
        message = None
        if previous.token_type == TokenType.COMMA and current.token_type in _AFTER_COMMA_NOT_ALLOWED:
            message = f"Unexpected ',' before '{current.text}': remove the extra comma."
            start, end = previous.start, previous.end + 1
        elif previous.token_type == TokenType.SELECT and current.token_type == TokenType.FROM:
            message = "The SELECT list is empty: name the columns or expressions to return."
            start, end = previous.start, previous.end + 1
        if message:
            raise SQLSyntaxError(source.diagnostic(ERROR, "syntax", message, start, end))


_AFTER_COMMA_NOT_ALLOWED = frozenset({TokenType.COMMA, TokenType.FROM, TokenType.R_PAREN})


_CLAUSES = {
    "WHERE": "WHERE clause",
    "GROUP": "GROUP BY clause",
    "HAVING": "HAVING clause",
    "ORDER": "ORDER BY clause",
    "JOIN": "JOIN",
    "WITH": "WITH clause",
}
_REQUIRED = re.compile(r"Required keyword: '\w+' missing for <class '[\w.]*?(\w+)'>")


def _parse_error_diagnostic(error: ParseError, source: SourceMap) -> Diagnostic:
    details = error.errors[0] if error.errors else {}
    description = details.get("description") or str(error)
    highlight = (details.get("highlight") or "").strip()
    line, column = details.get("line") or 1, details.get("col") or 1
    # sqlglot reports the column of the last character of the offending token.
    end = source.offset(line, column) + 1
    start = end - len(highlight) if highlight else end - 1
    return source.diagnostic(ERROR, "syntax", _plain_message(description, highlight), start, end)


def _plain_message(description: str, highlight: str) -> str:
    near = f" near '{highlight}'" if highlight else ""
    if description.startswith("Expecting )"):
        return f"A closing parenthesis ')' is missing{near}."
    if description.startswith("Expecting ("):
        return f"An opening parenthesis '(' is expected{near}."
    if description.startswith("Invalid expression / Unexpected token"):
        return f"Unexpected '{highlight}' here." if highlight else "Unexpected end of the query."
    required = _REQUIRED.match(description)
    if required:
        clause = _CLAUSES.get(required.group(1).upper())
        return f"The {clause} is incomplete{near}." if clause else f"An expression is incomplete{near}."
    return f"Syntax error{near}: {description}."


def span(node: exp.Expression) -> tuple[int, int] | None:
    """Character range [start, end) covered by the positioned tokens inside ``node``."""
    start = end = None
    for child in node.walk():
        meta = child._meta  # read the attribute directly: the ``meta`` property would create empty dicts
        if meta and "start" in meta:
            start = meta["start"] if start is None else min(start, meta["start"])
            end = meta["end"] + 1 if end is None else max(end, meta["end"] + 1)
    return None if start is None else (start, end)
