"""AMC's aggregation threshold: how many distinct users stand behind each output row, and what happens to
rows with too few.

Counting users: before translation, the query is rewritten so every SELECT that feeds the output carries
its users along in hidden columns:

- an aggregating SELECT (GROUP BY or aggregate functions) gets `COUNT(DISTINCT user) AS __amc_du`, where
  `user` is the user id of the rows it aggregates (from AMC tables, or from CTEs/subqueries that output
  `user_id` or pass it on hidden). When its inputs are already aggregated it gets `MAX(...)` of their
  counts instead, a lower bound of the true number;
- a non-aggregating SELECT passes the user id on (`__amc_uid`) and the counts of its inputs (`__amc_du`,
  the greatest when it joins several).

The final SELECT thereby yields a user count per row, which `apply_threshold` compares with the minimum.
Limits: SELECT DISTINCT without GROUP BY and CTEs with explicit column lists do not carry users on, and
rows built only from such inputs are never filtered; counts through joins of pre-aggregated inputs are lower
bounds, so the sandbox filters at least as much as a per-user count would.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Number

from sqlglot import exp

from .schema import column_names, is_known_table
from .sqltree import (
    base_table_name,
    cte_names,
    cte_queries,
    derived_sources,
    extend_time_window_call,
    final_selects,
    has_aggregate,
    is_aggregating,
    is_star,
    resolve_projection,
)

USER_COUNT = "__amc_du"
USER_ID = "__amc_uid"
HIDDEN_COLUMNS = frozenset({USER_COUNT, USER_ID})


@dataclass(frozen=True)
class Carries:
    """What a query's rows carry: the column holding a user id (if any) and whether they hold a count."""

    user_column: str | None = None
    user_count: bool = False


class _Rewriter:
    def __init__(self, tree: exp.Expression) -> None:
        self.ctes = cte_queries(tree)
        self.cte_names = cte_names(tree)
        self.done: dict[int, Carries] = {}

    def query(self, query: exp.Expression) -> Carries:
        if id(query) in self.done:
            return self.done[id(query)]
        if _has_column_list(query.parent):
            carries = Carries("user_id" if "user_id" in _listed_columns(query.parent) else None)
        elif isinstance(query, exp.SetOperation):
            carries = self._union(query)
        elif isinstance(query, exp.Subquery):
            carries = self.query(query.this)
        elif isinstance(query, exp.Select):
            carries = self._select(query)
        else:
            carries = Carries()
        self.done[id(query)] = carries
        return carries

    def _union(self, union: exp.SetOperation) -> Carries:
        branches = final_selects(union)
        found = [self.query(branch) for branch in branches]
        first_names = {p.alias_or_name.lower() for p in branches[0].expressions}
        needs_uid = any(c.user_column == USER_ID for c in found)
        needs_count = any(c.user_count for c in found)
        # Branches must line up column for column, so every branch gets the same hidden columns.
        for branch, carries in zip(branches, found, strict=True):
            if needs_uid and carries.user_column != USER_ID:
                branch.append("expressions", exp.alias_(exp.cast(exp.null(), "VARCHAR"), USER_ID))
            if needs_count and not carries.user_count:
                branch.append("expressions", exp.alias_(exp.cast(exp.null(), "BIGINT"), USER_COUNT))
            elif needs_count and needs_uid and carries.user_column != USER_ID:
                _move_to_end(branch, USER_COUNT)
        user_column = "user_id" if "user_id" in first_names else (USER_ID if needs_uid else None)
        return Carries(user_column, needs_count)

    def _select(self, select: exp.Select) -> Carries:
        user_refs, count_refs = [], []
        for alias, source in derived_sources(select, self.ctes).items():
            carries = self._source(source)
            if carries.user_column:
                user_refs.append(exp.column(carries.user_column, table=alias))
            if carries.user_count:
                count_refs.append(exp.column(USER_COUNT, table=alias))
        outputs = {p.alias_or_name.lower() for p in select.expressions}
        if any(is_star(p) for p in select.expressions):
            # A star already passes the inputs' hidden columns through.
            return Carries(USER_ID if user_refs else None, bool(count_refs))
        if is_aggregating(select):
            if user_refs:
                count = exp.Count(this=exp.Distinct(expressions=[_first_non_null(user_refs)]))
            elif count_refs:
                count = exp.Max(this=_greatest(count_refs))
            else:
                return Carries("user_id" if "user_id" in outputs else None)
            select.append("expressions", exp.alias_(count, USER_COUNT))
            return Carries("user_id" if "user_id" in outputs else None, True)
        if select.args.get("distinct"):
            return Carries("user_id" if "user_id" in outputs else None)
        user_column = "user_id" if "user_id" in outputs else None
        if user_refs and user_column is None:
            select.append("expressions", exp.alias_(_first_non_null(user_refs), USER_ID))
            user_column = USER_ID
        if count_refs:
            select.append("expressions", exp.alias_(_greatest(count_refs), USER_COUNT))
        return Carries(user_column, bool(count_refs))

    def _source(self, source: exp.Expression) -> Carries:
        if isinstance(source, exp.Table):
            call = extend_time_window_call(source)
            name = (
                call.expressions[0].name.lower()
                if call is not None
                else base_table_name(source, self.cte_names)
            )
            has_users = name is not None and is_known_table(name) and "user_id" in column_names(name)
            return Carries("user_id" if has_users else None)
        return self.query(source)


