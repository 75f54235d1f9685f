"""Comparing two runs of the same query: row counts and per-metric totals side by side."""

from dataclasses import dataclass

from .models import Execution
from .results.export import iter_rows

NUMERIC_TYPES = ("integer", "decimal")


@dataclass(frozen=True)
class MetricDelta:
    name: str
    a: float
    b: float

    @property
    def change(self) -> float:
        return self.b - self.a

    @property
    def percent(self) -> float | None:
        return None if not self.a else (self.b - self.a) / abs(self.a) * 100


@dataclass(frozen=True)
class Comparison:
    rows_a: int | None
    rows_b: int | None
    metrics: list[MetricDelta]
    note: str = ""


def _totals(execution: Execution) -> tuple[int, dict[str, float]] | None:
    result = getattr(execution, "result", None)
    if result is None:
        return None
    numeric = [i for i, c in enumerate(result.columns) if c["type"] in NUMERIC_TYPES]
    totals = {result.columns[i]["name"]: 0.0 for i in numeric}
    for row in iter_rows(result):
        for i in numeric:
            if row[i] is not None:
                totals[result.columns[i]["name"]] += row[i]
    return result.row_count, totals


def compare_results(a: Execution, b: Execution) -> Comparison:
    first, second = _totals(a), _totals(b)
    if first is None or second is None:
        return Comparison(first and first[0], second and second[0], [], "Both executions need stored results.")
    shared = [name for name in first[1] if name in second[1]]
    note = "" if a.workflow_id == b.workflow_id else "These executions ran different queries."
    return Comparison(first[0], second[0], [MetricDelta(n, first[1][n], second[1][n]) for n in shared], note)
