"""AMC-style list paging: `limit` (1-100, default 100) and an opaque `nextToken`, absent on the last page.

Database lists page by key (the last row's ordering values, signed), so rows created between two page
requests never shift a page; in-memory lists page by signed offset.
"""

from datetime import datetime

from django.core import signing
from django.db.models import Q, QuerySet

from .responses import ApiError

MAX_LIMIT = 100
_SALT = "recomamp.sandbox.paging"


def limit_from(params) -> int:
    raw = params.get("limit") or ""
    if not raw:
        return MAX_LIMIT
    if not (raw.isdecimal() and len(raw) <= 6) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(400, f"limit must be an integer from 1 to {MAX_LIMIT}.")
    return int(raw)


def _load(token: str, kind: str):
    try:
        data = signing.loads(token, salt=f"{_SALT}.{kind}")
    except signing.BadSignature:
        raise ApiError(400, "The nextToken is not valid.")
    return data


def _dump(kind: str, value) -> str:
    return signing.dumps(value, salt=f"{_SALT}.{kind}", compress=True)


def page_queryset(
    queryset: QuerySet, fields: tuple[str, ...], params, *, kind: str, descending: bool = False
) -> tuple[list, str | None]:
    """One page of `queryset` ordered by `fields` (which together must be unique)."""
    limit = limit_from(params)
    order = [f"-{f}" if descending else f for f in fields]
    queryset = queryset.order_by(*order)
    token = params.get("nextToken") or ""  # clients send an empty nextToken on the first page
    if token:
        queryset = queryset.filter(_after(fields, _load(token, kind), descending))
    rows = list(queryset[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = [_plain(getattr(rows[-1], f)) for f in fields]
    return rows, _dump(kind, last)


def page_list(items: list, params, *, kind: str) -> tuple[list, str | None]:
    limit = limit_from(params)
    token = params.get("nextToken") or ""
    offset = _load(token, kind) if token else 0
    if not isinstance(offset, int) or offset < 0:
        raise ApiError(400, "The nextToken is not valid.")
    end = offset + limit
    return items[offset:end], (_dump(kind, end) if end < len(items) else None)


def _after(fields: tuple[str, ...], values: list, descending: bool) -> Q:
    """Rows strictly after `values` in the (field, ...) ordering."""
    if not isinstance(values, list) or len(values) != len(fields):
        raise ApiError(400, "The nextToken is not valid.")
    beyond = "lt" if descending else "gt"
    condition = Q()
    for index, field in enumerate(fields):
        equal_before = {fields[i]: values[i] for i in range(index)}
        condition |= Q(**equal_before, **{f"{field}__{beyond}": values[index]})
    return condition


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value
