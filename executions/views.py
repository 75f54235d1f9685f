from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.amazon import AmazonConnectionError
from queries.forms import normalize_newlines
from queries.models import Workflow
from queries.parameters import run_parameter_definitions
from recomamp.amc.errors import AMCError
from recomamp.bounds import beyond_retention, bounded_int
from recomamp.edge import bad_request
from recomamp.ownership import get_object_for_user, owned_by

from . import listing, services
from .forms import RunForm
from .list_rows import list_rows
from .models import Execution

HTMX_STOP_POLLING = 286  # htmx 2 stops an hx-trigger="every …" poll when it receives this status


def _execution(request, execution_id, *related):
    qs = Execution.objects.select_related("workflow", "instance__account", "query_version__workflow", *related)
    return get_object_for_user(request.user, qs, execution_id=execution_id)


@require_http_methods(["GET", "POST"])
def execution_run(request):
    """The run dialog, for a saved workflow (?workflow=wf_…) or SQL posted from the editor."""
    workflow_id = request.GET.get("workflow") or request.POST.get("workflow")
    workflow = get_object_for_user(request.user, Workflow, workflow_id=workflow_id) if workflow_id else None
    # From the editor of a saved query: the typed SQL, still that query's run (as on the editor's workbench).
    posted_sql = normalize_newlines(request.POST.get("sql", ""))
    sql = posted_sql or (workflow.sql if workflow else "")
    definitions = run_parameter_definitions(sql, workflow.parameter_definitions() if workflow else {})
    submitted = request.method == "POST" and "instance" in request.POST
    form = RunForm(request.POST if submitted else None, user=request.user, parameter_definitions=definitions)
    if not submitted and request.method == "POST":  # arriving from the editor: keep the typed values
        for _name, field in form.parameter_names:
            form.fields[field].initial = request.POST.get(field, form.fields[field].initial)
    if submitted and form.is_valid():
        try:
            execution = services.start_execution(
                owner=request.user,
                instance=form.cleaned_data["instance"],
                window=form.window(),
                workflow=workflow,
                sql=(posted_sql or None) if workflow else sql,
                parameters=form.parameters(),
                timeout_seconds=form.cleaned_data["timeout_minutes"] * 60,
                delivery=form.delivery(),
            )
        except services.ExecutionInputError as exc:
            field = f"param_{exc.parameter}"
            form.add_error(field if field in form.fields else None, str(exc))
        else:
            messages.success(request, f"Execution {execution.execution_id} queued.")
            explicit = form.cleaned_data["window_type"] == "EXPLICIT"
            if explicit and beyond_retention(form.cleaned_data["start_date"], date.today()):
                messages.warning(request, "AMC keeps about 13 months of data: the start of this window may be empty.")
            return redirect("execution_detail", execution_id=execution.execution_id)
    return render(request, "executions/run.html", {"form": form, "workflow": workflow, "sql": sql})


def execution_detail(request, execution_id):
    execution = _execution(request, execution_id)
    result = getattr(execution, "result", None)
    previous = None
    if result and execution.workflow_id:
        previous = (
            owned_by(request.user, Execution)
            .filter(
                workflow_id=execution.workflow_id,
                status=Execution.Status.SUCCEEDED,
                created_at__lt=execution.created_at,
            )
            .order_by("-created_at")
            .first()
        )
    context = {"execution": execution, "result": result, "previous": previous}
    return render(request, "executions/execution_detail.html", context)


def execution_status(request, execution_id):
    """The live status partial: polled every few seconds while active; 286 tells htmx to stop when done."""
    execution = _execution(request, execution_id)
    response = render(request, "executions/execution_detail.html#status", {"execution": execution})
    if not execution.is_active:
        response.status_code = HTMX_STOP_POLLING
        response["HX-Refresh"] = "true"  # reload once so the results section appears
    return response


@require_POST
def execution_cancel(request, execution_id):
    execution = _execution(request, execution_id, "owner")
    if not execution.is_active:
        messages.info(request, "This execution has already finished.")
    else:
        try:
            execution = services.cancel_execution(execution)
        except (AMCError, AmazonConnectionError) as exc:
            messages.error(request, f"Could not cancel: {exc}")
        else:
            if execution.status == execution.Status.SUBMITTING:
                messages.success(request, "Cancel requested: it is cancelled on AMC as soon as AMC accepts it.")
            else:
                messages.success(request, f"AMC reports the execution as {execution.get_status_display().lower()}.")
    return redirect("execution_detail", execution_id=execution.execution_id)


