"""The query library: browse templates, preview one, and turn it into a saved query."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from ..catalog import distinct_tags
from ..forms import CatalogFilterForm, ParameterForm, UseTemplateForm
from ..models import DataSource
from ..workflow_services import create_from_template, filter_templates, parameter_definitions, visible_templates
from . import wants_partial


def template_list(request):
    visible = visible_templates(request.user)
    form = CatalogFilterForm(
        request.GET,
        categories=visible.order_by("category").values_list("category", flat=True).distinct(),
        tags=distinct_tags(visible.values_list("tags", flat=True)),
    )
    context = {"form": form, "templates": filter_templates(request.user, **form.filters())}
    template = "queries/template_list.html"
    return render(request, f"{template}#results" if wants_partial(request) else template, context)


def template_detail(request, slug):
    """Preview a library entry; POST "Use this template" creates a saved query and opens it in the editor."""
    query_template = get_object_or_404(visible_templates(request.user), slug=slug)
    definitions = parameter_definitions(
        query_template.sql_template, query_template.parameter_definitions()
    )
    posted = request.POST if request.method == "POST" else None
    use_form = UseTemplateForm(posted, initial={"name": query_template.name})
    parameter_form = ParameterForm(posted, definitions=definitions, types_editable=False, require_values=True)
    if posted is not None and use_form.is_valid() and parameter_form.is_valid():
        workflow = create_from_template(
            request.user, query_template, name=use_form.cleaned_data["name"], values=parameter_form.values()
        )
        messages.success(request, f"Saved as {workflow.workflow_id}. Review it, then run it.")
        return redirect("workflow_edit", workflow_id=workflow.workflow_id)
    documented = dict(
        DataSource.objects.filter(table_name__in=query_template.tables).values_list("table_name", "schema_id")
    )
    context = {
        "query_template": query_template,
        "definitions": definitions,
        "use_form": use_form,
        "parameter_form": parameter_form,
        "tables": [(table, documented.get(table)) for table in query_template.tables],
    }
    return render(request, "queries/template_detail.html", context)
