"""SQL functions AMC accepts, for the editor's autocomplete: name, signature, one line on what it does, and
whether it aggregates. AMC SQL is Presto-like with its own additions (CUSTOM_PARAMETER, BUILT_IN_PARAMETER,
SECONDS_BETWEEN, EXTEND_TIME_WINDOW); the validator (queries/validation/rules.py) flags the ones AMC refuses,
such as GETDATE and NTILE, so they are not offered here.
"""

from __future__ import annotations

# (name, signature, description, aggregate)
_FUNCTIONS: tuple[tuple[str, str, str, bool], ...] = (
    ("COUNT", "COUNT(expr | DISTINCT expr | *)", "Rows, or distinct values; COUNT(DISTINCT user_id) for reach.", True),
    ("SUM", "SUM(number)", "Total of a metric.", True),
    ("AVG", "AVG(number)", "Average of a metric.", True),
    ("MIN", "MIN(value)", "Smallest value.", True),
    ("MAX", "MAX(value)", "Largest value.", True),
    ("STDDEV", "STDDEV(number)", "Sample standard deviation.", True),
    ("APPROX_PERCENTILE", "APPROX_PERCENTILE(number, fraction)", "Approximate percentile (0.5 is the median).", True),
    ("PERCENTILE", "PERCENTILE(number, fraction)", "Percentile of a metric.", True),
    ("COLLECT", "COLLECT(expr)", "Distinct values of a group as an array.", True),
    ("CUSTOM_PARAMETER", "CUSTOM_PARAMETER('name')", "A value AMC fills in at run time (parameterValues).", False),
    ("BUILT_IN_PARAMETER", "BUILT_IN_PARAMETER('TIME_WINDOW_START' | 'TIME_WINDOW_END')", "The run's window.", False),
    ("EXTEND_TIME_WINDOW", "EXTEND_TIME_WINDOW(table, days_before, days_after)", "Read past the window.", False),
    ("SECONDS_BETWEEN", "SECONDS_BETWEEN(start, end)", "Seconds from one timestamp to another.", False),
    ("DATE_TRUNC", "DATE_TRUNC('day' | 'week' | 'month' | …, timestamp)", "Truncate a timestamp.", False),
    ("EXTRACT", "EXTRACT(HOUR | DAY | DOW | … FROM timestamp)", "A part of a date or timestamp.", False),
    ("CURRENT_DATE", "CURRENT_DATE", "Today's date (UTC).", False),
    ("CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP", "Now (UTC); use instead of GETDATE().", False),
    ("CAST", "CAST(expr AS type)", "Convert a value to another type.", False),
    ("COALESCE", "COALESCE(value, fallback, …)", "The first value that is not NULL.", False),
    ("NULLIF", "NULLIF(a, b)", "NULL when a equals b (avoids division by zero).", False),
    ("IF", "IF(condition, then, else)", "A value by condition.", False),
    ("GREATEST", "GREATEST(a, b, …)", "Largest of the arguments.", False),
    ("LEAST", "LEAST(a, b, …)", "Smallest of the arguments.", False),
    ("ROUND", "ROUND(number, digits)", "Round to the given decimal places.", False),
    ("FLOOR", "FLOOR(number)", "Round down.", False),
    ("CEIL", "CEIL(number)", "Round up.", False),
    ("ABS", "ABS(number)", "Absolute value.", False),
    ("LOWER", "LOWER(text)", "Lower case.", False),
    ("UPPER", "UPPER(text)", "Upper case.", False),
    ("CONCAT", "CONCAT(text, …)", "Join texts.", False),
    ("SUBSTRING", "SUBSTRING(text, start, length)", "Part of a text.", False),
    ("REPLACE", "REPLACE(text, search, replacement)", "Replace occurrences in a text.", False),
    ("SPLIT_PART", "SPLIT_PART(text, delimiter, index)", "One field of a delimited text.", False),
    ("LENGTH", "LENGTH(text)", "Number of characters.", False),
    ("TRIM", "TRIM(text)", "Remove surrounding spaces.", False),
    ("ARRAY_CONTAINS", "ARRAY_CONTAINS(array, value)", "Whether an array holds a value.", False),
    ("ROW_NUMBER", "ROW_NUMBER() OVER (…)", "Position of a row in its window.", False),
    ("RANK", "RANK() OVER (…)", "Rank with gaps in its window.", False),
    ("DENSE_RANK", "DENSE_RANK() OVER (…)", "Rank without gaps in its window.", False),
    ("LAG", "LAG(expr, offset) OVER (…)", "Value of an earlier row in the window.", False),
    ("LEAD", "LEAD(expr, offset) OVER (…)", "Value of a later row in the window.", False),
)


def amc_functions() -> list[dict]:
    """The function list as the editor's hints endpoint returns it."""
    return [
        {"name": name, "signature": signature, "description": description, "aggregate": aggregate}
        for name, signature, description, aggregate in _FUNCTIONS
    ]
