"""Between the schedule wizard's cleaned data and a Schedule row, both ways (no validation, no saving)."""

from datetime import datetime, time, timedelta

from . import presets, timing, windows
from .models import Schedule
from .timing import ScheduleTimingError


def apply_cleaned_data(schedule: Schedule, data: dict, parameter_fields: dict) -> None:
    """Copy the wizard's cleaned data onto a Schedule (unsaved); only the fields the chosen preset uses."""
    for name in ("workflow", "instance"):
        if data.get(name) is not None:
            setattr(schedule, name, data[name])
    for name in (
        "name", "description", "timezone", "is_active", "lag_days", "max_retries", "retry_delay_minutes",
        "failure_threshold", "cost_limit", "overlap_policy", "notify_on_success", "notify_on_failure",
        "notification_emails", "attach_csv", "snowflake_enabled", "snowflake_table", "snowflake_schema",
    ):  # fmt: skip
        if name in data:
            setattr(schedule, name, data[name])
    _apply_timing(schedule, data)
    schedule.window_rule = window_rule_from(data)
    schedule.parameters = {
        definition.name: data[field].strip()
        for field, definition in parameter_fields.items()
        if data.get(field) and data[field].strip()
    }


def _apply_timing(schedule: Schedule, data: dict) -> None:
    """Only the fields the chosen preset uses are kept; the rest are cleared so rows stay unambiguous."""
    kind = data.get("kind") or Schedule.Kind.DAILY
    used = presets.PRESETS[presets.Kind(kind)].fields
    schedule.kind = kind
    schedule.cron_expression = data.get("cron_expression", "") if "cron" in used else ""
    schedule.time_of_day = data.get("time_of_day") if "time_of_day" in used else None
    schedule.interval_days = data.get("interval_days") if "interval_days" in used else None
    schedule.weekdays = sorted(data.get("weekdays") or []) if "weekdays" in used else []
    schedule.month_days = sorted(data.get("month_days") or []) if "month_days" in used else []
    zone = zone_or_none(data.get("timezone"))
    if zone is None:
        return
    if data.get("start_date"):
        schedule.starts_at = timing.wall_time_to_utc(datetime.combine(data["start_date"], time.min), zone)
    if data.get("end_date"):
        # The end date is inclusive: the schedule ends just before the following local midnight.
        next_midnight = datetime.combine(data["end_date"] + timedelta(days=1), time.min)
        schedule.ends_at = timing.wall_time_to_utc(next_midnight, zone) - timedelta(seconds=1)


def window_rule_from(data: dict) -> dict:
    kind = data.get("window_kind") or windows.WindowKind.PREVIOUS_DAY
    rule: dict = {"kind": str(kind)}
    if kind == windows.WindowKind.LAST_N_DAYS:
        rule["n_days"] = data.get("window_n_days")
    if kind == windows.WindowKind.FIXED:
        for name in ("fixed_start", "fixed_end"):
            value = data.get(f"window_{name}")
            rule[name] = value.isoformat() if value else None
    return rule


def initial_for(schedule: Schedule) -> dict:
    """The wizard's fields for an existing schedule (the reverse of `apply_cleaned_data`)."""
    zone = zone_or_none(schedule.timezone)
    rule = schedule.window_rule or {}
    initial = {
        name: getattr(schedule, name)
        for name in (
            "name", "description", "kind", "cron_expression", "time_of_day", "interval_days", "weekdays",
            "month_days", "timezone", "is_active", "lag_days", "max_retries", "retry_delay_minutes",
            "failure_threshold", "cost_limit", "overlap_policy", "notify_on_success", "notify_on_failure",
            "attach_csv", "snowflake_enabled", "snowflake_table", "snowflake_schema",
        )
    }  # fmt: skip
    initial.update(
        workflow=schedule.workflow.workflow_id,
        instance=schedule.instance_id,
        extra_instances=list(schedule.extra_instances.values_list("pk", flat=True)) if schedule.pk else [],
        notification_emails=", ".join(schedule.notification_emails or []),
        window_kind=rule.get("kind", windows.WindowKind.PREVIOUS_DAY),
        window_n_days=rule.get("n_days"),
        window_fixed_start=rule.get("fixed_start"),
        window_fixed_end=rule.get("fixed_end"),
    )
    if zone and schedule.starts_at:
        initial["start_date"] = schedule.starts_at.astimezone(zone).date()
    if zone and schedule.ends_at:
        initial["end_date"] = schedule.ends_at.astimezone(zone).date()
    return initial


def zone_or_none(name: str | None):
    try:
        return timing.get_zone(name) if name else None
    except ScheduleTimingError:
        return None