def _has_column_list(node: exp.Expression | None) -> bool:
    return bool(_listed_columns(node))


def _listed_columns(node: exp.Expression | None) -> set[str]:
    alias = node.args.get("alias") if node is not None else None
    return {c.name.lower() for c in alias.columns} if isinstance(alias, exp.TableAlias) else set()


def _first_non_null(columns: list[exp.Expression]) -> exp.Expression:
    return columns[0] if len(columns) == 1 else exp.Coalesce(this=columns[0], expressions=columns[1:])


def _greatest(columns: list[exp.Expression]) -> exp.Expression:
    if len(columns) == 1:
        return columns[0]
    # NULL inputs (e.g. the missing side of a LEFT JOIN) are skipped, not propagated.
    return exp.Greatest(this=columns[0], expressions=columns[1:], ignore_nulls=True)


def _move_to_end(select: exp.Select, alias: str) -> None:
    projections = list(select.expressions)
    moved = [p for p in projections if p.alias_or_name == alias]
    select.set("expressions", [p for p in projections if p.alias_or_name != alias] + moved)


def add_user_counts(tree: exp.Expression) -> exp.Expression:
    """A copy of `tree` whose output rows also carry the hidden user columns (see the module doc)."""
    tree = tree.copy()
    _Rewriter(tree).query(tree)
    return tree


def metric_flags(tree: exp.Expression) -> list[bool | None]:
    """Per output column of the (unrewritten) query: True for aggregated values (metrics), False for
    grouping values (dimensions), None when it cannot be told (star projections)."""
    select = final_selects(tree)[0]
    ctes = cte_queries(tree)
    if any(is_star(p) for p in select.expressions):
        return []
    return [_is_metric(p, select, ctes, 0) for p in select.expressions]


def _is_metric(projection: exp.Expression, select: exp.Select, ctes: dict, depth: int) -> bool:
    if has_aggregate(projection):
        return True
    if depth > 20:
        return False
    derived = {k: v for k, v in derived_sources(select, ctes).items() if not isinstance(v, exp.Table)}
    for column in projection.find_all(exp.Column):
        origin = resolve_projection(column, derived)
        inner = origin.find_ancestor(exp.Select) if origin is not None else None
        if inner is not None and _is_metric(origin, inner, ctes, depth + 1):
            return True
    return False


@dataclass
class ThresholdOutcome:
    columns: list[str]
    column_types: list[str]
    rows: list[tuple]
    filtered_count: int


def apply_threshold(
    columns: list[str],
    column_types: list[str],
    rows: list[tuple],
    *,
    metrics: list[bool | None],
    min_users: int,
    mode: str,
    flag_column: str = "filtered",
) -> ThresholdOutcome:
    """Remove the hidden columns and deal with rows whose user count is below `min_users`:
    `drop` removes them; `null_with_flag` blanks their dimensions, sums their metrics into one row and
    marks it in an added boolean column."""
    if mode not in ("drop", "null_with_flag"):
        raise ValueError(f"unknown filtered_rows mode {mode!r}")
    count_at = columns.index(USER_COUNT) if USER_COUNT in columns else None
    visible = [i for i, name in enumerate(columns) if name not in HIDDEN_COLUMNS]
    out_columns = [columns[i] for i in visible]
    out_types = [column_types[i] for i in visible]
    kept, below = [], []
    for row in rows:
        users = row[count_at] if count_at is not None else None
        values = tuple(row[i] for i in visible)
        (below if users is not None and users < min_users else kept).append(values)
    if mode == "drop":
        return ThresholdOutcome(out_columns, out_types, kept, len(below))

    is_metric = [
        metrics[i] if i < len(metrics) and metrics[i] is not None else _numeric(out_types[i])
        for i in range(len(out_columns))
    ]
    result = [(*values, False) for values in kept]
    if below:
        merged = []
        for i, metric in enumerate(is_metric):
            numbers = [r[i] for r in below if isinstance(r[i], Number)]
            merged.append(sum(numbers) if metric and numbers else None)
        result.append((*merged, True))
    return ThresholdOutcome(out_columns + [flag_column], out_types + ["BOOLEAN"], result, len(below))


def _numeric(amc_type: str) -> bool:
    return amc_type in ("LONG", "INTEGER", "DOUBLE", "FLOAT") or amc_type.startswith("DECIMAL")
