from django.shortcuts import render

from recomamp.ownership import get_object_for_user, owned_by

from .models import Schedule


def schedule_list(request):
    schedules = owned_by(request.user, Schedule).select_related("workflow", "instance")
    return render(request, "schedules/schedule_list.html", {"schedules": schedules})


def schedule_detail(request, schedule_id):
    schedule = get_object_for_user(
        request.user, Schedule.objects.select_related("workflow", "instance"), schedule_id=schedule_id
    )
    runs = schedule.runs.select_related("execution")[:50]
    return render(request, "schedules/schedule_detail.html", {"schedule": schedule, "runs": runs})
