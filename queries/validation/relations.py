"""What the validator knows about each relation and SELECT: columns, their lineage and visibility.

Every column reference gets a *lineage*: the strictest aggregation-threshold class it carries through
unaggregated, so that privacy rules also see ``user_id`` after it was renamed in a CTE.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from sqlglot import exp

from .catalog import stricter
from .diagnostics import Diagnostic

# Functions whose result no longer reveals the value of the column they read.
_NEUTRALISING = (
    exp.Count,
    exp.Sum,
    exp.Avg,
    exp.Stddev,
    exp.StddevPop,
    exp.StddevSamp,
    exp.Variance,
    exp.VariancePop,
    exp.Skewness,
    exp.ApproxDistinct,
    exp.Median,
    exp.Predicate,
    exp.Rank,
    exp.DenseRank,
    exp.RowNumber,
    exp.Ntile,
    exp.CumeDist,
    exp.PercentRank,
)
# AMC aggregates that sqlglot does not know and parses as anonymous functions.
_ANONYMOUS_AGGREGATES = frozenset({"COLLECT", "PERCENTILE", "APPROX_PERCENTILE"})


@dataclass(frozen=True)
class Lineage:
    threshold: str | None  # strictest threshold class passed through unaggregated; None when unknown
    data_type: str | None = None  # catalog type when a table column passes through unchanged
    origin: str | None = None  # the catalog column the threshold comes from, for messages


UNKNOWN = Lineage(None)


@dataclass
class Relation:
    """Something a FROM clause can read: a catalog table, a CTE or a derived table."""

    label: str  # how messages name it
    columns: dict[str, Lineage] | None  # None: unknown columns, accept any reference
    kind: Literal["table", "cte", "derived"]
    aggregated: bool  # rows are aggregated, or hold no user-level data
    reads_tables: bool


@dataclass
class Frame:
    """The names visible inside one SELECT."""

    select: exp.Select
    parent: Frame | None  # the enclosing SELECT for correlated subqueries
    sources: dict[str, Relation] = field(default_factory=dict)
    using: set[str] = field(default_factory=set)
    aliases: dict[str, exp.Expression] = field(default_factory=dict)


@dataclass(frozen=True)
class TableRef:
    name: str
    node: exp.Expression  # the positioned node naming the table
    extended: bool  # read through TABLE(EXTEND_TIME_WINDOW(...))


@dataclass
class Resolution:
    diagnostics: list[Diagnostic]
    frames: list[Frame]
    final_frames: list[Frame]
    table_refs: list[TableRef]
    lineage: dict[int, Lineage]  # id(column node) -> what it carries


def has_aggregate(select: exp.Select) -> bool:
    """True when the SELECT aggregates rows (GROUP BY, or an aggregate outside window functions)."""
    if select.args.get("group"):
        return True
    having = select.args.get("having")
    for item in select.expressions + ([having] if having else []):
        for node in item.walk(prune=lambda n: isinstance(n, (exp.Window, exp.Query))):
            if isinstance(node, exp.AggFunc):
                return True
            if isinstance(node, exp.Anonymous) and node.name.upper() in _ANONYMOUS_AGGREGATES:
                return True
    return False


def star_relations(expression: exp.Expression, frame: Frame) -> list[Relation | None] | None:
    """The relations a ``*`` or ``alias.*`` select item expands over; None when it is not a star."""
    if isinstance(expression, exp.Star):
        return list(frame.sources.values())
    if isinstance(expression, exp.Column) and isinstance(expression.this, exp.Star):
        return [frame.sources.get(expression.table.lower())]
    return None


def is_neutralised(column: exp.Column, root: exp.Expression) -> bool:
    """True when, within ``root``, the column only feeds an aggregate, a ranking or a condition."""
    child = column
    while child is not root and child.parent is not None:
        parent = child.parent
        if isinstance(parent, _NEUTRALISING):
            return True
        if isinstance(parent, exp.Window) and child.arg_key != "this":
            return True  # PARTITION BY / ORDER BY keys only shape the window
        child = parent
    return False


def find_source(qualifier: str, frame: Frame | None) -> Relation | None:
    while frame is not None:
        if qualifier in frame.sources:
            return frame.sources[qualifier]
        frame = frame.parent
    return None


def visible_column(name: str, frame: Frame) -> Relation | None:
    return next((r for r in frame.sources.values() if r.columns and name in r.columns), None)


def renamed(relation: Relation, alias: exp.TableAlias | None, label: str, kind: str) -> Relation:
    names = [identifier.name.lower() for identifier in (alias.columns if alias else [])]
    if not names:
        return replace(relation, label=label, kind=kind)
    lineages = list(relation.columns.values()) if relation.columns else []
    columns = {name: lineages[i] if i < len(lineages) else UNKNOWN for i, name in enumerate(names)}
    return replace(relation, label=label, kind=kind, columns=columns)


def combine(left: Relation, right: Relation) -> Relation:
    columns = None
    if left.columns is not None:
        right_lineages = list((right.columns or {}).values())
        right_lineages += [UNKNOWN] * (len(left.columns) - len(right_lineages))
        columns = {
            name: stricter_lineage(lineage, right_lineages[i])
            for i, (name, lineage) in enumerate(left.columns.items())
        }
    return Relation(
        "union",
        columns,
        "derived",
        aggregated=left.aggregated and right.aggregated,
        reads_tables=left.reads_tables or right.reads_tables,
    )


def stricter_lineage(first: Lineage, second: Lineage) -> Lineage:
    return first if stricter(first.threshold, second.threshold) == first.threshold else second


def final_selects(node: exp.Expression) -> list[exp.Select]:
    if isinstance(node, exp.Subquery):
        return final_selects(node.this)
    if isinstance(node, exp.SetOperation):
        return final_selects(node.left) + final_selects(node.right)
    return [node] if isinstance(node, exp.Select) else []
