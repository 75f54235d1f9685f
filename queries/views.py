from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render

from recomamp.ownership import get_object_for_user, owned_by

from .models import DataSource, QueryTemplate, Workflow


def data_source_list(request):
    sources = DataSource.objects.annotate(field_count=Count("fields"))
    return render(request, "queries/data_source_list.html", {"sources": sources})


def data_source_detail(request, schema_id):
    source = get_object_or_404(DataSource, schema_id=schema_id)  # the catalog is shared, not owned
    return render(request, "queries/data_source_detail.html", {"source": source, "fields": source.fields.all()})


def template_list(request):
    templates = QueryTemplate.objects.filter(Q(is_public=True) | Q(owner=request.user))
    return render(request, "queries/template_list.html", {"templates": templates})


def workflow_list(request):
    return render(request, "queries/workflow_list.html", {"workflows": owned_by(request.user, Workflow)})


def workflow_detail(request, workflow_id):
    workflow = get_object_for_user(request.user, Workflow, workflow_id=workflow_id)
    return render(request, "queries/workflow_detail.html", {"workflow": workflow})
