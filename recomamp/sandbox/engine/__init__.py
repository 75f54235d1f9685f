"""The AMC sandbox engine: synthetic data (datagen), AMC SQL rules (rules), AMC-to-DuckDB translation
(translate) and query execution with the aggregation threshold (runner). No Django imports here."""

from .datagen import GenerationStats, generate
from .rules import CompileError, check
from .runner import ExecutionError, QueryResult, run_query, to_csv
from .translate import TimeWindow, translate

__all__ = [
    "CompileError",
    "ExecutionError",
    "GenerationStats",
    "QueryResult",
    "TimeWindow",
    "check",
    "generate",
    "run_query",
    "to_csv",
    "translate",
]
