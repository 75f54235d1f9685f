"""The functions AMC documents (amc-sql/functions.md), the only ones the sandbox runs.

DuckDB would run anything (`version()`, `current_setting(...)`, `read_csv(...)`); AMC rejects a function it
does not know at compile time, and so does the sandbox. Functions sqlglot parses into its own expression
types are recognised by parsing each documented name once, at import.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from .translate import FUNCTION_TEMPLATES

AMC_FUNCTIONS = frozenset(
    """
    CHARINDEX CONCAT FORMAT INSTR LEFT LENGTH LOCATE LOWER LTRIM POSITION REGEXP_REPLACE REGEXP_SUBSTR
    REGEXP_SPLIT REPLACE RIGHT RTRIM STRPOS STR_TO_MAP SUBSTRING TRIM UPPER
    ABS CEIL E EXP FLOOR LN LOG LOG10 POWER RANDOM ROUND SQRT TRUNC
    AVG COUNT MIN MAX SUM COLLECT
    STDDEV STDDEV_POP STDDEV_SAMP VARIANCE VAR_POP VAR_SAMP SKEWNESS PERCENTILE APPROX_PERCENTILE MEDIAN
    CONVERT_TIME_ZONE_FROM_UTC CURRENT_DATE CURRENT_TIMESTAMP DATE_TRUNC DAYOFMONTH DAYOFWEEK
    EPOCH_TO_UTC_TIMESTAMP EXTEND_TIME_WINDOW EXTRACT HOUR MINUTE MONTH SECOND WEEK YEAR SECONDS_BETWEEN
    CASE COALESCE IF IFNULL NULLIF NVL NVL2
    ARRAY_CAT ARRAY_CONTAINS ARRAY_COMPLEMENT ARRAY_DISTINCT ARRAY_INTERSECT ARRAY_REMOVE ARRAY_SORT
    ARRAY_TO_STRING ARRAY_UNION CARDINALITY EXPLODE FLATTEN
    RANK DENSE_RANK ROW_NUMBER GREATEST LEAST HASH64 MD5 SHA1 FROM_VARBINARY TO_VARBINARY
    JSON_EXTRACT JSON_SERIALIZE CAST NAMED_ROW CONTAINED_IN UUID BUILT_IN_PARAMETER CUSTOM_PARAMETER TABLE
    """.split()
) | frozenset(FUNCTION_TEMPLATES)

# Syntax rather than calls: operators, CASE, CAST, EXTRACT, ARRAY[...] literals, windows.
_SYNTAX = (exp.Connector, exp.Binary, exp.Unary, exp.Case, exp.Cast, exp.Extract, exp.Array, exp.Struct)


def _typed_classes() -> frozenset[type]:
    found: set[type] = set()
    for name in AMC_FUNCTIONS:
        for args in ("", "a", "a, b", "a, b, c", "'DAY', a"):
            try:
                tree = sqlglot.parse_one(f"SELECT {name}({args})")
            except SqlglotError:
                continue
            found.update(type(node) for node in tree.find_all(exp.Func) if not isinstance(node, exp.Anonymous))
    return frozenset(found)


_TYPED = _typed_classes()


def unknown_function(tree: exp.Expression) -> exp.Func | None:
    """The first call of a function AMC does not document, or None."""
    for node in tree.find_all(exp.Func):
        if isinstance(node, exp.Anonymous):
            if node.name.upper() not in AMC_FUNCTIONS:
                return node
        elif not isinstance(node, _SYNTAX) and type(node) not in _TYPED:
            return node
    return None


def function_label(node: exp.Func) -> str:
    return node.name.upper() if isinstance(node, exp.Anonymous) else node.sql_name()
