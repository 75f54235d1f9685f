"""Saving a schedule: creating, editing, pausing and resuming, with the rules they share.

The wizard's form validates and hands over an unsaved Schedule; this module decides what pausing and resuming
mean (the reason shown, the failure counters) and places the next run from now, so missed slots are never
replayed.
"""

from datetime import datetime

from .models import Schedule
from .services import refresh_next_run

PAUSED_BY_USER = "Paused by the user."
# Fields written to an existing row on edit: never the run counters or last_run_at, which the dispatcher owns.
EDITABLE_FIELDS = [
    "workflow", "instance", "name", "description", "kind", "cron_expression", "time_of_day", "interval_days",
    "weekdays", "month_days", "timezone", "starts_at", "ends_at", "is_active", "paused_reason",
    "paused_by_failures", "consecutive_failures", "parameters", "window_rule", "lag_days", "max_retries",
    "retry_delay_minutes", "failure_threshold", "cost_limit", "overlap_policy", "notify_on_success",
    "notify_on_failure", "notification_emails", "attach_csv", "snowflake_enabled", "snowflake_table",
    "snowflake_schema", "next_run_at", "updated_at",
]  # fmt: skip


def save_schedule(
    *, schedule: Schedule, was_active: bool | None, now: datetime | None = None, extra_instances=None
) -> Schedule:
    """Create (`was_active` None) or update a schedule, then place its next run from now. `extra_instances`
    (when given) replaces the "also run on" instances: only the owner's, never the schedule's own instance."""
    if schedule.is_active and was_active is False:  # resumed from the edit page
        _clear_pause(schedule)
    elif not schedule.is_active and was_active is not False:
        schedule.paused_reason = PAUSED_BY_USER
    refresh_next_run(schedule, now=now)
    if was_active is None:
        schedule.save()
    else:
        schedule.save(update_fields=EDITABLE_FIELDS)
    if extra_instances is not None:
        schedule.extra_instances.set(
            [i for i in extra_instances if i.owner_id == schedule.owner_id and i.pk != schedule.instance_id]
        )
    return schedule


def pause(schedule: Schedule, reason: str = PAUSED_BY_USER) -> None:
    Schedule.objects.filter(pk=schedule.pk).update(is_active=False, paused_reason=reason, next_run_at=None)


def resume(schedule: Schedule, *, now: datetime | None = None) -> None:
    schedule.is_active = True
    _clear_pause(schedule)
    refresh_next_run(schedule, now=now)
    schedule.save()


def _clear_pause(schedule: Schedule) -> None:
    schedule.paused_reason, schedule.paused_by_failures, schedule.consecutive_failures = "", False, 0
