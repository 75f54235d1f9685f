"""The workbench on the editor page: the run bar, starting a run, the live pane and the query's history.

Thin views over `executions.workbench`; the page shell is templates/executions/workbench/editor.html.
"""

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from accounts.amazon import AmazonConnectionError
from queries.models import Workflow
from recomamp.amc.errors import AMCError
from recomamp.ownership import get_object_for_user

from . import services, workbench
from .models import Execution

SESSION_KEY = "workbench"  # the last instance and window, per signed-in session


def _workflow(request, workflow_id):
    return get_object_for_user(request.user, Workflow, workflow_id=workflow_id) if workflow_id else None


@require_GET
def workbench_bar(request):
    form = workbench.bar_form(request.user, request.session.get(SESSION_KEY, {}))
    return render(request, "executions/workbench/bar.html", {"bar": form})


@require_POST
def workbench_run(request):
    """Start the editor's SQL: the live pane (200), a reason at the run button (422), or warnings to confirm (409)."""
    workflow = _workflow(request, request.POST.get("editing", ""))
    try:
        execution, remembered = workbench.start_run(
            request.user, request.POST, workflow, confirmed=request.POST.get("confirm") == "1"
        )
    except workbench.NeedsConfirmation as exc:
        return JsonResponse({"warnings": list(exc.warnings)}, status=409)
    except workbench.RunBlocked as exc:
        return JsonResponse({"error": str(exc)}, status=422)
    request.session[SESSION_KEY] = remembered
    return _pane(request, execution)


def _execution(request, execution_id):
    qs = Execution.objects.select_related("workflow", "instance__account", "owner")
    return get_object_for_user(request.user, qs, execution_id=execution_id)


@require_GET
def workbench_pane(request, execution_id):
    return _pane(request, _execution(request, execution_id))


@require_GET
def workbench_latest(request, workflow_id):
    """On opening a saved query: its latest run in the pane (as it left it), or nothing."""
    latest = workbench.history(request.user, _workflow(request, workflow_id), limit=1)
    return _pane(request, latest[0]) if latest else HttpResponse(status=204)  # 204: htmx keeps the hint


@require_POST
def workbench_cancel(request, execution_id):
    execution = _execution(request, execution_id)
    error = ""
    if execution.is_active:
        try:
            execution = services.cancel_execution(execution)
        except (AMCError, AmazonConnectionError) as exc:
            error = f"Could not cancel: {exc}"
    return _pane(request, execution, error=error)


def _pane(request, execution, error=""):
    context = {
        "cancel_error": error,
        "execution": execution,
        "result": getattr(execution, "result", None) if not execution.is_active else None,
        "elapsed": workbench.elapsed_seconds(execution),
        "next_step": workbench.next_step(execution),
    }
    response = render(request, "executions/workbench/pane.html", context)
    if not execution.is_active:
        response["HX-Trigger"] = "workbench-finished"  # the history panel refreshes itself
    return response


@require_GET
def workbench_history(request, workflow_id):
    workflow = _workflow(request, workflow_id)
    runs = workbench.history(request.user, workflow)
    return render(request, "executions/workbench/history.html", {"workflow": workflow, "runs": runs})
