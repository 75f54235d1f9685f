"""Turn a parsed AMC query into DuckDB SQL.

The work happens on the sqlglot tree (read with sqlglot's default dialect, which accepts AMC's syntax):
parameters become literals, every AMC table read becomes a subquery restricted to the execution's time
window (on the table's event-time column, widened by EXTEND_TIME_WINDOW), and AMC functions DuckDB lacks
are rewritten from small DuckDB templates. sqlglot's DuckDB generator handles the rest (IF, NVL, casts...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlglot
from sqlglot import exp

from .schema import EVENT_TIME_COLUMNS, is_known_table
from .sqltree import base_table_name, cte_names, extend_time_window_call, function_name

_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$", re.IGNORECASE)

# AMC function -> DuckDB template; :a, :b, :c are the call's arguments in order.
FUNCTION_TEMPLATES = {
    "SECONDS_BETWEEN": "date_diff('second', CAST(:a AS TIMESTAMP), CAST(:b AS TIMESTAMP))",
    **{
        f"{unit}_BETWEEN": f"CAST(trunc(date_diff('second', CAST(:a AS TIMESTAMP), CAST(:b AS TIMESTAMP))"
        f" / {seconds}) AS BIGINT)"
        for unit, seconds in (("MINUTES", 60), ("HOURS", 3600), ("DAYS", 86400))
    },
    "CONVERT_TIME_ZONE_FROM_UTC": "timezone(:b, CAST(:a AS TIMESTAMPTZ))",
    "EPOCH_TO_UTC_TIMESTAMP": "CAST(to_timestamp(:a / 1000) AS TIMESTAMP)",
    "NVL2": "CASE WHEN :a IS NOT NULL THEN :b ELSE :c END",
    "CHARINDEX": "instr(:b, :a)",
    "REGEXP_SUBSTR": "regexp_extract(:a, :b)",
    "REGEXP_SPLIT": "regexp_split_to_array(:a, :b)",
    "ARRAY_CAT": "list_concat(:a, :b)",
    "ARRAY_UNION": "list_distinct(list_concat(:a, :b))",
    "ARRAY_INTERSECT": "list_intersect(:a, :b)",
    "ARRAY_COMPLEMENT": "list_filter(:a, amc_x -> NOT list_contains(:b, amc_x))",
    "ARRAY_REMOVE": "list_filter(:a, amc_x -> amc_x <> :b)",
    "EXPLODE": "unnest(:a)",
    "HASH64": "CAST(hash(:a) AS BIGINT)",
    "PERCENTILE": "quantile_cont(:a, :b)",
    "APPROX_PERCENTILE": "approx_quantile(:a, :b)",
    "E": "exp(1)",
    "UUID": "CAST(uuid() AS VARCHAR)",
    "FORMAT": "printf(:a, :b)",
}
_PLACEHOLDERS = ("a", "b", "c")


@dataclass(frozen=True)
class TimeWindow:
    """An execution window as AMC receives it: wall-clock start/end (end exclusive) in `timezone`."""

    start: datetime
    end: datetime
    timezone: str = "UTC"

    def _to_utc(self, moment: datetime) -> datetime:
        zone = ZoneInfo(self.timezone)
        return moment.replace(tzinfo=zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)

    @property
    def utc_start(self) -> datetime:
        return self._to_utc(self.start)

    @property
    def utc_end(self) -> datetime:
        return self._to_utc(self.end)


def parse_duration(text: str) -> timedelta | None:
    match = _DURATION.match(text.strip())
    if not match or not any(match.groups()):
        return None
    weeks, days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)


def translate(
    tree: exp.Expression, *, window: TimeWindow, parameters: Mapping[str, object] | None = None
) -> exp.Expression:
    """A DuckDB-ready copy of `tree` (which the rules have already accepted)."""
    tree = tree.copy()
    _bind_parameters(tree, window, parameters or {})
    _restrict_tables_to_window(tree, window)
    _rewrite_functions(tree)
    return tree


def to_duckdb_sql(tree: exp.Expression) -> str:
    return tree.sql(dialect="duckdb")


def value_expression(value: object) -> exp.Expression:
    """A SQL literal for a parameter value (lists become DuckDB lists)."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.Type.TIMESTAMP)
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    if isinstance(value, (list, tuple)):
        if not value:
            return sqlglot.parse_one("CAST([] AS VARCHAR[])", read="duckdb")
        return exp.Array(expressions=[value_expression(v) for v in value])
    return exp.Literal.string(str(value))


def _parameter_name(call: exp.Anonymous) -> str:
    return call.expressions[0].name


