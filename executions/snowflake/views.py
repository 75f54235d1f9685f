"""Snowflake settings (per user) and delivery retries. Thin: the rules live in delivery.py and loading.py."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from recomamp.ownership import get_object_for_user

from ..models import SnowflakeConfig, SnowflakeDelivery
from . import delivery
from .forms import SnowflakeConfigForm


@require_http_methods(["GET", "POST"])
def snowflake_settings(request):
    config = SnowflakeConfig.objects.filter(owner=request.user).first() or SnowflakeConfig(owner=request.user)
    form = SnowflakeConfigForm(request.POST or None, instance=config)
    if request.method == "POST" and form.is_valid():
        config = form.save()
        messages.success(request, "Snowflake settings saved. Use “Test connection” to check them.")
        return redirect("snowflake_settings")
    return render(request, "executions/snowflake_settings.html", {"form": form, "config": config})


@require_POST
def snowflake_test(request):
    config = get_object_for_user(request.user, SnowflakeConfig)
    ok, message = delivery.record_connection_test(config)
    (messages.success if ok else messages.error)(request, message)
    return redirect("snowflake_settings")


@require_POST
def snowflake_retry(request, delivery_id):
    row = get_object_for_user(request.user, SnowflakeDelivery.objects.select_related("execution"), pk=delivery_id)
    from django_q.tasks import async_task

    if row.status == SnowflakeDelivery.Status.FAILED:
        async_task("executions.tasks.retry_snowflake_delivery", row.pk)
        messages.success(request, "Delivery queued again; AMC is not re-run.")
    else:
        messages.info(request, "Only a failed delivery can be retried.")
    return redirect("execution_detail", execution_id=row.execution.execution_id)
