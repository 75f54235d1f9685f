"""A schedule's page: summary, missed-run alerts, timeline, and its history (metrics, charts, runs, exports).

The history filters (status, real/test, dates, page) live in the query string; with htmx only the history
section is swapped, and the export links carry the same filters.
"""

from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from .. import charts, history, planning
from ..filters import RunFilterForm
from ..forms import WINDOW_CHOICES
from ..timing import ScheduleTimingError
from ..windows import WindowKind
from . import common
from .common import schedule_for

RUNS_PER_PAGE = 25
EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def schedule_detail(request, schedule_id):
    schedule = schedule_for(request, schedule_id)
    filters = RunFilterForm(request.GET)
    runs = history.filtered_runs(schedule, **filters.filters())
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    for run in page:
        run.window_view = history.run_window(run)
        run.duration_label = history.format_duration(run.execution.duration) if run.execution else "—"
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "schedule": schedule,
        "filters": filters,
        "page": page,
        "query": query.urlencode(),
        "metrics": history.run_metrics(runs),
        # Built by history's SVG helpers, which escape every piece of text they place.
        "runs_chart": mark_safe(charts.runs_chart_svg(history.daily_counts(runs, schedule))),  # noqa: S308
        "durations_chart": mark_safe(charts.durations_chart_svg(history.daily_durations(runs, schedule))),  # noqa: S308
        "zone_name": history.zone_of(schedule).key,
    }
    if request.htmx and request.htmx.target == "schedule-history":
        return render(request, "schedules/schedule_detail.html#history", context)
    now = common.current_time()
    gaps = history.missed_slots(schedule, now)
    context.update(
        summary=_describe(schedule),
        window_label=window_label(schedule),
        now=now,
        alerts=history.missed_run_alerts(schedule, now, gaps),
        timeline=history.timeline(schedule, now, missed=gaps),
        here=request.get_full_path(),
    )
    return render(request, "schedules/schedule_detail.html", context)


def window_label(schedule) -> str:
    try:
        rule = planning.window_rule_for(schedule)
    except ScheduleTimingError as exc:  # a rule edited outside the wizard: say what is wrong with it
        return f"Invalid date window: {exc.message}"
    label = dict(WINDOW_CHOICES).get(rule.kind, rule.kind)
    if rule.kind is WindowKind.LAST_N_DAYS:
        label = f"Last {rule.n_days} days"
    elif rule.kind is WindowKind.FIXED:
        label = f"Fixed: {rule.fixed_start} → {rule.fixed_end}"
    return f"{label}, {rule.lag_days} day(s) of data lag"


def _describe(schedule) -> str:
    try:
        return planning.describe(schedule)
    except (ScheduleTimingError, ValueError):
        return "The stored timing is not valid any more; edit the schedule to fix it."


def schedule_export(request, schedule_id):
    """The filtered runs as CSV or JSON (`?format=csv|json`), streamed."""
    schedule = schedule_for(request, schedule_id)
    fmt = request.GET.get("format", "csv")
    if fmt not in EXPORT_TYPES:
        raise Http404("Unknown export format")
    filters = RunFilterForm(request.GET)
    runs = history.filtered_runs(schedule, **filters.filters())
    rows = history.iter_csv if fmt == "csv" else history.iter_json
    response = StreamingHttpResponse(rows(runs, schedule.schedule_id), content_type=EXPORT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{schedule.schedule_id}-runs.{fmt}"'
    return response
