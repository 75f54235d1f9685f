"""AMC-specific rules, applied to a parsed and resolved query.

Codes (errors unless noted):
  select-star               ``*`` or ``alias.*`` over an AMC table; allowed over CTEs and derived tables.
  limit, right-join         not supported by AMC.
  aggregation-required      the final SELECT reads event rows without aggregating (a final SELECT over
                            aggregated CTEs is fine). Skipped for audience queries (``*_for_audiences``).
  user-id-output            the final SELECT returns a VERY_HIGH/INTERNAL column, also after renaming in
                            CTEs; aggregates, rankings and conditions neutralise it. Skipped for audiences.
  literal-filter-sensitive  a HIGH/VERY_HIGH column compared with literals or CUSTOM_PARAMETER values.
  groupby-high-threshold    (warning) the final GROUP BY uses a HIGH/VERY_HIGH/INTERNAL column.
  no-time-window            (warning) conversions are joined to traffic tables that are not read through
                            EXTEND_TIME_WINDOW, so the attribution lookback before the window is lost.
                            This is the one place the facts make the time window matter inside SQL: AMC
                            applies the execution window to every table implicitly.
  short-time-window         (info) segment and video tables are documented to time out on long windows.
  multiple-segment-tables   (warning) more than one audience_segments_* table in one query.
  fixed-date-filter         (info) a date column compared with a date written into the SQL.
  medium-threshold-output   (info) a MEDIUM column in the final output: rows need 100 users.
  unsupported-function      GETDATE() (error), NTILE (warning: reported not to work).
  unknown-built-in-parameter (warning) BUILT_IN_PARAMETER other than TIME_WINDOW_START/END.
  ungrouped-column          a column neither grouped nor aggregated (grouping.py); AMC refuses it at compile.
Name checks (unknown-table, unknown-column, unknown-alias, ambiguous-column, extend-time-window) live in
scope.py; syntax and parameter checks in parsing.py and validator.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlglot import exp

from .catalog import AUDIENCE_SUFFIX, NEVER_OUTPUT, NO_LITERAL_FILTERS
from .diagnostics import ERROR, INFO, WARNING, Diagnostic, Severity, SourceMap
from .grouping import UNGROUPED_HINT, ungrouped_columns
from .parsing import TokenIndex, TokenType, span
from .relations import Frame, Resolution, has_aggregate, star_relations
from .scope import Resolver

_BUILT_IN_PARAMETERS = frozenset({"TIME_WINDOW_START", "TIME_WINDOW_END"})
_CONVERSION_TABLES = frozenset({"conversions", "conversions_with_relevance", "conversions_all"})
_TRAFFIC_TABLES = frozenset({"dsp_impressions", "dsp_clicks", "dsp_views", "sponsored_ads_traffic"})
# Documented time-out risk: keep windows short.
_HEAVY_TABLES = frozenset(
    {"dsp_impressions_by_matched_segments", "dsp_impressions_by_user_segments", "dsp_video_events_feed"}
)
_SEGMENT_TABLE_PREFIX = "audience_segments_"
_DATE_TYPES = frozenset({"DATE", "TIMESTAMP"})

_BINARY_COMPARISONS = (
    exp.EQ,
    exp.NEQ,
    exp.NullSafeEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Like,
    exp.ILike,
    exp.SimilarTo,
    exp.RegexpLike,
)


@dataclass
class RuleContext:
    sql: str  # the original text, placeholders included
    statement: exp.Expression
    resolution: Resolution
    resolver: Resolver
    tokens: TokenIndex
    source: SourceMap
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def is_audience_query(self) -> bool:
        """Rule-based audience queries read *_for_audiences tables and must return user_id."""
        return any(ref.name.endswith(AUDIENCE_SUFFIX) for ref in self.resolution.table_refs)

    def report(self, severity: Severity, code: str, message: str, start: int, end: int) -> None:
        self.diagnostics.append(self.source.diagnostic(severity, code, message, start, end))

    def report_node(self, severity: Severity, code: str, message: str, node: exp.Expression) -> None:
        start, end = span(node) or (0, 1)
        self.report(severity, code, message, start, end)


def check_select_star(ctx: RuleContext) -> None:
    for frame in ctx.resolution.frames:
        for item in frame.select.expressions:
            relations = star_relations(item, frame)
            if relations is not None and any(r is None or r.kind == "table" for r in relations):
                ctx.report_node(
                    ERROR,
                    "select-star",
                    "AMC does not allow SELECT * on its tables: list the columns you need.",
                    item,
                )


def check_limit(ctx: RuleContext) -> None:
    for limit in ctx.statement.find_all(exp.Limit):
        value = span(limit.expression) if limit.expression else None
        keyword = ctx.tokens.last_before(value[0], TokenType.LIMIT) if value else None
        if keyword is None:
            continue
        ctx.report(
            ERROR,
            "limit",
            "AMC does not support LIMIT. To keep the top rows, number them with ROW_NUMBER() or RANK() "
            "in a CTE and filter on that number in the outer query.",
            keyword.start,
            value[1],
        )


def check_right_join(ctx: RuleContext) -> None:
    for join in ctx.statement.find_all(exp.Join):
        if join.side.upper() != "RIGHT" or span(join.this) is None:
            continue
        table_start = span(join.this)[0]
        right = ctx.tokens.last_before(table_start, TokenType.RIGHT)
        keyword = ctx.tokens.last_before(table_start, TokenType.JOIN)
        if right and keyword:
            ctx.report(
                ERROR,
                "right-join",
                "AMC does not support RIGHT JOIN. Swap the two tables and use LEFT JOIN.",
                right.start,
                keyword.end + 1,
            )


def check_final_aggregation(ctx: RuleContext) -> None:
    if ctx.is_audience_query:
        return
    for frame in ctx.resolution.final_frames:
        sources = frame.sources.values()
        aggregated = has_aggregate(frame.select) or all(source.aggregated for source in sources)
        if aggregated or not any(source.reads_tables for source in sources):
            continue
        first_item = span(frame.select.expressions[0]) if frame.select.expressions else None
        keyword = ctx.tokens.last_before(first_item[0], TokenType.SELECT) if first_item else None
        start, end = (keyword.start, keyword.end + 1) if keyword else (0, 1)
        ctx.report(
            ERROR,
            "aggregation-required",
            "The final SELECT returns event-level rows, but AMC only returns aggregated results. "
            "Aggregate with GROUP BY and SUM(...) or COUNT(DISTINCT ...), or select from an aggregated CTE.",
            start,
            end,
        )


def check_final_outputs(ctx: RuleContext) -> None:
    """Never-output columns are errors; MEDIUM columns are worth a note (rows need 100 users)."""
    if ctx.is_audience_query:
        return
    for frame in ctx.resolution.final_frames:
        for item in frame.select.expressions:
            relations = star_relations(item, frame)
            if relations is not None:
                _check_star_outputs(ctx, item, relations)
                continue
            threshold, culprit = ctx.resolver.carried(item)
            if threshold in NEVER_OUTPUT:
                ctx.report_node(
                    ERROR,
                    "user-id-output",
                    f"{_describe(ctx, culprit, threshold)} is never returned by AMC. Use it inside the "
                    "query (joins, COUNT(DISTINCT ...)) but leave it out of the final SELECT.",
                    culprit,
                )
            elif threshold == "MEDIUM":
                ctx.report_node(
                    INFO,
                    "medium-threshold-output",
                    f"{_describe(ctx, culprit, threshold)}: AMC drops result rows with fewer than 100 "
                    "distinct users. A date or hour column keeps more rows than a full timestamp.",
                    culprit,
                )


def _check_star_outputs(ctx: RuleContext, item: exp.Expression, relations) -> None:
    for relation in relations:
        hidden = [
            name for name, lineage in (relation.columns or {}).items() if lineage.threshold in NEVER_OUTPUT
        ]
        if relation.kind != "table" and hidden:
            ctx.report_node(
                ERROR,
                "user-id-output",
                f"This * returns {', '.join(hidden)} from {relation.label}, which AMC never returns in "
                "results. List the columns you need instead.",
                item,
            )


def check_final_group_by(ctx: RuleContext) -> None:
    if ctx.is_audience_query:
        return
    for frame in ctx.resolution.final_frames:
        group = frame.select.args.get("group")
        for key in group.expressions if group else []:
            threshold, culprit = ctx.resolver.carried(_group_target(key, frame))
            if threshold not in NO_LITERAL_FILTERS | NEVER_OUTPUT:
                continue
            consequence = (
                "AMC drops result rows with fewer than 100 distinct users, so many rows may be missing"
                if threshold == "HIGH"
                else "that is one group per user or event, and AMC filters such rows out"
            )
            ctx.report_node(
                WARNING,
                "groupby-high-threshold",
                f"The final result is grouped by {_describe(ctx, culprit, threshold)}: {consequence}. "
                "Group by a coarser column.",
                key,
            )


def _group_target(key: exp.Expression, frame: Frame) -> exp.Expression:
    """GROUP BY 2 and GROUP BY alias stand for a select-list expression."""
    items = frame.select.expressions
    if isinstance(key, exp.Literal) and key.is_int and 0 < int(key.name) <= len(items):
        return items[int(key.name) - 1].unalias()
    if isinstance(key, exp.Column) and not key.table and key.name.lower() in frame.aliases:
        if not any(s.columns and key.name.lower() in s.columns for s in frame.sources.values()):
            return frame.aliases[key.name.lower()]
    return key


def check_literal_filters(ctx: RuleContext) -> None:
    for node, column_side, value_side in _comparisons(ctx.statement):
        threshold, culprit = ctx.resolver.carried(column_side)
        if threshold in NO_LITERAL_FILTERS and _is_fixed_value(value_side):
            ctx.report_node(
                ERROR,
                "literal-filter-sensitive",
                f"AMC rejects comparing {_describe(ctx, culprit, threshold)} with fixed values or "
                "parameters. Remove this filter, or filter on a less sensitive column.",
                node,
            )


def check_fixed_dates(ctx: RuleContext) -> None:
    """A hard-coded date narrows the execution window and goes stale when the workflow is scheduled."""
    for where in ctx.statement.find_all(exp.Where):
        for node, column_side, value_side in _comparisons(where):
            lineage = (
                ctx.resolution.lineage.get(id(column_side)) if isinstance(column_side, exp.Column) else None
            )
            if lineage and lineage.data_type in _DATE_TYPES and _is_typed_date(ctx, value_side):
                ctx.report_node(
                    INFO,
                    "fixed-date-filter",
                    "AMC already limits every table to the execution time window; this fixed date narrows "
                    "it and will not move when the workflow runs on a schedule. Prefer setting the window on "
                    "the execution, or compare with BUILT_IN_PARAMETER('TIME_WINDOW_START').",
                    node,
                )


def check_time_window(ctx: RuleContext) -> None:
    """Traffic joined to conversions needs the lookback before the window start."""
    refs = ctx.resolution.table_refs
    bases = {_base_name(ref.name) for ref in refs}
    if bases & _CONVERSION_TABLES:
        for ref in refs:
            if _base_name(ref.name) in _TRAFFIC_TABLES and not ref.extended:
                ctx.report_node(
                    WARNING,
                    "no-time-window",
                    f"Conversions are matched to earlier ad traffic here, but {ref.name} is read only "
                    "inside the execution window, so touchpoints before the window start are missed. Read it "
                    f"through TABLE(EXTEND_TIME_WINDOW('{ref.name}', 'P28D', 'P0D')) to cover the lookback.",
                    ref.node,
                )
    reported: set[str] = set()
    for ref in refs:
        base = _base_name(ref.name)
        if base in _HEAVY_TABLES and base not in reported:
            reported.add(base)
            ctx.report_node(
                INFO,
                "short-time-window",
                f"{ref.name} is very large: keep the execution time window short to avoid time-outs.",
                ref.node,
            )
    segment_tables = sorted({_base_name(r.name) for r in refs if r.name.startswith(_SEGMENT_TABLE_PREFIX)})
    if len(segment_tables) > 1:
        ctx.report_node(
            WARNING,
            "multiple-segment-tables",
            f"Query one audience segment table at a time ({', '.join(segment_tables)} are read together).",
            next(r.node for r in refs if r.name.startswith(_SEGMENT_TABLE_PREFIX)),
        )


def check_functions(ctx: RuleContext) -> None:
    for call in ctx.statement.find_all(exp.Anonymous):
        name = call.name.upper()
        if name == "GETDATE":
            ctx.report_node(
                ERROR,
                "unsupported-function",
                "AMC does not support GETDATE(); use CURRENT_TIMESTAMP or CAST('now' AS TIMESTAMP).",
                call,
            )
        elif name == "BUILT_IN_PARAMETER":
            argument = call.expressions[0] if call.expressions else None
            if argument is None or argument.name.upper() not in _BUILT_IN_PARAMETERS:
                ctx.report_node(
                    WARNING,
                    "unknown-built-in-parameter",
                    "BUILT_IN_PARAMETER takes 'TIME_WINDOW_START' or 'TIME_WINDOW_END'.",
                    call,
                )
    for ntile in ctx.statement.find_all(exp.Ntile):
        ctx.report_node(
            WARNING,
            "unsupported-function",
            "NTILE is reported not to work in AMC; build buckets with CASE over ROW_NUMBER() instead.",
            ntile,
        )


def check_grouping(ctx: RuleContext) -> None:
    for column in (c for select in ctx.statement.find_all(exp.Select) for c in ungrouped_columns(select)):
        message = f"{column.sql()} is neither in the GROUP BY nor inside an aggregate function; AMC refuses "
        ctx.report_node(ERROR, "ungrouped-column", message + UNGROUPED_HINT, column)


RULES: tuple[Callable[[RuleContext], None], ...] = (
    check_select_star, check_limit, check_right_join, check_final_aggregation, check_final_outputs,
    check_final_group_by, check_literal_filters, check_fixed_dates, check_time_window, check_functions, check_grouping,
)  # fmt: skip


def run_rules(ctx: RuleContext) -> list[Diagnostic]:
    for rule in RULES:
        rule(ctx)
    return ctx.diagnostics


def _comparisons(root: exp.Expression) -> Iterator[tuple[exp.Expression, exp.Expression, exp.Expression]]:
    """(comparison, side that may hold a column, side that may hold a fixed value) in every orientation."""
    for node in root.find_all(*_BINARY_COMPARISONS, exp.In, exp.Between, exp.ArrayContains):
        if isinstance(node, exp.In):
            if not node.args.get("query") and node.expressions:
                yield node, node.this, exp.Tuple(expressions=list(node.expressions))
        elif isinstance(node, exp.Between):
            yield node, node.this, exp.Tuple(expressions=[node.args["low"], node.args["high"]])
        elif isinstance(node, exp.ArrayContains):
            yield node, node.expression, node.this
        else:
            yield node, node.this, node.expression
            yield node, node.expression, node.this


def _is_fixed_value(node: exp.Expression) -> bool:
    """A literal, a custom parameter, or something built only from those (casts, lists, negation)."""
    if isinstance(node, exp.Literal):
        return True
    if isinstance(node, exp.Anonymous):
        return node.name.upper() == "CUSTOM_PARAMETER"
    if isinstance(node, (exp.Tuple, exp.Array, exp.Paren, exp.Neg, exp.Cast)):
        children = list(node.iter_expressions())
        return bool(children) and all(_is_fixed_value(c) for c in children if not isinstance(c, exp.DataType))
    return False


def _is_typed_date(ctx: RuleContext, node: exp.Expression) -> bool:
    """A date written into the SQL (placeholders and custom parameters are left alone)."""
    if isinstance(node, exp.Tuple):
        return any(_is_typed_date(ctx, item) for item in node.expressions)
    literal = node.this if isinstance(node, exp.Cast) else node
    if not (isinstance(literal, exp.Literal) and literal.is_string):
        return False
    position = span(literal)
    return position is not None and not ctx.sql.startswith("{{", position[0])


def _describe(ctx: RuleContext, column: exp.Column, threshold: str) -> str:
    """ "'uid' (from user_id, VERY_HIGH threshold)" or "'postal_code' (HIGH threshold)"."""
    origin = ctx.resolver.origin_of(column)
    source = f"from {origin}, " if origin and origin != column.name.lower() else ""
    return f"'{column.name}' ({source}{threshold} threshold)"


def _base_name(table: str) -> str:
    return table[: -len(AUDIENCE_SUFFIX)] if table.endswith(AUDIENCE_SUFFIX) else table