def _bind_parameters(tree: exp.Expression, window: TimeWindow, values: Mapping[str, object]) -> None:
    # `col IN (CUSTOM_PARAMETER('list'))` and `col IN CUSTOM_PARAMETER('list')` expand to the list items.
    for in_node in list(tree.find_all(exp.In)):
        candidates = in_node.expressions if len(in_node.expressions) == 1 else [in_node.args.get("field")]
        call = candidates[0] if candidates else None
        if function_name(call) == "CUSTOM_PARAMETER":
            value = values.get(_parameter_name(call))
            items = list(value) if isinstance(value, (list, tuple)) else [value]
            if not items:
                in_node.replace(exp.false())
            else:
                in_node.set("field", None)
                in_node.set("expressions", [value_expression(v) for v in items])
    builtins = {"TIME_WINDOW_START": window.start, "TIME_WINDOW_END": window.end}
    for call in list(tree.find_all(exp.Anonymous)):
        name = function_name(call)
        if name == "CUSTOM_PARAMETER":
            call.replace(value_expression(values.get(_parameter_name(call))))
        elif name == "BUILT_IN_PARAMETER":
            call.replace(value_expression(builtins[_parameter_name(call).upper()]))


def _window_subquery(name: str, alias: str, start: datetime, end: datetime) -> exp.Expression:
    column = EVENT_TIME_COLUMNS.get(name)
    sql = f"SELECT * FROM main.{name}"
    if column:
        sql += (
            f" WHERE {column} >= CAST('{start.isoformat(sep=' ')}' AS TIMESTAMP)"
            f" AND {column} < CAST('{end.isoformat(sep=' ')}' AS TIMESTAMP)"
        )
    return sqlglot.parse_one(sql, read="duckdb").subquery(alias)


def _restrict_tables_to_window(tree: exp.Expression, window: TimeWindow) -> None:
    ctes = cte_names(tree)
    for table in list(tree.find_all(exp.Table)):
        call = extend_time_window_call(table)
        start, end = window.utc_start, window.utc_end
        if call is not None:
            name, before, after = (arg.name for arg in call.expressions)
            name = name.lower()
            start, end = start - parse_duration(before), end + parse_duration(after)
        else:
            name = base_table_name(table, ctes)
            if name is None or not is_known_table(name):
                continue
        table.replace(_window_subquery(name, table.alias or name, start, end))


def _template(name: str, args: list[exp.Expression]) -> exp.Expression:
    template = sqlglot.parse_one(FUNCTION_TEMPLATES[name], read="duckdb")
    return exp.replace_placeholders(template, **dict(zip(_PLACEHOLDERS, args, strict=False)))


def _day_of_week_sunday_first(value: exp.Expression) -> exp.Expression:
    # AMC numbers days 1 (Sunday) to 7; DuckDB's dayofweek is 0 (Sunday) to 6.
    return exp.Paren(this=exp.Add(this=exp.DayOfWeek(this=value), expression=exp.Literal.number(1)))


def _rewrite_functions(tree: exp.Expression) -> None:
    # Innermost calls first, so a rewritten call already holds rewritten arguments.
    for node in reversed(list(tree.walk(bfs=False))):
        name = function_name(node)
        if name in FUNCTION_TEMPLATES:
            node.replace(_template(name, list(node.expressions)))
        elif name == "COLLECT":
            node.replace(exp.Anonymous(this="list", expressions=list(node.expressions)))
        elif name == "NAMED_ROW":
            args = node.expressions
            fields = [
                exp.PropertyEQ(this=exp.to_identifier(args[i].name), expression=args[i + 1])
                for i in range(0, len(args) - 1, 2)
            ]
            node.replace(exp.Struct(expressions=fields))
        elif name == "CONTAINED_IN" and node.expressions:
            node.replace(exp.In(this=node.expressions[0], expressions=list(node.expressions[1:])))
        elif isinstance(node, exp.DayOfWeek):
            node.replace(_day_of_week_sunday_first(node.this))
        elif isinstance(node, exp.Extract) and node.name.upper() in ("DOW", "DAYOFWEEK"):
            node.replace(_day_of_week_sunday_first(node.expression))
        elif isinstance(node, exp.Cast):
            _rewrite_cast(node)


def _rewrite_cast(cast: exp.Cast) -> None:
    target = cast.to
    if target.this == exp.DataType.Type.USERDEFINED and str(target.args.get("kind", "")).upper() == "SYMBOL":
        cast.set("to", exp.DataType.build("VARCHAR"))
    # AMC's way of asking for the current date and time.
    if isinstance(cast.this, exp.Literal) and cast.this.is_string:
        word = cast.this.name.lower()
        if word == "today" and target.this == exp.DataType.Type.DATE:
            cast.replace(exp.CurrentDate())
        elif word == "now" and target.this == exp.DataType.Type.TIMESTAMP:
            cast.replace(exp.cast(exp.CurrentTimestamp(), exp.DataType.Type.TIMESTAMP))
