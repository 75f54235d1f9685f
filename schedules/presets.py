"""Schedule presets: what each offers, how it maps to cron, and one next-slot function for all of them.

Conventions (shared with `schedules.models.Schedule`):

* `weekdays` use Python numbering, 0 = Monday ... 6 = Sunday.
* `month_days` are 1-31, or `LAST_DAY_OF_MONTH` (-1). A day a month lacks (31 in April, 30 in February)
  is skipped that month, as in cron; "last day" always fires.
* Slot times are wall-clock times in the spec's zone and follow the DST policy of `schedules.timing`.
* `start_at` is inclusive (a slot exactly at it counts); `end_at` is inclusive too.

"Every N days" cannot be written in cron (``*/3`` in the day field restarts on the 1st of each month),
so the interval preset is anchored on the local date of `start_at`: its slots are that date plus
k * N days (k = 0, 1, 2, ...) at `time_of_day`. Slots before `start_at` itself (say the anchor day's time
has already passed) are skipped, not moved.
"""

import enum
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from schedules import timing
from schedules.timing import ScheduleTimingError

LAST_DAY_OF_MONTH = -1
INTERVAL_CHOICES = (3, 7, 14, 30, 60, 90)
MAX_INTERVAL_DAYS = 366


class Kind(enum.StrEnum):
    DAILY = "daily"
    INTERVAL = "interval"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    BUSINESS_DAYS = "business_days"
    CRON = "cron"


@dataclass(frozen=True)
class Preset:
    kind: Kind
    label: str
    help_text: str
    fields: tuple[str, ...]  # the ScheduleSpec fields this preset uses besides `tz`, `start_at`, `end_at`


PRESETS: dict[Kind, Preset] = {
    preset.kind: preset
    for preset in (
        Preset(Kind.DAILY, "Daily", "Every day at the chosen time.", ("time_of_day",)),
        Preset(
            Kind.INTERVAL,
            "Every N days",
            "Every 3, 7, 14, 30, 60 or 90 days at the chosen time, counted from the start date.",
            ("time_of_day", "interval_days"),
        ),
        Preset(Kind.WEEKLY, "Weekly", "On the chosen days of the week.", ("time_of_day", "weekdays")),
        Preset(
            Kind.MONTHLY,
            "Monthly",
            "On the chosen dates of each month; 'last day' follows the month's length.",
            ("time_of_day", "month_days"),
        ),
        Preset(Kind.BUSINESS_DAYS, "Business days", "Monday to Friday at the chosen time.", ("time_of_day",)),
        Preset(Kind.CRON, "Custom cron", "A five-field cron expression, evaluated in the time zone.", ("cron",)),
    )
}


@dataclass(frozen=True, kw_only=True)
class ScheduleSpec:
    """The timing part of a schedule. Construction validates it; errors name the model field at fault."""

    kind: Kind
    cron: str = ""
    tz: str = "UTC"
    time_of_day: time | None = None
    interval_days: int | None = None
    weekdays: tuple[int, ...] = field(default=())
    month_days: tuple[int, ...] = field(default=())
    start_at: datetime | None = None
    end_at: datetime | None = None

    def __post_init__(self):
        try:
            kind = Kind(self.kind)
        except ValueError:
            raise ScheduleTimingError("kind", f"Unknown schedule kind '{self.kind}'.") from None
        # Normalise choices so that equal schedules compare equal whatever order the form sent.
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "weekdays", tuple(sorted(set(self.weekdays))))
        object.__setattr__(self, "month_days", tuple(sorted(set(self.month_days))))
        timing.get_zone(self.tz)
        for name in ("start_at", "end_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} must be an aware datetime")
        if self.start_at and self.end_at and self.end_at <= self.start_at:
            raise ScheduleTimingError("ends_at", "The end must be after the start.")
        if kind is Kind.CRON:
            timing.validate_cron(self.cron, self.tz)
        else:
            self._check_preset_fields(kind)

    def _check_preset_fields(self, kind: Kind) -> None:
        if self.time_of_day is None:
            raise ScheduleTimingError("time_of_day", "Choose a time of day.")
        if self.time_of_day.second or self.time_of_day.microsecond:
            raise ScheduleTimingError("time_of_day", "Times are whole minutes; leave out seconds.")
        if kind is Kind.INTERVAL:
            if not self.interval_days or not 1 <= self.interval_days <= MAX_INTERVAL_DAYS:
                raise ScheduleTimingError(
                    "interval_days", f"Choose an interval between 1 and {MAX_INTERVAL_DAYS} days."
                )
            if self.start_at is None:
                raise ScheduleTimingError("starts_at", "An every-N-days schedule needs a start date to count from.")
        if kind is Kind.WEEKLY and (not self.weekdays or not set(self.weekdays) <= set(range(7))):
            raise ScheduleTimingError("weekdays", "Choose one or more days of the week (0 = Monday ... 6 = Sunday).")
        if kind is Kind.MONTHLY:
            allowed = set(range(1, 32)) | {LAST_DAY_OF_MONTH}
            if not self.month_days or not set(self.month_days) <= allowed:
                raise ScheduleTimingError("month_days", "Choose days of the month between 1 and 31, or the last day.")


