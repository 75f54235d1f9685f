from django.shortcuts import render

from recomamp.ownership import get_object_for_user, owned_by

from .models import AMCInstance


def instance_list(request):
    instances = owned_by(request.user, AMCInstance).select_related("account")
    return render(request, "instances/instance_list.html", {"instances": instances})


def instance_detail(request, pk):
    instance = get_object_for_user(request.user, AMCInstance.objects.select_related("account"), pk=pk)
    return render(request, "instances/instance_detail.html", {"instance": instance})
