"""The compare page: pick any two runs of a query, then their rows side by side (executions.comparison)."""

from django.shortcuts import render

from queries.models import Workflow
from recomamp.bounds import bounded_int
from recomamp.ownership import get_object_for_user, owned_by

from .comparison import SHOW_CHOICES, compare_results
from .models import Execution

CHOICES_LIMIT = 200  # the newest runs offered in the pickers


def _execution(request, execution_id):
    qs = Execution.objects.select_related("workflow", "instance", "query_version__workflow", "result")
    return get_object_for_user(request.user, qs, execution_id=execution_id)


def execution_compare(request):
    """?a=&b= compares two runs; ?workflow= (or a run of it) offers that query's succeeded runs to choose from."""
    a_id, b_id = request.GET.get("a", ""), request.GET.get("b", "")
    a = _execution(request, a_id) if a_id else None
    b = _execution(request, b_id) if b_id else None
    workflow_id = request.GET.get("workflow", "")
    if workflow_id:
        workflow = get_object_for_user(request.user, Workflow, workflow_id=workflow_id)
    else:
        workflow = (a and a.workflow) or (b and b.workflow)
    choices = []
    if workflow is not None:
        choices = list(
            owned_by(request.user, Execution)
            .filter(workflow=workflow, status=Execution.Status.SUCCEEDED, result__isnull=False)
            .select_related("instance", "query_version", "result")
            .order_by("-created_at")[:CHOICES_LIMIT]
        )
    comparison = None
    if a is not None and b is not None:
        comparison = compare_results(
            a, b, show=request.GET.get("show", ""), sort=request.GET.get("sort", ""),
            page=bounded_int(request.GET.get("page"), 1),
        )  # fmt: skip
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "a": a, "b": b, "workflow": workflow, "choices": choices, "comparison": comparison,
        "show_choices": list(SHOW_CHOICES), "query": query.urlencode(),
    }  # fmt: skip
    return render(request, "executions/compare.html", context)
