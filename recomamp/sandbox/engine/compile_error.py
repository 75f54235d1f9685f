"""The error AMC reports for a query it will not compile."""

from __future__ import annotations

from .positions import Span


class CompileError(Exception):
    """A query AMC would refuse to compile, with the 1-based source range of the problem."""

    def __init__(
        self,
        message: str,
        line: int = 1,
        column: int = 1,
        end_line: int | None = None,
        end_column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.end_line = end_line if end_line is not None else line
        self.end_column = end_column if end_column is not None else column

    @classmethod
    def at(cls, message: str, span: Span | None) -> CompileError:
        span = span or Span(1, 1, 1, 1)
        return cls(message, span.line, span.column, span.end_line, span.end_column)

    def amc_text(self) -> str:
        return (
            f"From line {self.line}, column {self.column} to line {self.end_line}, "
            f"column {self.end_column}: {self.message}"
        )

    def __repr__(self) -> str:
        return f"CompileError({self.amc_text()!r})"
