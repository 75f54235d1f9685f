"""Small helpers for asserting diagnostics and their positions."""


def position_of(sql: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based (line, column) of the n-th occurrence of ``needle`` in ``sql``."""
    index = -1
    for _ in range(occurrence):
        index = sql.index(needle, index + 1)
    line = sql.count("\n", 0, index) + 1
    column = index - (sql.rfind("\n", 0, index) + 1) + 1
    return line, column


def only(diagnostics, code: str):
    found = [d for d in diagnostics if d.code == code]
    assert len(found) == 1, f"expected one {code!r}, got {[(d.code, d.message) for d in diagnostics]}"
    return found[0]


def codes(diagnostics) -> list[str]:
    return [d.code for d in diagnostics]


def problems(diagnostics) -> list[tuple[str, str]]:
    """Errors and warnings (notes left out), for asserting a query is clean."""
    return [(d.code, d.message) for d in diagnostics if d.severity != "info"]


def assert_at(diagnostic, sql: str, needle: str, occurrence: int = 1) -> None:
    line, column = position_of(sql, needle, occurrence)
    assert (diagnostic.line, diagnostic.column) == (line, column), diagnostic
    end_line, end_column = position_of(sql, needle, occurrence)
    assert (diagnostic.end_line, diagnostic.end_column) >= (end_line, end_column + 1)
