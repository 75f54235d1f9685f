from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.amazon import AmazonConnectionError
from recomamp.amc.errors import AMCError
from recomamp.ownership import get_object_for_user, owned_by

from . import services
from .forms import InstanceLabelsForm
from .models import AMCInstance


def instance_list(request):
    instances = owned_by(request.user, AMCInstance).select_related("account")
    q = request.GET.get("q", "").strip()
    status = request.GET.get("status", "active")
    label = request.GET.get("label", "").strip()
    if q:
        instances = instances.filter(
            Q(name__icontains=q) | Q(instance_id__icontains=q) | Q(account__name__icontains=q)
        )
    if status in AMCInstance.Status.values:
        instances = instances.filter(status=status)
    if label:
        instances = instances.filter(Q(brands__contains=[label]) | Q(tags__contains=[label]))
    labels = sorted({x for i in owned_by(request.user, AMCInstance).only("brands", "tags") for x in i.brands + i.tags})
    context = {"instances": instances, "q": q, "status": status, "label": label, "labels": labels}
    template = "instances/instance_list.html#instance-table" if request.htmx else "instances/instance_list.html"
    return render(request, template, context)


@require_POST
def instance_sync(request):
    try:
        report = services.sync_instances(request.user)
    except services.SyncError as exc:
        messages.error(request, "Sync failed: nothing could be read from AMC.")
        failures = exc.report.failures
    except (AmazonConnectionError, AMCError) as exc:
        messages.error(request, f"Sync failed: {exc}")
        failures = []
    else:
        messages.success(request, f"Synced from Amazon: {report.summary()}.")
        failures = report.failures
    for failure in failures:
        messages.error(request, f"Could not read {failure}")
    return redirect("instance_list")


@require_http_methods(["GET", "POST"])
def instance_detail(request, pk):
    instance = get_object_for_user(request.user, AMCInstance.objects.select_related("account"), pk=pk)
    form = InstanceLabelsForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Instance labels saved.")
        return redirect("instance_detail", pk=instance.pk)
    return render(request, "instances/instance_detail.html", {"instance": instance, "form": form})
