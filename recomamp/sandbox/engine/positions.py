"""Source positions for error messages: 1-based line and column, end column inclusive (Calcite's style)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.tokens import Token, Tokenizer


@dataclass(frozen=True)
class Span:
    line: int
    column: int
    end_line: int
    end_column: int


def offset_to_line_col(sql: str, offset: int) -> tuple[int, int]:
    offset = max(0, min(offset, max(len(sql) - 1, 0)))
    line = sql.count("\n", 0, offset) + 1
    line_start = sql.rfind("\n", 0, offset) + 1
    return line, offset - line_start + 1


def span_of_offsets(sql: str, start: int, end: int) -> Span:
    """Span covering characters `start`..`end` (both inclusive)."""
    line, column = offset_to_line_col(sql, start)
    end_line, end_column = offset_to_line_col(sql, max(start, end))
    return Span(line, column, end_line, end_column)


def node_offsets(node: exp.Expression) -> tuple[int, int] | None:
    """The character range the parser recorded for `node` and its descendants (identifiers, literals,
    function names carry positions; other nodes do not)."""
    starts, ends = [], []
    for sub in node.walk():
        meta = sub.meta
        if "start" in meta and "end" in meta:
            starts.append(meta["start"])
            ends.append(meta["end"])
    if not starts:
        return None
    return min(starts), max(ends)


def node_span(sql: str, node: exp.Expression, *, through_paren: bool = False) -> Span | None:
    """Span of `node`; with `through_paren`, extended to the closing parenthesis (for function calls)."""
    offsets = node_offsets(node)
    if offsets is None:
        return None
    start, end = offsets
    if through_paren:
        close = _matching_close(sql, start)
        end = close if close is not None else end
    return span_of_offsets(sql, start, end)


def _matching_close(sql: str, start: int) -> int | None:
    depth = 0
    for token in tokens(sql):
        if token.start < start:
            continue
        if token.token_type.name == "L_PAREN":
            depth += 1
        elif token.token_type.name == "R_PAREN":
            depth -= 1
            if depth == 0:
                return token.end
    return None


def tokens(sql: str) -> list[Token]:
    return Tokenizer().tokenize(sql)


def token_span(sql: str, first: Token, last: Token | None = None) -> Span:
    return span_of_offsets(sql, first.start, (last or first).end)
