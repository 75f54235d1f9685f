"""Data source pages, the editor's schema explorer and its autocomplete data."""

from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from ..catalog import distinct_tags, editor_hints, filter_data_sources, search_schema
from ..forms import CatalogFilterForm
from ..models import DataSource
from . import wants_partial


def data_source_list(request):
    form = CatalogFilterForm(
        request.GET,
        categories=DataSource.objects.order_by("category").values_list("category", flat=True).distinct(),
        tags=distinct_tags(DataSource.objects.values_list("tags", flat=True)),
    )
    context = {"form": form, "sources": filter_data_sources(**form.filters())}
    template = "queries/data_source_list.html"
    return render(request, f"{template}#results" if wants_partial(request) else template, context)


def data_source_detail(request, schema_id):
    source = get_object_or_404(DataSource, schema_id=schema_id)  # the catalog is shared, not owned
    context = {"source": source, "fields": source.fields.all(), "examples": source.examples}
    return render(request, "queries/data_source_detail.html", context)


@require_GET
def schema_search(request):
    """The editor's schema explorer; without htmx it is a page of its own."""
    q = request.GET.get("q", "").strip()[:100]
    context = {"schema_q": q, "schema_results": search_schema(q)}
    template = "queries/schema_explorer.html"
    return render(request, f"{template}#results" if wants_partial(request) else template, context)


@require_GET
def catalog_hints(request):
    """Tables, typed columns (dimension or metric) and AMC functions for the editor's autocomplete."""
    response = JsonResponse(editor_hints())
    response["Cache-Control"] = "private, max-age=300"
    return response
