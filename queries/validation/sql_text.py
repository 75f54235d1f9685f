"""Light lexical scan of SQL text: comments, string literals and parameter references.

Both the validator and the parameter helpers need to find ``{{name}}`` placeholders and
``CUSTOM_PARAMETER('name')`` calls without being fooled by comments or quotes, and without a full parse
(the text may not parse yet while the analyst is typing).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

_LEXER = re.compile(
    r"""
    (?P<line_comment>--[^\n]*)
    | (?P<block_comment>/\*.*?(?:\*/|\Z))
    | (?P<string>'(?:[^']|'')*(?:'|\Z))
    | (?P<quoted_identifier>"(?:[^"]|"")*(?:"|\Z))
    | (?P<placeholder>\{\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\})
    | (?P<custom>\bCUSTOM_PARAMETER\s*\(\s*'(?P<custom_name>(?:[^']|'')*)'\s*\))
    """,
    re.VERBOSE | re.DOTALL | re.IGNORECASE,
)
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclass(frozen=True)
class ParameterOccurrence:
    """One reference to a parameter; ``start``/``end`` are character offsets (end exclusive)."""

    name: str
    syntax: Literal["custom", "placeholder"]
    start: int
    end: int
    in_string: bool = False


@dataclass(frozen=True)
class Unclosed:
    """A string, quoted name or block comment that runs to the end of the text."""

    kind: Literal["string", "quoted name", "comment"]
    start: int


@dataclass(frozen=True)
class TextScan:
    occurrences: tuple[ParameterOccurrence, ...]
    unclosed: Unclosed | None


@functools.lru_cache(maxsize=256)  # a pure function of the text, called several times per run of the same SQL
def scan(sql: str) -> TextScan:
    """Find every parameter reference outside comments (placeholders inside string literals count)."""
    found: list[ParameterOccurrence] = []
    unclosed: Unclosed | None = None
    for match in _LEXER.finditer(sql):
        kind = match.lastgroup
        if kind == "placeholder":
            name = _PLACEHOLDER.fullmatch(match.group()).group(1)
            found.append(ParameterOccurrence(name, "placeholder", match.start(), match.end()))
        elif kind == "custom":
            name = match.group("custom_name").replace("''", "'")
            found.append(ParameterOccurrence(name, "custom", match.start(), match.end()))
        elif kind == "block_comment" and not match.group().endswith("*/"):
            unclosed = Unclosed("comment", match.start())
        elif kind == "quoted_identifier" and _runs_to_end(match.group(), '"'):
            unclosed = Unclosed("quoted name", match.start())
        elif kind == "string":
            text = match.group()
            if _runs_to_end(text, "'"):
                unclosed = Unclosed("string", match.start())
            for inner in _PLACEHOLDER.finditer(text):
                found.append(
                    ParameterOccurrence(
                        inner.group(1),
                        "placeholder",
                        match.start() + inner.start(),
                        match.start() + inner.end(),
                        in_string=True,
                    )
                )
    return TextScan(tuple(found), unclosed)


def _runs_to_end(quoted: str, quote: str) -> bool:
    # Inside the quotes a quote character is doubled, so a closed literal ends with an odd run of them.
    body = quoted[1:]
    trailing = len(body) - len(body.rstrip(quote))
    return trailing % 2 == 0


def mask_placeholders(sql: str, occurrences: tuple[ParameterOccurrence, ...]) -> str:
    """Replace ``{{name}}`` outside strings by a string literal of the same length.

    Keeping the length means every offset the parser reports is also an offset into the original text.
    A literal is the usual meaning of a placeholder (a date, a number, a list of ids).
    """
    pieces: list[str] = []
    cursor = 0
    for occurrence in occurrences:
        if occurrence.syntax != "placeholder" or occurrence.in_string:
            continue
        inner = sql[occurrence.start + 2 : occurrence.end - 2]
        pieces.append(sql[cursor : occurrence.start])
        pieces.append("'_" + inner + "_'")
        cursor = occurrence.end
    pieces.append(sql[cursor:])
    return "".join(pieces)
