"""My queries: the list, a query's page, and the actions on it (copy, archive, delete, save on AMC)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.amazon import AmazonConnectionError, amc_client_for
from instances.models import AMCInstance
from recomamp.amc.errors import AMCError
from recomamp.ownership import get_object_for_user, owned_by

from ..catalog import distinct_tags
from ..forms import InstanceChoiceForm, WorkflowFilterForm
from ..models import Workflow
from ..services import WorkflowSyncError, ensure_workflow_on_amc
from ..workflow_services import (
    PAGE_SIZE,
    SORT_FIELDS,
    delete_workflow,
    duplicate_workflow,
    filter_workflows,
    normalize_sort,
    parameter_definitions,
    set_archived,
    sync_rows,
)
from . import wants_partial


def workflow_list(request):
    mine = owned_by(request.user, Workflow)
    form = WorkflowFilterForm(request.GET, tags=distinct_tags(mine.values_list("tags", flat=True)))
    filters = form.filters()
    page = Paginator(filter_workflows(mine, **filters), PAGE_SIZE).get_page(request.GET.get("page"))
    sort = normalize_sort(filters["sort"])
    context = {
        "form": form,
        "page": page,
        "workflows": page.object_list,
        "sort": sort,
        # Header links: a second click on the current column reverses it.
        "sort_links": {key: f"-{key}" if sort == key else key for key in SORT_FIELDS},
    }
    template = "queries/workflow_list.html"
    return render(request, f"{template}#results" if wants_partial(request) else template, context)


def _sync_context(request, workflow: Workflow) -> dict:
    instances = (
        owned_by(request.user, AMCInstance)
        .filter(Q(status=AMCInstance.Status.ACTIVE) | Q(workflow_syncs__workflow=workflow))
        .distinct()
        .order_by("name")
    )
    return {"workflow": workflow, "sync_rows": sync_rows(workflow, instances)}


def workflow_detail(request, workflow_id):
    workflow = get_object_for_user(request.user, Workflow, workflow_id=workflow_id)
    context = _sync_context(request, workflow)
    context["definitions"] = parameter_definitions(workflow.sql, workflow.parameter_definitions())
    context["schedule_count"] = workflow.schedules.count()
    return render(request, "queries/workflow_detail.html", context)


@require_POST
def workflow_duplicate(request, workflow_id):
    workflow = get_object_for_user(request.user, Workflow, workflow_id=workflow_id)
    copy = duplicate_workflow(workflow)
    messages.success(request, f"Copied to {copy.workflow_id}.")
    return redirect("workflow_edit", workflow_id=copy.workflow_id)


@require_POST
def workflow_archive(request, workflow_id):
    workflow = get_object_for_user(request.user, Workflow, workflow_id=workflow_id)
    archived = request.POST.get("archived", "1") == "1"
    set_archived(workflow, archived)
    messages.success(request, "Archived." if archived else "Restored as a draft.")
    return redirect("workflow_detail", workflow_id=workflow.workflow_id)


def workflow_delete(request, workflow_id):
    """GET asks for confirmation; POST deletes."""
    workflow = get_object_for_user(request.user, Workflow, workflow_id=workflow_id)
    if request.method == "POST":
        delete_workflow(workflow)
        messages.success(request, f"Deleted {workflow.name}.")
        return redirect("workflow_list")
    context = {"workflow": workflow, "schedule_count": workflow.schedules.count()}
    return render(request, "queries/workflow_confirm_delete.html", context)


@require_POST
def workflow_sync(request, workflow_id):
    """Create or update the workflow on one AMC instance."""
    workflow = get_object_for_user(request.user, Workflow, workflow_id=workflow_id)
    form = InstanceChoiceForm(request.POST, user=request.user)
    notice = _sync(request.user, workflow, form)
    if not wants_partial(request):
        messages.add_message(request, messages.SUCCESS if notice[0] == "success" else messages.ERROR, notice[1])
        return redirect("workflow_detail", workflow_id=workflow.workflow_id)
    context = _sync_context(request, workflow)
    context["sync_notice"] = notice
    return render(request, "queries/workflow_detail.html#sync", context)


def _sync(user, workflow: Workflow, form: InstanceChoiceForm) -> tuple[str, str]:
    """(level, message) describing the outcome."""
    if not form.is_valid():
        return "error", "Choose one of your active instances."
    instance = form.cleaned_data["instance"]
    try:
        with amc_client_for(user, instance.region) as client:
            ensure_workflow_on_amc(client, workflow, instance, force=form.cleaned_data["force"])
    except (WorkflowSyncError, AmazonConnectionError) as exc:
        return "error", str(exc)
    except AMCError as exc:
        return "error", f"AMC did not accept the workflow: {exc}"
    return "success", f"Saved on {instance.name} as {workflow.workflow_id}."
