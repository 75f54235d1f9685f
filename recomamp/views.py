from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from executions.models import Execution
from recomamp.ownership import owned_by
from schedules.models import Schedule


def home(request):
    """The landing page after login: what is running, what just finished, what comes next."""
    executions = owned_by(request.user, Execution).select_related("workflow", "instance")
    context = {
        "running": executions.filter(status__in=Execution.ACTIVE_STATUSES)[:10],
        "recent": executions.filter(status__in=Execution.FINAL_STATUSES)[:10],
        "schedules": owned_by(request.user, Schedule).filter(is_active=True).order_by("next_run_at")[:10],
    }
    return render(request, "home.html", context)


@login_not_required
def health(request):
    """Liveness for load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
