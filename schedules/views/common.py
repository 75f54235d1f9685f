"""Helpers shared by the schedule views."""

from datetime import datetime

from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from recomamp.ownership import get_object_for_user

from ..models import Schedule


def current_time() -> datetime:
    """The views' clock (tests replace it to look at a fixed moment)."""
    return timezone.now()


def schedule_for(request, schedule_id: str) -> Schedule:
    """The user's schedule or 404: someone else's schedule is indistinguishable from a missing one."""
    qs = Schedule.objects.select_related("workflow", "instance")
    return get_object_for_user(request.user, qs, schedule_id=schedule_id)


def back_to(request, schedule: Schedule):
    """Redirect to the page a quick action came from (same site only), else to the schedule."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("schedule_detail", schedule_id=schedule.schedule_id)