def spec_to_cron(spec: ScheduleSpec) -> str | None:
    """The cron expression equivalent to `spec`, or None for the interval preset (not expressible)."""
    if spec.kind is Kind.CRON:
        return " ".join(spec.cron.split())
    if spec.kind is Kind.INTERVAL:
        return None
    clock = f"{spec.time_of_day.minute} {spec.time_of_day.hour}"
    if spec.kind is Kind.DAILY:
        return f"{clock} * * *"
    if spec.kind is Kind.BUSINESS_DAYS:
        return f"{clock} * * 1-5"
    if spec.kind is Kind.WEEKLY:
        cron_days = sorted((day + 1) % 7 for day in spec.weekdays)  # cron counts from Sunday = 0
        return f"{clock} * * {','.join(map(str, cron_days))}"
    days = [str(day) for day in spec.month_days if day != LAST_DAY_OF_MONTH]
    if LAST_DAY_OF_MONTH in spec.month_days:
        days.append("L")
    return f"{clock} {','.join(days)} * *"


def describe_spec(spec: ScheduleSpec) -> str:
    """A short English description, e.g. "Every 14 days at 06:00, counted from 2026-01-05"."""
    if spec.kind is not Kind.INTERVAL:
        return timing.describe_cron(spec_to_cron(spec))
    anchor = spec.start_at.astimezone(timing.get_zone(spec.tz)).date()
    every = "Every day" if spec.interval_days == 1 else f"Every {spec.interval_days} days"
    return f"{every} at {spec.time_of_day:%H:%M}, counted from {anchor.isoformat()}"


def next_slot(spec: ScheduleSpec, after: datetime) -> datetime | None:
    """The first slot strictly after `after` and not before `start_at`; None once past `end_at`."""
    if spec.start_at and spec.start_at > after:
        after = spec.start_at - timedelta(microseconds=1)  # so a slot exactly at the start counts
    if spec.kind is Kind.INTERVAL:
        slot = _next_interval_slot(spec, after)
    else:
        slot = timing.next_cron_slot(spec_to_cron(spec), spec.tz, after)
    if spec.end_at and slot > spec.end_at:
        return None
    return slot


def upcoming_slots(spec: ScheduleSpec, after: datetime, count: int = 10) -> list[datetime]:
    """Up to `count` slots strictly after `after` (fewer when the schedule ends)."""
    slots: list[datetime] = []
    while len(slots) < count:
        slot = next_slot(spec, after)
        if slot is None:
            break
        slots.append(slot)
        after = slot
    return slots


def _next_interval_slot(spec: ScheduleSpec, after: datetime) -> datetime:
    zone = timing.get_zone(spec.tz)
    anchor = spec.start_at.astimezone(zone).date()
    elapsed_days = (after.astimezone(zone).date() - anchor).days
    # Slots on earlier local dates are all before `after`, so start from the interval containing its date.
    step = max(0, elapsed_days // spec.interval_days)
    while True:
        day = anchor + timedelta(days=step * spec.interval_days)
        slot = timing.wall_time_to_utc(datetime.combine(day, spec.time_of_day), zone)
        if slot > after:
            return slot
        step += 1
