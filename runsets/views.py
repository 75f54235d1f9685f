import os

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from brands.forms import FanOutForm
from brands.models import Brand
from recomamp.edge import bad_request
from recomamp.ownership import get_object_for_user, owned_by

from . import combined, services
from .forms import ExtendForm, RunSetForm
from .models import RunSet

HTMX_STOP_POLLING = 286  # htmx stops an hx-trigger="every …" poll on this status


def _run_set(request, run_set_id):
    return get_object_for_user(request.user, RunSet.objects.select_related("workflow"), run_set_id=run_set_id)


def runset_list(request):
    run_sets = owned_by(request.user, RunSet).select_related("workflow")[:200]
    return render(request, "runsets/runset_list.html", {"run_sets": run_sets})


@require_http_methods(["GET", "POST"])
def runset_create(request):
    initial = {"workflow": request.GET.get("workflow")} if request.GET.get("workflow") else None
    form = RunSetForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            run_set = services.create_run_set(
                owner=request.user, workflow=data["workflow"], instances=list(data["instances"]),
                planned=data["windows"], name=data["name"], period=data["period"], n_days=data.get("n_days"),
                tz=data["timezone"], lag_days=data["lag_days"], parameters=data["parameters"], order=data["order"],
                max_in_flight=data["max_in_flight"], rate_per_minute=data.get("rate_per_minute"),
                snowflake_table=data.get("snowflake_table", ""), snowflake_schema=data.get("snowflake_schema", ""),
            )  # fmt: skip
        except services.RunSetError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Run set {run_set.run_set_id} started: {run_set.cells.count()} cells.")
            return redirect("runset_detail", run_set_id=run_set.run_set_id)
    return render(request, "runsets/runset_form.html", {"form": form})


@require_POST
def brand_fanout(request, brand_id):
    """Run on all of this brand's instances" (the form on the brand's page): one run set, one window."""
    brand = get_object_for_user(request.user, Brand, pk=brand_id)
    form = FanOutForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, "Choose a query and a valid period.")
        return redirect("brand_detail", brand_id=brand.pk)
    data = form.cleaned_data
    try:
        run_set = services.create_brand_fan_out(
            brand, workflow=data["workflow"], first_day=data["start_date"], last_day=data["end_date"],
            tz=request.user.timezone or "UTC",
        )  # fmt: skip
    except services.RunSetError as exc:
        messages.error(request, f"Nothing was queued: {exc}")
        return redirect("brand_detail", brand_id=brand.pk)
    count = run_set.cells.count()
    messages.success(request, f"Run set {run_set.run_set_id} started on {count} instance(s) of {brand.name}.")
    return redirect("runset_detail", run_set_id=run_set.run_set_id)


def _grid_context(run_set):
    instances, planned, cells = services.grid(run_set)
    rows = [(w, [cells.get((i.pk, w.first_day)) for i in instances]) for w in planned]
    return {"run_set": run_set, "instances": instances, "rows": rows, "progress": services.progress(run_set)}


def runset_detail(request, run_set_id):
    run_set = _run_set(request, run_set_id)
    context = _grid_context(run_set)
    context["extend_form"] = ExtendForm(user=request.user, initial={"timezone": run_set.timezone})
    context["dashboards"] = run_set.dashboards.all()
    context["dashboard_create_url"] = reverse("dashboard_create") + f"?run_set={run_set.run_set_id}"
    return render(request, "runsets/runset_detail.html", context)


def runset_grid(request, run_set_id):
    """The live grid partial, polled while cells are open; 286 stops the polling once nothing moves."""
    run_set = _run_set(request, run_set_id)
    response = render(request, "runsets/runset_detail.html#grid", _grid_context(run_set))
    if run_set.status != RunSet.Status.RUNNING and not run_set.cells.filter(status="submitted").exists():
        response.status_code = HTMX_STOP_POLLING
    return response


def _act(request, run_set_id, action, message):
    run_set = _run_set(request, run_set_id)
    outcome = action(run_set)
    messages.success(request, message.format(n=outcome))
    return redirect("runset_detail", run_set_id=run_set.run_set_id)


@require_POST
def runset_pause(request, run_set_id):
    return _act(request, run_set_id, services.pause, "Paused: running cells finish, no new ones start.")


@require_POST
def runset_resume(request, run_set_id):
    return _act(request, run_set_id, services.resume, "Resumed.")


@require_POST
def runset_cancel(request, run_set_id):
    return _act(
        request, run_set_id, services.cancel, "Cancelled ({n} waiting cells); running cells are cancelled on AMC."
    )


@require_POST
def runset_retry(request, run_set_id):
    return _act(request, run_set_id, services.retry_failed, "{n} failed cells will run again.")


@require_POST
def runset_extend(request, run_set_id):
    run_set = _run_set(request, run_set_id)
    form = ExtendForm(request.POST, user=request.user)
    if not form.is_valid():
        for error in form.non_field_errors() or [f"{k}: {v[0]}" for k, v in form.errors.items()]:
            messages.error(request, error)
        return redirect("runset_detail", run_set_id=run_set.run_set_id)
    try:
        added = services.extend(
            run_set, instances=list(form.cleaned_data["instances"]), planned=form.cleaned_data["windows"]
        )
    except services.RunSetError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{added} new cells added; existing cells are not run again.")
    return redirect("runset_detail", run_set_id=run_set.run_set_id)


def runset_results(request, run_set_id):
    run_set = _run_set(request, run_set_id)
    table = combined.combine(services.result_parts(run_set))
    sort = request.GET.get("sort") or None
    descending = request.GET.get("dir") == "desc"
    try:
        page = combined.read_page(table, page=_int(request.GET.get("page")), sort=sort, descending=descending)
    except combined.CombinedError as exc:
        return bad_request(request, str(exc))
    context = {"run_set": run_set, "table": table, "page": page, "sort": sort, "descending": descending}
    return render(request, "runsets/runset_results.html", context)


def runset_download(request, run_set_id, fmt):
    run_set = _run_set(request, run_set_id)
    if fmt not in combined.EXPORT_FORMATS:
        raise Http404("Unknown format")
    path = combined.export_file(combined.combine(services.result_parts(run_set)), fmt)
    handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    os.unlink(path)  # the open handle keeps the data until the response is sent
    response = FileResponse(handle, content_type=combined.EXPORT_FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{run_set.run_set_id}.{fmt}"'
    return response


def _int(value, default=1):
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return default
