"""A saved query's versions: the list, one version, a side-by-side diff of any two, and restore."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from recomamp.bounds import bounded_int
from recomamp.ownership import get_object_for_user

from ..models import Workflow
from ..version_diff import diff_versions
from ..versions import latest_version, restore_version, versions_of

PAGE_SIZE = 50


def _workflow(request, workflow_id) -> Workflow:
    return get_object_for_user(request.user, Workflow, workflow_id=workflow_id)


def _version(workflow: Workflow, number):
    return get_object_or_404(workflow.versions.select_related("created_by"), number=number)


def version_list(request, workflow_id):
    workflow = _workflow(request, workflow_id)
    page = Paginator(versions_of(workflow), PAGE_SIZE).get_page(request.GET.get("page"))
    numbers = [v.number for v in page.object_list]
    context = {
        "workflow": workflow,
        "page": page,
        "latest": latest_version(workflow),
        # The diff form's defaults: the version before the newest against the newest.
        "default_a": numbers[1] if len(numbers) > 1 else (numbers[0] if numbers else None),
        "default_b": numbers[0] if numbers else None,
    }
    return render(request, "queries/versions/list.html", context)


def version_detail(request, workflow_id, number):
    workflow = _workflow(request, workflow_id)
    version = _version(workflow, number)
    latest = latest_version(workflow)
    runs = version.executions.select_related("instance").order_by("-created_at")[:20]
    context = {"workflow": workflow, "version": version, "latest": latest, "runs": runs}
    return render(request, "queries/versions/detail.html", context)


def version_diff(request, workflow_id):
    workflow = _workflow(request, workflow_id)
    a, b = request.GET.get("a", ""), request.GET.get("b", "")
    if not (a.isdecimal() and b.isdecimal()):
        return redirect("workflow_versions", workflow_id=workflow.workflow_id)
    old = _version(workflow, bounded_int(a, 1))
    new = _version(workflow, bounded_int(b, 1))
    numbers = list(workflow.versions.order_by("-number").values_list("number", flat=True)[:500])
    context = {"workflow": workflow, "old": old, "new": new, "diff": diff_versions(old, new), "numbers": numbers}
    return render(request, "queries/versions/diff.html", context)


@require_POST
def version_restore(request, workflow_id, number):
    workflow = _workflow(request, workflow_id)
    version = _version(workflow, number)
    restored = restore_version(version, user=request.user)
    if restored is None:
        messages.info(request, f"The query already has the SQL and parameters of v{version.number}.")
    else:
        messages.success(request, f"Restored v{version.number} as v{restored.number}.")
    return redirect("workflow_versions", workflow_id=workflow.workflow_id)
