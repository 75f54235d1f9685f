from django.shortcuts import render

from recomamp.ownership import get_object_for_user, owned_by

from .models import Execution


def execution_list(request):
    executions = owned_by(request.user, Execution).select_related("workflow", "instance")
    return render(request, "executions/execution_list.html", {"executions": executions[:100]})


def execution_detail(request, execution_id):
    execution = get_object_for_user(
        request.user, Execution.objects.select_related("workflow", "instance"), execution_id=execution_id
    )
    return render(request, "executions/execution_detail.html", {"execution": execution})
