"""What each row of the executions list shows (templates/executions/execution_list.html), worked out once in Python.

Fifty rows of model instances with their `select_related` rows, `{% url %}`, `|date` and `get_…_display` cost
several times the page query (bench/bench_executions_list.py). So the page query loads only the columns shown
(the two names by join, the window keys of the request body rather than the whole body, which carries the SQL)
as plain values, not model instances, and each row is written out in one str.format of escaped values
(ROW_HTML): the template engine, or format_html, takes 3 to 5 µs a value, 30 to 50 µs a row, more than the rest
of the row costs.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from html import escape
from urllib.parse import quote

from django.db.models import F, Func, JSONField, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import mark_safe

from recomamp.display import SENT_WINDOW_KEYS, window_sent, window_text

from .models import Execution

STATUS_LABELS = dict(Execution.Status.choices)
TRIGGER_LABELS = dict(Execution.Trigger.choices)
ADHOC_LABEL = "Ad hoc query"
URL_SAFE = RFC3986_SUBDELIMS + "/~:@"  # what reverse() leaves unquoted (django/urls/resolvers.py)
_PLACEHOLDER = "execution-id"


@dataclass(frozen=True, slots=True)
class ListedExecution:
    """An execution as the list loads it: what its row shows and the keyset cursor's (created_at, pk). The
    window fields are those window_text and window_sent read on an Execution."""

    pk: int
    execution_id: str
    status: str
    trigger: str
    created_at: datetime
    submitted_at: datetime | None
    time_window_type: str
    time_window_start: datetime | None
    time_window_end: datetime | None
    time_window_timezone: str
    query_name: str | None
    instance_name: str
    sent_window: dict | None  # the request body's SENT_WINDOW_KEYS, None for a key it lacks


class SentWindow(Func):
    """The request body's SENT_WINDOW_KEYS as one jsonb object, null for a key it lacks. Django's JSONObject of
    four key transforms takes 0.5 ms to compile, as long as the page query takes to run."""

    pairs = ", ".join(f"'{key}', %(expressions)s -> '{key}'" for key in SENT_WINDOW_KEYS)
    template = "jsonb_build_object(" + pairs + ")"
    output_field = JSONField()


def shown_columns(qs: QuerySet) -> QuerySet:
    """`qs` as the values of ListedExecution: only what the list shows."""
    derived = {
        "query_name": F("workflow__name"),
        "instance_name": F("instance__name"),
        "sent_window": SentWindow("request_body"),
    }
    own = [field.name for field in fields(ListedExecution) if field.name not in derived]
    return qs.values(*own, **derived)


def listed(values) -> list[ListedExecution]:
    return [ListedExecution(**row) for row in values]


# One <tr> of templates/executions/execution_list.html; list_rows escapes every value.
ROW_HTML = (
    '<tr><td><a href="{url}">{execution_id}</a></td><td>{query}</td><td>{instance}</td>\n'
    '      <td><span class="badge status-{status}">{status_label}</span></td><td>{trigger_label}</td>\n'
    '      <td><span title="Sent to AMC: {window_sent}">{window}</span></td><td>{created}</td></tr>'
)


def list_rows(executions: list[ListedExecution]) -> list[str]:
    """The list's rows as HTML, in the order given."""
    # html.escape is what django.utils.html.escape applies, without its lazy-string wrapper (every value is a str).
    return [
        mark_safe(ROW_HTML.format_map({key: escape(value) for key, value in values.items()}))  # noqa: S308
        for values in shown_values(executions)
    ]


def shown_values(executions: list[ListedExecution]) -> list[dict]:
    """What each row shows, as text."""
    detail_url = _detail_url_maker()
    # The active zone once: each lookup takes 5 µs, as long as the rest of a row's values.
    zone, zone_name = timezone.get_current_timezone(), timezone.get_current_timezone_name()
    return [_values(execution, detail_url, zone, zone_name) for execution in executions]


def _values(execution: ListedExecution, detail_url, zone, zone_name: str) -> dict:
    # SentWindow gives null for a key the body lacks; window_sent tells a missing key from a present one.
    body = {key: value for key, value in (execution.sent_window or {}).items() if value is not None}
    return {
        "execution_id": execution.execution_id,
        "url": detail_url(execution.execution_id),
        "query": execution.query_name or ADHOC_LABEL,
        "instance": execution.instance_name,
        "status": execution.status,
        "status_label": STATUS_LABELS.get(execution.status, execution.status),
        "trigger_label": TRIGGER_LABELS.get(execution.trigger, execution.trigger),
        "window": window_text(execution, zone_name),
        "window_sent": window_sent(execution, body),
        "created": f"{execution.created_at.astimezone(zone):%Y-%m-%d %H:%M}",
    }


def _detail_url_maker():
    """execution_id -> reverse("execution_detail", args=[execution_id]), with one reverse() per page."""
    prefix, _, suffix = reverse("execution_detail", args=[_PLACEHOLDER]).rpartition(_PLACEHOLDER)
    return lambda execution_id: f"{prefix}{quote(execution_id, safe=URL_SAFE)}{suffix}"
