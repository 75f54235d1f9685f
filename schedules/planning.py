"""What a schedule will do at a slot: its timing spec, the window and the parameter values it sends.

Pure functions over a Schedule row, shared by the dispatcher, the preview and the forms.
"""

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import presets, windows
from .models import Schedule


def spec_for(schedule: Schedule) -> presets.ScheduleSpec:
    return presets.ScheduleSpec(
        kind=schedule.kind,
        cron=schedule.cron_expression,
        tz=schedule.timezone,
        time_of_day=schedule.time_of_day,
        interval_days=schedule.interval_days,
        weekdays=tuple(schedule.weekdays or ()),
        month_days=tuple(schedule.month_days or ()),
        start_at=schedule.starts_at,
        end_at=schedule.ends_at,
    )


def window_rule_for(schedule: Schedule) -> windows.WindowRule:
    data = schedule.window_rule or {"kind": windows.WindowKind.PREVIOUS_DAY}
    return windows.WindowRule.from_json(data, lag_days=schedule.lag_days)


def interval_days_for(schedule: Schedule) -> int | None:
    """How many days a 'same as the interval' window covers."""
    if schedule.kind == Schedule.Kind.INTERVAL:
        return schedule.interval_days
    if schedule.kind == Schedule.Kind.WEEKLY:
        return 7
    if schedule.kind == Schedule.Kind.MONTHLY:
        return 30
    return 1


@dataclass(frozen=True)
class SlotPlan:
    slot: datetime
    window: windows.ResolvedWindow
    parameters: dict

    def as_json(self) -> dict:
        return {"slot": self.slot.isoformat(), "window": self.window.as_json(), "parameters": self.parameters}


def plan_slot(schedule: Schedule, slot: datetime) -> SlotPlan:
    """The window (from the slot, never from now) and the parameter values with dynamic ones resolved."""
    window = windows.resolve_window(window_rule_for(schedule), slot, schedule.timezone, interval_days_for(schedule))
    parameters = {}
    for name, value in (schedule.parameters or {}).items():
        if isinstance(value, str) and windows.is_dynamic_value(value):
            parameters[name] = windows.resolve_dynamic_value(value, slot, schedule.timezone, window)
        else:
            parameters[name] = value
    return SlotPlan(slot, window, parameters)


def next_slot(schedule: Schedule, after: datetime) -> datetime | None:
    """When is the next slot: the one answer for every kind of schedule (None once it has ended).

    Callers outside this module ask here; `presets.next_slot` (a timing spec) and `timing.next_cron_slot`
    (a bare cron expression) are the layers underneath.
    """
    return presets.next_slot(spec_for(schedule), after)


def slots_between(schedule: Schedule, start: datetime, end: datetime, limit: int) -> list[datetime]:
    """The schedule's slots with start <= slot <= end, earliest first, at most `limit` of them."""
    spec = spec_for(schedule)
    slots: list[datetime] = []
    slot = presets.next_slot(spec, start - timedelta(microseconds=1))
    while slot is not None and slot <= end and len(slots) < limit:
        slots.append(slot)
        slot = presets.next_slot(spec, slot)
    return slots


def upcoming_plans(schedule: Schedule, after: datetime, count: int = 10) -> list[SlotPlan]:
    return [plan_slot(schedule, slot) for slot in presets.upcoming_slots(spec_for(schedule), after, count)]


def slots_due(schedule: Schedule, now: datetime, limit: int = 1000) -> tuple[list[datetime], datetime | None]:
    """Slots from `next_run_at` up to `now`, oldest first (normally just one), and the first slot after now.

    After a long outage only the most recent `limit` slots of the last week are listed (older ones would only
    be recorded as skipped); the walk jumps over the rest.
    """
    recent: deque[datetime] = deque(maxlen=limit)
    horizon = now - timedelta(days=7)
    spec = spec_for(schedule)
    slot = schedule.next_run_at
    while slot is not None and slot <= now:
        if slot < horizon:
            slot = presets.next_slot(spec, horizon)
            continue
        recent.append(slot)
        slot = presets.next_slot(spec, slot)
    return list(recent), slot


def describe(schedule: Schedule) -> str:
    return presets.describe_spec(spec_for(schedule))
