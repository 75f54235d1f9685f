import csv
import io
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from recomamp.ownership import get_object_for_user
from runsets import combined
from runsets.models import RunSet
from schedules.models import Schedule

from . import charts, data, sharing
from .forms import DashboardForm
from .models import Dashboard, ShareLink, Snapshot

BREAKDOWN_ROWS = 50


def _dashboard(request, dashboard_id):
    qs = Dashboard.objects.select_related("run_set", "schedule")
    return get_object_for_user(request.user, qs, dashboard_id=dashboard_id)


@require_http_methods(["GET", "POST"])
def dashboard_create(request):
    source = {}
    if request.GET.get("run_set"):
        source["run_set"] = get_object_for_user(request.user, RunSet, run_set_id=request.GET["run_set"])
    elif request.GET.get("schedule"):
        source["schedule"] = get_object_for_user(request.user, Schedule, schedule_id=request.GET["schedule"])
    else:
        raise Http404("Choose a run set or a schedule.")
    probe = Dashboard(owner=request.user, **source)
    metrics, dimensions = data.columns_of(combined.combine(data.parts_for(probe)))
    catalog = data.catalog_metric_names()
    initial = {
        "name": f"{(source.get('run_set') or source.get('schedule')).name} dashboard",
        "metrics": metrics[:3],
        "dimension": dimensions[0] if dimensions else "",
        "non_additive": [m for m in metrics if data.guess_kind(m, catalog) == data.NON_ADDITIVE],
        "down_is_good": [m for m in metrics if data.guess_down_is_good(m)],
    }
    form = DashboardForm(request.POST or None, metrics=metrics, dimensions=dimensions, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        dashboard = Dashboard.objects.create(
            owner=request.user, name=d["name"], metrics=d["metrics"], dimension=d["dimension"], split=d["split"],
            top_n=d["top_n"], kinds=form.kinds(), down_is_good=d["down_is_good"], **source,
        )  # fmt: skip
        return redirect("dashboard_detail", dashboard_id=dashboard.dashboard_id)
    return render(request, "dashboards/dashboard_form.html", {"form": form, "source": probe, "metrics": metrics})


def _filters(request) -> dict:
    def day(name):
        try:
            return date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            return None

    return {
        "instances": [v for v in request.GET.getlist("instance") if v],
        "values": [v for v in request.GET.getlist("value") if v],
        "start": day("from"),
        "end": day("to"),
    }


def _decorate(computed: dict) -> dict:
    """Add the SVGs (not stored in snapshots: they are drawn from the data)."""
    labels = computed["windows"]
    for metric in computed["metrics"]:
        series = [(s["name"], s["values"]) for s in metric["series"]] or [("total", metric["total"])]
        metric["svg"] = charts.series_svg(metric["name"], labels, series)
        metric["spark"] = charts.sparkline_svg(metric["kpi"].get("history", []))
        for row in metric["breakdown"]:
            row["spark"] = charts.sparkline_svg(row["history"], width=90, height=20)
    return computed


def dashboard_detail(request, dashboard_id):
    dashboard = _dashboard(request, dashboard_id)
    snapshot = None
    if request.GET.get("snapshot"):
        snapshot = dashboard.snapshots.filter(pk=_int(request.GET["snapshot"])).first()
    filters = _filters(request)
    computed = snapshot.data if snapshot else data.compute(dashboard, **filters)
    sort, descending = request.GET.get("sort", "current"), request.GET.get("dir", "desc") == "desc"
    for metric in computed["metrics"]:
        rows = data.sort_breakdown(metric["breakdown"], sort, descending)
        metric["breakdown_total"] = len(rows)
        metric["breakdown"] = rows[:BREAKDOWN_ROWS]  # the CSV export has them all
    context = {
        "dashboard": dashboard, "d": _decorate(computed), "filters": filters, "snapshot": snapshot, "sort": sort,
        "descending": descending, "snapshots": dashboard.snapshots.all()[:20], "breakdown_columns": _columns(computed),
        "query_without_sort": _query_without(request, "sort", "dir"),
        "links": [(link, request.build_absolute_uri(reverse("dashboard_shared", args=[sharing.token_for(link)])))
                  for link in dashboard.share_links.filter(revoked_at__isnull=True)],
    }  # fmt: skip
    return render(request, "dashboards/dashboard_detail.html", context)


def dashboard_breakdown_csv(request, dashboard_id):
    dashboard = _dashboard(request, dashboard_id)
    computed = data.compute(dashboard, **_filters(request))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["metric", computed["dimension"] or "value", "current", "previous", "delta", "delta_pct"])
    for metric in computed["metrics"]:
        for row in metric["breakdown"]:
            c = row["change"] or {}
            writer.writerow(
                [metric["name"], row["value"], row["current"], row["previous"], c.get("delta"), c.get("pct")]
            )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{dashboard.dashboard_id}-breakdown.csv"'
    return response


