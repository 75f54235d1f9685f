"""E-mail about schedule runs: one message per run, even when a task is delivered twice."""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from executions.results import export

from .models import Schedule, ScheduleRun

log = logging.getLogger(__name__)

ATTACHMENT_LIMIT_BYTES = 2 * 1024 * 1024


def notify_run(run_pk: int) -> bool:
    """Send the run's e-mail if its schedule asks for one. Claims `notified_at` first: at most one e-mail."""
    run = ScheduleRun.objects.select_related("schedule", "execution__result").get(pk=run_pk)
    schedule = run.schedule
    wanted = (run.status == ScheduleRun.Status.SUCCEEDED and schedule.notify_on_success) or (
        run.status in (ScheduleRun.Status.FAILED, ScheduleRun.Status.CANCELLED) and schedule.notify_on_failure
    )
    if not wanted or not schedule.notification_emails:
        return False
    claimed = ScheduleRun.objects.filter(pk=run_pk, notified_at__isnull=True).update(notified_at=timezone.now())
    if not claimed:
        return False
    result = getattr(run.execution, "result", None) if run.execution else None
    context = {
        "run": run,
        "schedule": schedule,
        "result": result,
        "execution_url": settings.SITE_URL + reverse("execution_detail", args=[run.execution.execution_id])
        if run.execution
        else "",
        "history_url": settings.SITE_URL + reverse("schedule_detail", args=[schedule.schedule_id]),
    }
    outcome = "succeeded" if run.status == ScheduleRun.Status.SUCCEEDED else "failed"
    prefix = "[test] " if run.is_test else ""
    message = EmailMessage(
        subject=f"{prefix}{schedule.name}: run for {run.scheduled_for:%Y-%m-%d %H:%M} UTC {outcome}",
        body=render_to_string("schedules/email/run.txt", context),
        to=list(schedule.notification_emails),
    )
    if result and schedule.attach_csv and result.size_bytes <= ATTACHMENT_LIMIT_BYTES:
        content = b"".join(export.iter_csv(result))  # the download's CSV, formula-like cells neutralised
        message.attach(f"{schedule.schedule_id}-{run.scheduled_for:%Y%m%d%H%M}.csv", content, "text/csv")
    try:
        message.send()
    except Exception:
        # Give the claim back so the next recovery pass can try again; never lose a notification silently.
        ScheduleRun.objects.filter(pk=run_pk).update(notified_at=None)
        log.exception("run e-mail failed run=%s schedule=%s", run_pk, schedule.schedule_id)
        return False
    log.info("run e-mail sent run=%s schedule=%s", run_pk, schedule.schedule_id)
    return True


def notify_paused(schedule_pk: int) -> bool:
    schedule = Schedule.objects.get(pk=schedule_pk)
    recipients = schedule.notification_emails or [schedule.owner.email]
    body = render_to_string(
        "schedules/email/paused.txt",
        {"schedule": schedule, "url": settings.SITE_URL + reverse("schedule_detail", args=[schedule.schedule_id])},
    )
    EmailMessage(subject=f"{schedule.name} was paused after repeated failures", body=body, to=recipients).send()
    return True


def unsent_notifications():
    """Finished runs whose e-mail is still owed (a send failed): retried by the recovery pass."""
    return ScheduleRun.objects.filter(notified_at__isnull=True, finished_at__isnull=False).exclude(
        schedule__notification_emails=[]
    ).filter(
        Q(status=ScheduleRun.Status.SUCCEEDED, schedule__notify_on_success=True)
        | Q(status=ScheduleRun.Status.FAILED, schedule__notify_on_failure=True)
    )
