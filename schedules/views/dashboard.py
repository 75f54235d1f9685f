"""The schedules dashboard (grid or list, filters in the URL) and its quick actions (POST only)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.shortcuts import render
from django.views.decorators.http import require_POST

from recomamp.ownership import owned_by

from .. import planning, saving, services
from ..filters import ScheduleFilterForm
from ..history import zone_of
from ..models import Schedule, ScheduleRun
from ..timing import ScheduleTimingError
from . import common
from .common import back_to, schedule_for

PAGE_SIZE = 24


def dashboard_schedules(user, form: ScheduleFilterForm) -> QuerySet:
    """The user's schedules with their latest run's status; a fixed number of queries whatever the count."""
    latest = ScheduleRun.objects.filter(schedule=OuterRef("pk")).order_by("-scheduled_for", "-pk")
    schedules = (
        owned_by(user, Schedule)
        .select_related("workflow", "instance")
        .annotate(
            last_status=Subquery(latest.values("status")[:1]),
            last_is_test=Subquery(latest.values("is_test")[:1]),
            last_slot=Subquery(latest.values("scheduled_for")[:1]),
        )
    )
    if not form.is_valid():
        return schedules.order_by("name", "pk")
    data = form.cleaned_data
    if data["q"]:
        q = data["q"].strip()
        schedules = schedules.filter(
            Q(name__icontains=q) | Q(schedule_id__icontains=q) | Q(workflow__name__icontains=q)
        )
    status_filters = {
        "active": Q(is_active=True),
        "paused": Q(is_active=False),
        "paused_by_failures": Q(is_active=False, paused_by_failures=True),
        "failing": Q(consecutive_failures__gt=0),
    }
    if data["status"]:
        schedules = schedules.filter(status_filters[data["status"]])
    if data["instance"]:
        schedules = schedules.filter(instance=data["instance"])
    return schedules.order_by("name", "pk")


def schedule_list(request):
    form = ScheduleFilterForm(request.GET, user=request.user)
    page = Paginator(dashboard_schedules(request.user, form), PAGE_SIZE).get_page(request.GET.get("page"))
    for schedule in page:
        schedule.summary = _summary(schedule)
        schedule.zone_name = zone_of(schedule).key
    view = request.GET.get("view") if request.GET.get("view") in ("grid", "list") else "list"
    query = request.GET.copy()
    query.pop("page", None)
    without_view = query.copy()
    without_view.pop("view", None)
    context = {
        "form": form,
        "page": page,
        "view": view,
        "query": query.urlencode(),
        "query_without_view": without_view.urlencode(),
        "here": request.get_full_path(),
        "now": common.current_time(),
    }
    template = "schedules/schedule_list.html#results" if request.htmx else "schedules/schedule_list.html"
    return render(request, template, context)


def _summary(schedule: Schedule) -> str:
    try:
        return planning.describe(schedule)
    except (ScheduleTimingError, ValueError):
        return "Timing needs attention: open the schedule to fix it."


@require_POST
def schedule_pause(request, schedule_id):
    schedule = schedule_for(request, schedule_id)
    if not schedule.is_active:
        messages.info(request, f"“{schedule.name}” is already paused.")
    else:
        saving.pause(schedule)
        messages.success(request, f"Paused “{schedule.name}”. No runs start until you resume it.")
    return back_to(request, schedule)


@require_POST
def schedule_resume(request, schedule_id):
    schedule = schedule_for(request, schedule_id)
    if schedule.is_active:
        messages.info(request, f"“{schedule.name}” is already active.")
        return back_to(request, schedule)
    saving.resume(schedule, now=common.current_time())
    if schedule.next_run_at:
        when = schedule.next_run_at.astimezone(zone_of(schedule)).strftime("%Y-%m-%d %H:%M %Z")
        messages.success(request, f"Resumed “{schedule.name}”. Next run: {when}. Missed slots are not replayed.")
    else:
        messages.warning(request, f"Resumed “{schedule.name}”, but it has no run left before its end date.")
    return back_to(request, schedule)


@require_POST
def schedule_run_now(request, schedule_id):
    schedule = schedule_for(request, schedule_id)
    run = services.run_now(schedule, now=common.current_time())
    messages.success(
        request,
        f"Test run started for “{schedule.name}” (slot {run.scheduled_for:%Y-%m-%d %H:%M} UTC). It is marked as a "
        "test: the schedule's next run, timing and counters do not change.",
    )
    return back_to(request, schedule)
