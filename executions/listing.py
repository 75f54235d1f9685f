"""The executions list: filters, keyset pages and a capped count, so every page costs what the first one does.

Pages are keyset pages over (-created_at, -id): the cursor in the URL is the last (or first) row shown, and the
next page starts strictly after it, so a deep page reads 50 index entries instead of skipping OFFSET rows. The
total is counted only up to COUNT_CAP ("1,000+"): an exact COUNT(*) over a long history costs more than the page.
A first page that holds every match is its own count. The search is served by pg_trgm GIN indexes (migration
0006) on the two execution ids; the query name is matched on the user's workflows first, so the page query stays
on one table and the planner can OR the index scans. Its count adds up disjoint parts, each read from one index
(Filtered.parts): one scan with the OR would read and test every row up to the 1,001st match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import Q, QuerySet

from queries.models import Workflow
from recomamp.ownership import owned_by

from .forms import ExecutionFilterForm
from .list_rows import listed, shown_columns
from .models import Execution

PAGE_SIZE = 50
COUNT_CAP = 1000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    pk: int

    def encode(self) -> str:
        return f"{(self.created_at - EPOCH) // MICROSECOND}.{self.pk}"

    @classmethod
    def decode(cls, value: str | None) -> Cursor | None:
        """A cursor from the URL, or None when absent or malformed (a bad cursor shows the first page)."""
        micros, _, pk = (value or "").partition(".")
        if not (micros.isdigit() and pk.isdigit()) or len(micros) > 18 or len(pk) > 18:
            return None
        return cls(EPOCH + int(micros) * MICROSECOND, int(pk))

    @classmethod
    def of(cls, row) -> Cursor:
        """The cursor of a row: an Execution or a list_rows.ListedExecution."""
        return cls(row.created_at, row.pk)


@dataclass
class KeysetPage:
    rows: list
    count: int  # at most COUNT_CAP + 1
    older: str | None  # cursor of the next (older) page
    newer: str | None  # cursor of the previous (newer) page
    is_first: bool

    def __iter__(self):
        return iter(self.rows)

    @property
    def count_capped(self) -> bool:
        return self.count > COUNT_CAP

    @property
    def count_label(self) -> str:
        return f"{COUNT_CAP:,}+" if self.count_capped else f"{self.count:,}"

    @property
    def has_other_pages(self) -> bool:
        return bool(self.older or self.newer)


@dataclass
class Filtered:
    form: ExecutionFilterForm
    executions: QuerySet  # the user's executions matching every filter, unordered
    parts: list[QuerySet]  # disjoint querysets making up `executions`, each served by one index (for the count)


def filtered_executions(user, params) -> Filtered:
    """The form and the user's executions matching the filters of `params`."""
    form = ExecutionFilterForm(params, user=user)
    qs = owned_by(user, Execution)
    search = None
    if form.is_valid():
        data = form.cleaned_data
        if data["status"]:
            qs = qs.filter(status=data["status"])
        if data["trigger"]:
            qs = qs.filter(trigger=data["trigger"])
        if data["instance"]:
            qs = qs.filter(instance=data["instance"])
        if data["workflow"]:
            qs = qs.filter(workflow__workflow_id=data["workflow"])
        if data["created_from"]:
            qs = qs.filter(created_at__date__gte=data["created_from"])
        if data["created_to"]:
            qs = qs.filter(created_at__date__lte=data["created_to"])
        if data["q"]:
            search = _search(user, data["q"])
    if search is None:
        return Filtered(form, qs, [qs])
    by_id, by_name = search
    if by_name is None:
        qs = qs.filter(by_id)
        return Filtered(form, qs, [qs])
    # Disjoint: a run of a matching query whose id also matches is counted once, in the first part.
    parts = [qs.filter(by_name), qs.filter(by_id).exclude(by_name)]
    return Filtered(form, qs.filter(by_id | by_name), parts)


def _search(user, text: str) -> tuple[Q, Q | None]:
    """(matches on the execution's ids, on its query's name or None when no query's name matches)."""
    # The workflow names are matched first (a user has few workflows): an OR over a join would keep the
    # planner from combining the trigram index scans on the execution table.
    workflow_ids = list(owned_by(user, Workflow).filter(name__icontains=text).values_list("pk", flat=True))
    by_id = Q(execution_id__icontains=text) | Q(amc_execution_id__icontains=text)
    return by_id, (Q(workflow_id__in=workflow_ids) if workflow_ids else None)


def keyset_page(
    qs: QuerySet, *, older: str | None = None, newer: str | None = None, size: int = PAGE_SIZE, parts=None
) -> KeysetPage:
    """One page of `qs` newest first: after the `older` cursor, or before the `newer` one, or the first page.
    The rows are list_rows.ListedExecution, only what the list shows; `parts` are Filtered.parts."""
    after, before = Cursor.decode(older), Cursor.decode(newer)
    rows_qs = shown_columns(qs)
    if before and not after:
        # The page just above `before`: read upwards, then show it newest first.
        rows = listed(_newer_than(rows_qs, before).order_by("created_at", "pk")[: size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        has_older = True
        is_first = not more_newer
    else:
        if after:
            rows_qs = _older_than(rows_qs, after)
        rows = listed(rows_qs.order_by("-created_at", "-pk")[: size + 1])
        has_older = len(rows) > size
        rows = rows[:size]
        is_first = after is None
    if not rows and not is_first:  # a stale cursor past the end: show the first page instead
        return keyset_page(qs, size=size, parts=parts)
    return KeysetPage(
        rows=rows,
        count=len(rows) if is_first and not has_older else capped_count(parts or [qs]),
        older=Cursor.of(rows[-1]).encode() if rows and has_older else None,
        newer=Cursor.of(rows[0]).encode() if rows and not is_first else None,
        is_first=is_first,
    )


def capped_count(parts: list[QuerySet]) -> int:
    """The size of the union of disjoint `parts`, counted up to COUNT_CAP + 1 in one query."""
    capped = [part.order_by().values("pk")[: COUNT_CAP + 1] for part in parts]
    inner = capped[0].union(*capped[1:], all=True) if len(capped) > 1 else capped[0]
    # COUNT(*) around the compiled query: QuerySet.count() of a sliced query builds its own wrapper query, 0.15 ms
    # of Python, a quarter of the count.
    sql, params = inner.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) capped", params)  # Django's SQL, its params bound
        return min(cursor.fetchone()[0], COUNT_CAP + 1)


def _older_than(qs: QuerySet, cursor: Cursor) -> QuerySet:
    # The redundant `created_at__lte` bounds the index range scan; the OR breaks ties between equal times.
    return qs.filter(created_at__lte=cursor.created_at).filter(
        Q(created_at__lt=cursor.created_at) | Q(created_at=cursor.created_at, pk__lt=cursor.pk)
    )


def _newer_than(qs: QuerySet, cursor: Cursor) -> QuerySet:
    return qs.filter(created_at__gte=cursor.created_at).filter(
        Q(created_at__gt=cursor.created_at) | Q(created_at=cursor.created_at, pk__gt=cursor.pk)
    )
