"""A side-by-side, line-based diff of two query versions (SQL and parameters), built with difflib.

Rows are plain data; the template escapes every piece of text, so nothing from a query reaches the page as HTML.
Changed line pairs also carry their changed character ranges, split into (text, changed) segments.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field

from .models import QueryVersion

CONTEXT_LINES = 3  # unchanged lines kept around each change; longer unchanged runs fold into one row


@dataclass(frozen=True)
class Side:
    number: int | None  # 1-based line number; None for the blank side of an added or removed line
    segments: list[tuple[str, bool]] = field(default_factory=list)  # (text, changed)


@dataclass(frozen=True)
class Row:
    kind: str  # equal / delete / insert / replace / fold
    left: Side
    right: Side
    folded: int = 0  # for kind "fold": how many unchanged lines are hidden


@dataclass(frozen=True)
class VersionDiff:
    sql: list[Row]
    parameters: list[Row]
    added: int
    removed: int

    @property
    def identical(self) -> bool:
        return self.added == 0 and self.removed == 0


def _line_pair(a: str, b: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    left, right = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if a[i1:i2]:
            left.append((a[i1:i2], tag != "equal"))
        if b[j1:j2]:
            right.append((b[j1:j2], tag != "equal"))
    return left, right


def diff_lines(old: list[str], new: list[str], *, context: int = CONTEXT_LINES) -> list[Row]:
    """Rows of a side-by-side diff; unchanged runs longer than the context around changes are folded."""
    rows: list[Row] = []
    opcodes = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            count = i2 - i1
            head = context if i1 > 0 else 0  # lines after the change before
            tail = context if i2 < len(old) else 0  # lines before the change after
            if len(opcodes) == 1 or count <= head + tail + 1:
                rows += [_equal(old, i1 + k, j1 + k) for k in range(count)]
            else:
                rows += [_equal(old, i1 + k, j1 + k) for k in range(head)]
                rows.append(Row("fold", Side(None), Side(None), folded=count - head - tail))
                rows += [_equal(old, i1 + k, j1 + k) for k in range(count - tail, count)]
            continue
        left, right = old[i1:i2], new[j1:j2]
        for index in range(max(len(left), len(right))):
            a = left[index] if index < len(left) else None
            b = right[index] if index < len(right) else None
            if a is not None and b is not None:
                segments_a, segments_b = _line_pair(a, b)
                rows.append(Row("replace", Side(i1 + index + 1, segments_a), Side(j1 + index + 1, segments_b)))
            elif a is not None:
                rows.append(Row("delete", Side(i1 + index + 1, [(a, True)]), Side(None)))
            else:
                rows.append(Row("insert", Side(None), Side(j1 + index + 1, [(b, True)])))
    return rows


def _equal(old: list[str], i: int, j: int) -> Row:
    return Row("equal", Side(i + 1, [(old[i], False)]), Side(j + 1, [(old[i], False)]))


def _parameter_lines(parameters: list) -> list[str]:
    return json.dumps(parameters, indent=2, sort_keys=True, ensure_ascii=False).splitlines()


def diff_versions(old: QueryVersion, new: QueryVersion) -> VersionDiff:
    sql = diff_lines(old.sql.splitlines(), new.sql.splitlines())
    parameters = diff_lines(_parameter_lines(old.parameters), _parameter_lines(new.parameters))
    changed = [row for row in sql + parameters if row.kind in ("delete", "insert", "replace")]
    added = sum(1 for row in changed if row.kind in ("insert", "replace"))
    removed = sum(1 for row in changed if row.kind in ("delete", "replace"))
    return VersionDiff(sql, parameters, added, removed)
