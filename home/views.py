from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from home.dashboard import health_report, home_context


def home(request):
    """The landing page after login: connection, running work, recent results, what comes next, quotas."""
    template = "home.html#running" if request.htmx else "home.html"
    return render(request, template, home_context(request.user))


@login_not_required
def health(request):
    """For load balancers and monitoring: database reachable, plus the backlog signals worth alerting on.

    Returns 503 when the database does not answer; the numbers never include user data.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report = health_report()
    except Exception as exc:  # noqa: BLE001 - any database failure means "unhealthy"
        return JsonResponse({"status": "error", "error": exc.__class__.__name__}, status=503)
    status = "ok" if report["due_unclaimed_slots"] == 0 and report["executions_past_timeout"] == 0 else "degraded"
    return JsonResponse({"status": status, **report})
