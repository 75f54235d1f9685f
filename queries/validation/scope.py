"""Name resolution: what each SELECT can see (tables, CTEs, aliases) and what each column refers to.

Resolution walks the query once, checks every table and column name, and records each column's
lineage (see relations.py) for the privacy rules.
"""

from __future__ import annotations

import difflib
import re

from sqlglot import exp

from .catalog import Catalog, stricter
from .diagnostics import ERROR, WARNING, Diagnostic, SourceMap
from .parsing import span
from .relations import (
    UNKNOWN,
    Frame,
    Lineage,
    Relation,
    Resolution,
    TableRef,
    combine,
    final_selects,
    find_source,
    has_aggregate,
    is_neutralised,
    renamed,
    star_relations,
    stricter_lineage,
    visible_column,
)

_LEGACY_TABLES = {"display_clicks": "dsp_clicks", "sponsored_products_traffic": "sponsored_ads_traffic"}
_DURATION_IN_DAYS = re.compile(r"^P\d+D$", re.IGNORECASE)


class Resolver:
    def __init__(self, catalog: Catalog, source: SourceMap, sql: str):
        self.catalog = catalog
        self.source = source
        self.sql = sql
        self.diagnostics: list[Diagnostic] = []
        self.frames: list[Frame] = []
        self.table_refs: list[TableRef] = []
        self.lineage: dict[int, Lineage] = {}
        self._frame_of: dict[int, Frame] = {}
        self._table_columns: dict[str, dict[str, Lineage]] = {}

    def resolve(self, statement: exp.Expression) -> Resolution:
        self._query(statement, {}, None)
        finals = [self._frame_of[id(select)] for select in final_selects(statement)]
        return Resolution(self.diagnostics, self.frames, finals, self.table_refs, self.lineage)

    # -- queries -------------------------------------------------------------------------------------

    def _query(self, node: exp.Expression, ctes: dict[str, Relation], outer: Frame | None) -> Relation:
        if isinstance(node, exp.Subquery):
            return self._query(node.this, ctes, outer)
        if node.args.get("with_"):
            ctes = self._ctes(node.args["with_"], ctes)
        if isinstance(node, exp.Select):
            return self._select(node, ctes, outer)
        if isinstance(node, exp.SetOperation):
            left = self._query(node.left, ctes, outer)
            right = self._query(node.right, ctes, outer)
            return combine(left, right)
        if isinstance(node, exp.Values):
            return Relation("VALUES", None, "derived", aggregated=True, reads_tables=False)
        return Relation("query", None, "derived", aggregated=True, reads_tables=False)

    def _ctes(self, with_: exp.With, ctes: dict[str, Relation]) -> dict[str, Relation]:
        ctes = dict(ctes)
        for cte in with_.expressions:
            name = cte.alias.lower()
            relation = self._query(cte.this, ctes, None)
            ctes[name] = renamed(relation, cte.args.get("alias"), f"CTE '{name}'", "cte")
        return ctes

    def _select(self, select: exp.Select, ctes: dict[str, Relation], outer: Frame | None) -> Relation:
        frame = Frame(select, outer)
        frame.aliases = {e.alias.lower(): e.this for e in select.expressions if isinstance(e, exp.Alias)}
        joins = select.args.get("joins") or []
        from_ = select.args.get("from_")
        for source in ([from_.this] if from_ else []) + [join.this for join in joins]:
            alias, relation = self._source(source, ctes)
            frame.sources[alias] = relation
        for join in joins:
            frame.using.update(identifier.name.lower() for identifier in join.args.get("using") or [])
        self.frames.append(frame)
        self._frame_of[id(select)] = frame

        for key in ("expressions", "where", "group", "having", "qualify", "order", "windows"):
            alias_ok = key in ("group", "having", "qualify", "order")
            for item in _as_list(select.args.get(key)):
                self._walk(item, frame, ctes, alias_ok)
        for join in joins:
            if join.args.get("on"):
                self._walk(join.args["on"], frame, ctes, alias_ok=False)

        sources = list(frame.sources.values())
        return Relation(
            "subquery",
            self._output_columns(select, frame),
            "derived",
            aggregated=has_aggregate(select) or all(source.aggregated for source in sources),
            reads_tables=any(source.reads_tables for source in sources),
        )

    def _output_columns(self, select: exp.Select, frame: Frame) -> dict[str, Lineage] | None:
        columns: dict[str, Lineage] = {}
        for position, expression in enumerate(select.expressions):
            starred = star_relations(expression, frame)
            if starred is not None:
                for relation in starred:
                    if relation is None or relation.columns is None:
                        return None
                    columns.update(relation.columns)
            else:
                # An unnamed expression cannot be referenced, but keeps its place for `AS t (a, b)` renames.
                name = expression.alias_or_name.lower() or f"#{position + 1}"
                columns[name] = self.lineage_of(expression.unalias())
        return columns

    # -- sources -------------------------------------------------------------------------------------

    def _source(self, node: exp.Expression, ctes: dict[str, Relation]) -> tuple[str, Relation]:
        alias = node.alias.lower()
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Func):
            return self._table_function(node)
        if isinstance(node, exp.Table):
            name = node.name.lower()
            if not node.args.get("db") and name in ctes:
                return alias or name, ctes[name]
            return alias or name, self._base_table(name, node.this, extended=False)
        if isinstance(node, exp.Subquery):
            relation = self._query(node.this, ctes, None)
            return alias, renamed(relation, node.args.get("alias"), f"subquery '{alias}'", "derived")
        if isinstance(node, exp.Values):
            relation = Relation(f"VALUES '{alias}'", None, "derived", aggregated=True, reads_tables=False)
            return alias, renamed(relation, node.args.get("alias"), relation.label, "derived")
        return alias, Relation(alias or "source", None, "derived", aggregated=True, reads_tables=False)

    def _table_function(self, node: exp.Table) -> tuple[str, Relation]:
        call = next(
            (f for f in node.this.find_all(exp.Anonymous) if f.name.upper() == "EXTEND_TIME_WINDOW"), None
        )
        if call is None or not call.expressions or not call.expressions[0].is_string:
            relation = Relation("table function", None, "derived", aggregated=False, reads_tables=True)
            return node.alias.lower(), relation
        self._check_durations(call)
        table_literal = call.expressions[0]
        name = table_literal.name.lower()
        return (node.alias or name).lower(), self._base_table(name, table_literal, extended=True)

    def _check_durations(self, call: exp.Anonymous) -> None:
        durations = call.expressions[1:]
        if len(durations) != 2 or not all(d.is_string and _DURATION_IN_DAYS.match(d.name) for d in durations):
            self._report(
                WARNING,
                "extend-time-window",
                "EXTEND_TIME_WINDOW expects the table name and two durations in days, for example "
                "EXTEND_TIME_WINDOW('dsp_impressions', 'P28D', 'P0D').",
                call,
            )

    def _base_table(self, name: str, anchor: exp.Expression, extended: bool) -> Relation:
        position = span(anchor)
        if position and self.sql.startswith("{{", position[0]):
            # FROM {{table}}: the name is only known once the placeholder is filled in.
            return Relation(name, None, "table", aggregated=False, reads_tables=True)
        self.table_refs.append(TableRef(name, anchor, extended))
        columns = self._catalog_columns(name)
        if columns is None:
            self._report(ERROR, "unknown-table", self._unknown_table_message(name), anchor)
        return Relation(name, columns, "table", aggregated=False, reads_tables=True)

    def _catalog_columns(self, name: str) -> dict[str, Lineage] | None:
        if name not in self._table_columns:
            columns = self.catalog.columns(name)
            if columns is None:
                return None
            self._table_columns[name] = {
                column: Lineage(info.threshold, info.data_type.upper(), column)
                for column, info in columns.items()
            }
        return self._table_columns[name]

    def _unknown_table_message(self, name: str) -> str:
        if name in _LEGACY_TABLES:
            return f"'{name}' is a legacy table name; use {_LEGACY_TABLES[name]} instead."
        return f"Unknown table '{name}'." + _suggestion(name, self.catalog.table_names())

    # -- columns -------------------------------------------------------------------------------------

    def _walk(self, node: exp.Expression, frame: Frame, ctes: dict[str, Relation], alias_ok: bool) -> None:
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, exp.Column):
                self._column(current, frame, alias_ok)
            elif isinstance(current, exp.Query):  # scalar, IN and EXISTS subqueries may read outer columns
                self._query(current, ctes, frame)
            else:
                stack.extend(current.iter_expressions())

    def _column(self, column: exp.Column, frame: Frame, alias_ok: bool) -> None:
        qualifier = column.table.lower()
        if isinstance(column.this, exp.Star):
            if find_source(qualifier, frame) is None:
                self._report_unknown_alias(column)
            return
        name = column.name.lower()
        if qualifier:
            self._qualified_column(column, name, qualifier, frame)
        else:
            self._unqualified_column(column, name, frame, alias_ok)

    def _qualified_column(self, column: exp.Column, name: str, qualifier: str, frame: Frame) -> None:
        relation = find_source(qualifier, frame)
        if relation is None:
            # `a.b` can also read field b of a struct column a.
            if visible_column(qualifier, frame) is None:
                self._report_unknown_alias(column)
            return
        if relation.columns is None:
            self.lineage[id(column)] = UNKNOWN
        elif name in relation.columns:
            self.lineage[id(column)] = relation.columns[name]
        else:
            message = f"Column '{name}' is not in {relation.label}." + _suggestion(name, relation.columns)
            self._report(ERROR, "unknown-column", message, column.this)

    def _unqualified_column(self, column: exp.Column, name: str, frame: Frame, alias_ok: bool) -> None:
        scope: Frame | None = frame
        while scope is not None:
            matches = [r for r in scope.sources.values() if r.columns is not None and name in r.columns]
            has_unknown = any(r.columns is None for r in scope.sources.values())
            if matches:
                if len(matches) > 1 and not has_unknown and name not in scope.using:
                    labels = " and ".join(r.label for r in matches)
                    message = f"Column '{name}' exists in both {labels}; qualify it with a table alias."
                    self._report(ERROR, "ambiguous-column", message, column)
                lineage = matches[0].columns[name]
                for relation in matches[1:]:
                    lineage = stricter_lineage(lineage, relation.columns[name])
                self.lineage[id(column)] = lineage
                return
            if has_unknown or (scope is frame and alias_ok and name in frame.aliases):
                return
            scope = scope.parent
        self._report(ERROR, "unknown-column", self._unknown_column_message(name, frame), column)

    def _unknown_column_message(self, name: str, frame: Frame) -> str:
        if name in frame.aliases:
            return (
                f"'{name}' is a name given in this SELECT list; AMC cannot use it in this clause. "
                "Repeat the expression instead."
            )
        sources = list(frame.sources.values())
        if not sources:
            return f"Unknown column '{name}': this SELECT has no FROM clause."
        where = sources[0].label if len(sources) == 1 else "any of " + ", ".join(s.label for s in sources)
        known = [column for s in sources for column in (s.columns or {})]
        return f"Column '{name}' is not in {where}." + _suggestion(name, known)

    def _report_unknown_alias(self, column: exp.Column) -> None:
        qualifier = column.table
        message = f"'{qualifier}' is not a table, CTE or alias available here."
        self._report(ERROR, "unknown-alias", message, column.args["table"])

    # -- lineage -------------------------------------------------------------------------------------

    def lineage_of(self, expression: exp.Expression) -> Lineage:
        """What an expression carries into its output."""
        if isinstance(expression, exp.Column):
            return self.lineage.get(id(expression), UNKNOWN)
        threshold, culprit = self.carried(expression)
        return Lineage(threshold, origin=self.origin_of(culprit))

    def origin_of(self, column: exp.Column | None) -> str | None:
        """The catalog column behind a reference, e.g. 'user_id' behind a CTE column named 'uid'."""
        if column is None:
            return None
        return self.lineage.get(id(column), UNKNOWN).origin or column.name

    def carried(self, expression: exp.Expression) -> tuple[str | None, exp.Column | None]:
        """The strictest threshold passed through unaggregated, and the column reference carrying it."""
        worst: str | None = None
        culprit: exp.Column | None = None
        for column in expression.find_all(exp.Column):
            threshold = self.lineage.get(id(column), UNKNOWN).threshold
            if threshold is None or is_neutralised(column, expression):
                continue
            if culprit is None or stricter(worst, threshold) != worst:
                worst, culprit = threshold, column
        return worst, culprit

    def _report(self, severity, code: str, message: str, node: exp.Expression) -> None:
        start, end = span(node) or (0, 1)
        self.diagnostics.append(self.source.diagnostic(severity, code, message, start, end))


def _suggestion(name: str, candidates) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return f" Did you mean '{close[0]}'?" if close else ""


def _as_list(value) -> list[exp.Expression]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, (exp.Group, exp.Order)):
        return list(value.expressions)
    return [value]