def dashboard_chart_svg(request, dashboard_id, index):
    dashboard = _dashboard(request, dashboard_id)
    computed = _decorate(data.compute(dashboard, **_filters(request)))
    if index >= len(computed["metrics"]):
        raise Http404("No such chart")
    response = HttpResponse(computed["metrics"][index]["svg"], content_type="image/svg+xml")
    response["Content-Disposition"] = f'attachment; filename="{dashboard.dashboard_id}-{index}.svg"'
    return response


@require_POST
def dashboard_snapshot(request, dashboard_id):
    dashboard = _dashboard(request, dashboard_id)
    snapshot = Snapshot.objects.create(dashboard=dashboard, data=data.compute(dashboard))
    messages.success(request, "Snapshot saved: a frozen copy of today's data.")
    return redirect(reverse("dashboard_detail", args=[dashboard.dashboard_id]) + f"?snapshot={snapshot.pk}")


@require_POST
def dashboard_share(request, dashboard_id):
    dashboard = _dashboard(request, dashboard_id)
    snapshot = dashboard.snapshots.filter(pk=_int(request.POST.get("snapshot"))).first()
    link = sharing.create_link(dashboard, days=_int(request.POST.get("days"), 7), snapshot=snapshot)
    url = request.build_absolute_uri(reverse("dashboard_shared", args=[sharing.token_for(link)]))
    messages.success(request, f"Read-only link (expires {link.expires_at:%Y-%m-%d}): {url}")
    return redirect("dashboard_detail", dashboard_id=dashboard.dashboard_id)


@require_POST
def dashboard_share_revoke(request, link_id):
    link = get_object_for_user(request.user, ShareLink.objects.select_related("dashboard"), pk=link_id)
    sharing.revoke(link)
    messages.success(request, "Link revoked.")
    return redirect("dashboard_detail", dashboard_id=link.dashboard.dashboard_id)


@login_not_required
def dashboard_shared(request, token):
    """The only anonymous page: one dashboard, read-only, nothing else reachable from it."""
    link = sharing.link_for_token(token)
    if link is None:
        raise Http404("This link is unknown, expired or revoked.")
    computed = link.snapshot.data if link.snapshot else data.compute(link.dashboard)
    for metric in computed["metrics"]:
        rows = data.sort_breakdown(metric["breakdown"], "current", True)
        metric["breakdown_total"], metric["breakdown"] = len(rows), rows[:BREAKDOWN_ROWS]
    context = {
        "dashboard": link.dashboard,
        "d": _decorate(computed),
        "link": link,
        "breakdown_columns": _columns(computed),
    }
    response = render(request, "dashboards/dashboard_shared.html", context)
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _query_without(request, *names) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    encoded = query.urlencode()
    return f"{encoded}&" if encoded else ""


def _columns(computed: dict) -> list[tuple[str, str]]:
    label = computed.get("dimension") or "value"
    return [("value", label), ("current", "Current"), ("previous", "Previous"), ("delta", "Change"), ("pct", "%")]


def _int(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