@require_POST
def execution_rerun(request, execution_id):
    execution = _execution(request, execution_id, "owner")
    try:
        new = services.rerun_execution(execution)
    except services.ExecutionInputError as exc:
        messages.error(request, f"Could not re-run: {exc}")
        return redirect("execution_detail", execution_id=execution.execution_id)
    messages.success(request, f"Re-running as {new.execution_id}.")
    return redirect("execution_detail", execution_id=new.execution_id)


def execution_list(request):
    filtered = listing.filtered_executions(request.user, request.GET)
    older, newer = request.GET.get("older"), request.GET.get("newer")
    page = listing.keyset_page(filtered.executions, older=older, newer=newer, parts=filtered.parts)
    query = request.GET.copy()
    for cursor in ("older", "newer", "page"):
        query.pop(cursor, None)
    context = {"form": filtered.form, "page": page, "rows": list_rows(page), "query": query.urlencode()}
    template = "executions/execution_list.html#results" if request.htmx else "executions/execution_list.html"
    return render(request, template, context)


def _result(request, execution_id):
    execution = _execution(request, execution_id)
    result = getattr(execution, "result", None)
    if result is None:
        raise Http404("This execution has no stored result.")
    return execution, result


PAGE_SIZES = (25, 50, 100, 200)


def execution_results(request, execution_id):
    from .results.reader import ResultReadError, read_page

    execution, result = _result(request, execution_id)
    sort = request.GET.get("sort") or None
    descending = request.GET.get("dir") == "desc"
    size = _int(request.GET.get("size"), 50)
    size = size if size in PAGE_SIZES else 50
    try:
        number = _int(request.GET.get("page"), 1)
        page = read_page(result, page=number, page_size=size, sort=sort, descending=descending)
    except ResultReadError as exc:
        return bad_request(request, str(exc))
    embed = request.GET.get("embed") == "1"  # inside the editor's workbench: swap the table only, keep the URL
    keep = {"size": size, **({"embed": 1} if embed else {})}
    sorted_by = {"sort": sort, "dir": "desc" if descending else "asc"} if sort else {}
    context = {
        "execution": execution, "result": result, "page": page, "sort": sort, "descending": descending,
        "embed": embed, "page_sizes": PAGE_SIZES, "size": size,
        "keep_sort": urlencode(keep), "keep_page": urlencode({**keep, **sorted_by}),
        "keep_size": urlencode({**({"embed": 1} if embed else {}), **sorted_by}),
    }  # fmt: skip
    template = "executions/results.html#table" if request.htmx else "executions/results.html"
    return render(request, template, context)


def execution_chart(request, execution_id):
    from .results import charts

    execution, result = _result(request, execution_id)
    default_x, default_y = charts.suggest_chart(result.columns)
    x = request.GET.get("x") or default_x
    metrics = [m for m in request.GET.getlist("y") if m] or ([default_y] if default_y else [])
    aggregation = request.GET.get("aggregation") or "sum"
    split = request.GET.get("split") or None
    spec, error = None, ""
    if x and (metrics or aggregation == "count"):
        try:
            chart = charts.chart_data(result, x, metrics, aggregation=aggregation, split=split)
            spec = chart.spec(request.GET.get("kind"), filename=f"{execution.execution_id}-chart")
        except charts.ChartError as exc:
            error = str(exc)
    context = {
        "execution": execution, "result": result, "x": x, "metrics": metrics, "split": split, "spec": spec,
        "aggregation": aggregation, "aggregations": charts.AGGREGATION_LABELS, "kind": request.GET.get("kind", ""),
        "numeric": charts.chartable_metrics(result.columns), "error": error,
        "table_rows": zip(spec["labels"], zip(*(s["values"] for s in spec["series"]), strict=True), strict=True)
        if spec else [],
        # inside another page (the editor's results pane) the chart's choices must not replace that page's URL
        "push_url": not request.htmx or request.path in (request.htmx.current_url_abs_path or ""),
    }  # fmt: skip
    template = "executions/chart.html#chart" if request.htmx else "executions/chart.html"
    return render(request, template, context)


def execution_download(request, execution_id, fmt):
    from .results import export

    execution, result = _result(request, execution_id)
    if fmt == "csv":
        response = StreamingHttpResponse(export.iter_csv(result), content_type="text/csv; charset=utf-8")
    elif fmt == "json":
        response = StreamingHttpResponse(export.iter_json(result), content_type="application/json")
    else:
        raise Http404("Unknown format")
    response["Content-Disposition"] = f'attachment; filename="{execution.execution_id}.{fmt}"'
    return response


def _int(value, default):
    return bounded_int(value, default)
