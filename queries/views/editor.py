"""The SQL editor: a plain form that CodeMirror and htmx enhance (live diagnostics, parameters, preview)."""

from dataclasses import replace

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.amazon import AmazonConnectionError, amc_client_for
from recomamp.bounds import bounded_int
from recomamp.ownership import get_object_for_user

from ..catalog import catalog_snapshot, search_schema
from ..forms import InstanceChoiceForm, ParameterForm, WorkflowForm, submitted_types
from ..models import Workflow
from ..validation import ParameterError, validate
from ..workflow_services import (
    AMCCheck,
    FormatError,
    default_window,
    definitions_to_json,
    dry_run,
    example_sql,
    format_sql,
    parameter_definitions,
    preview_request,
    save_workflow,
    visible_templates,
)

TEMPLATE = "queries/editor.html"


def query_editor(request):
    """A new query, optionally started from a data source example (?example=) or a library entry (?template=)."""
    return _editor(request, None)


def workflow_edit(request, workflow_id):
    workflow = get_object_for_user(request.user, Workflow, workflow_id=workflow_id)
    return _editor(request, workflow)


def _library_template(request, params):
    slug = params.get("template")
    return visible_templates(request.user).filter(slug=slug).first() if slug else None


def _stored(request, workflow, params) -> tuple[dict, object]:
    """(stored parameter definitions, library template) of what is being edited."""
    if workflow is not None:
        return workflow.parameter_definitions(), workflow.template
    template = _library_template(request, params)
    return (template.parameter_definitions() if template else {}), template


def _initial_sql(request, workflow, template) -> str:
    if workflow is not None:
        return workflow.sql
    if template is not None:
        return template.sql_template
    found = example_sql(request.GET.get("example", ""))
    return found[1]["sql"] if found else ""


def _editor(request, workflow):
    data = request.POST.copy() if request.method == "POST" else None
    action = data.get("action", "validate") if data is not None else ""
    stored, template = _stored(request, workflow, data if data is not None else request.GET)
    sql = data.get("sql", "") if data is not None else _initial_sql(request, workflow, template)
    notice = None
    if action == "format":
        try:
            data["sql"] = sql = format_sql(sql)
        except FormatError as exc:
            notice = str(exc)
    panels = _panels(request, sql, stored, data, workflow)
    save_error = ""
    if action == "save":
        form = WorkflowForm(data, instance=workflow or Workflow(owner=request.user, template=template))
        # A value left empty is a query without a default, not a reason to refuse the save (only malformed ones are).
        if form.is_valid() and panels["values_valid"]:
            saved = save_workflow(
                form.save(commit=False),
                definitions_to_json(panels["definitions"], panels["parameter_form"].values()),
                user=request.user,
                note=form.cleaned_data["note"],
            )
            messages.success(request, f"Saved {saved.workflow_id}.")
            return redirect("workflow_edit", workflow_id=saved.workflow_id)
        save_error = "Not saved: " + (
            "correct the fields marked below." if form.errors else "correct the parameter values marked below."
        )
    elif data is not None:  # validate, format or check: keep what was typed without flagging unsaved fields
        form = WorkflowForm(initial={**data.dict(), "sql": sql}, instance=workflow)
    else:
        form = WorkflowForm(initial={"sql": sql}, instance=workflow)
    check_form = InstanceChoiceForm(data if action == "check" else None, user=request.user, prefix="check")
    context = {
        **panels,
        "form": form,
        "workflow": workflow,
        "query_template": template,
        "check_form": check_form,
        "format_notice": notice,
        "save_error": save_error,
        "amc_check": _check_with_amc(request, check_form, panels) if action == "check" else None,
        "jump": _jump_target(request),
        "schema_q": "",
        "schema_results": search_schema("", tables=panels["catalog_tables"]),
    }
    return render(request, TEMPLATE, context)


def _jump_target(request) -> dict | None:
    """?line=&column= (from an execution error) places the cursor there."""
    line, column = request.GET.get("line", ""), request.GET.get("column", "")
    if line.isdecimal():
        return {"line": bounded_int(line, 1), "column": bounded_int(column, 1)}
    return None


def _panels(request, sql: str, stored: dict, data, workflow) -> dict:
    """Diagnostics, the parameter form and the request preview for the SQL being edited."""
    definitions = parameter_definitions(sql, stored, submitted_types(data) if data is not None else {})
    parameter_form = ParameterForm(data if data is not None else {}, definitions=definitions)
    tables, catalog = catalog_snapshot()
    diagnostics = validate(sql, catalog)
    catalog_empty = not catalog.table_names()
    if catalog_empty:  # nothing to check names against: say so once instead of flagging every table
        diagnostics = [d for d in diagnostics if d.code != "unknown-table"]
    preview, preview_error = None, ""
    values_valid = parameter_form.is_valid()  # before the preview adds "missing value" errors (not blocking a save)
    if sql.strip() and values_valid:
        window = default_window(timezone.localdate(), request.user.timezone)
        try:
            # The form's values are the whole truth here: a cleared field must not fall back to a stored default.
            blank = [replace(d, default=None) for d in definitions]
            preview = preview_request(sql, blank, parameter_form.values(), window=window, workflow=workflow)
        except ParameterError as exc:
            preview_error = str(exc)  # "name: what is wrong"
            parameter_form.add_error(f"param_{exc.name}", exc.message)
    return {
        "sql": sql,
        "definitions": definitions,
        "parameter_form": parameter_form,
        "diagnostics": diagnostics,
        "diagnostics_data": [d.to_dict() for d in diagnostics],
        "catalog_empty": catalog_empty,
        "catalog_tables": tables,
        "preview": preview,
        "preview_error": preview_error,
        "values_valid": values_valid,
    }


def _check_with_amc(request, check_form: InstanceChoiceForm, panels: dict) -> AMCCheck:
    if not check_form.is_valid():
        return AMCCheck(False, "Choose one of your active instances.")
    if panels["preview"] is None:
        return AMCCheck(False, "Write a query and fill in its parameters first.")
    instance = check_form.cleaned_data["instance"]
    window = default_window(timezone.localdate(), request.user.timezone)
    try:
        with amc_client_for(request.user, instance.region) as client:
            return dry_run(client, instance, panels["preview"].prepared, window)
    except AmazonConnectionError as exc:
        return AMCCheck(False, str(exc))


def _workflow_from_post(request):
    workflow_id = request.POST.get("editing", "")
    return get_object_for_user(request.user, Workflow, workflow_id=workflow_id) if workflow_id else None


@require_POST
def editor_live(request):
    """As the analyst types: diagnostics (target), plus parameters and preview swapped out of band."""
    workflow = _workflow_from_post(request)
    sql = request.POST.get("sql", "")
    panels = _panels(request, sql, _stored(request, workflow, request.POST)[0], request.POST, workflow)
    return render(request, f"{TEMPLATE}#live", {**panels, "workflow": workflow, "oob": True})


@require_POST
def editor_format(request):
    try:
        return JsonResponse({"sql": format_sql(request.POST.get("sql", ""))})
    except FormatError as exc:
        return JsonResponse({"error": str(exc)}, status=422)


@require_POST
def editor_check(request):
    """"Check with AMC": a dry run of the query as it stands."""
    workflow = _workflow_from_post(request)
    sql = request.POST.get("sql", "")
    panels = _panels(request, sql, _stored(request, workflow, request.POST)[0], request.POST, workflow)
    check_form = InstanceChoiceForm(request.POST, user=request.user, prefix="check")
    result = _check_with_amc(request, check_form, panels)
    return render(request, f"{TEMPLATE}#amc_check", {"amc_check": result})
