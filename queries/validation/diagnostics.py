"""Diagnostics reported by the AMC SQL validator, and how offsets map to editor positions."""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]

ERROR: Severity = "error"
WARNING: Severity = "warning"
INFO: Severity = "info"


@dataclass(frozen=True)
class Diagnostic:
    """One finding, positioned for an editor.

    Lines and columns are 1-based. ``end_line``/``end_column`` point just past the last character of the
    offending text (an exclusive end, as CodeMirror and Monaco expect).
    """

    severity: Severity
    code: str
    message: str
    line: int
    column: int
    end_line: int
    end_column: int

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def sort_key(self) -> tuple:
        return (self.line, self.column, self.end_line, self.end_column, self.code)


class SourceMap:
    """Turns 0-based character offsets into 1-based (line, column) pairs."""

    def __init__(self, text: str):
        self.length = len(text)
        self._line_starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]

    def position(self, offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, self.length))
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def offset(self, line: int, column: int) -> int:
        line = max(1, min(line, len(self._line_starts)))
        return min(self._line_starts[line - 1] + max(column, 1) - 1, self.length)

    def diagnostic(self, severity: Severity, code: str, message: str, start: int, end: int) -> Diagnostic:
        """Build a diagnostic for the half-open character range [start, end)."""
        line, column = self.position(start)
        end_line, end_column = self.position(max(end, start + 1))
        return Diagnostic(severity, code, message, line, column, end_line, end_column)
