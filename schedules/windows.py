"""Date windows and dynamic date values, computed from a run's slot (never from "now").

How a window is resolved:

1. Take the slot's local date in the schedule's zone and step back `lag_days` (default 2: AMC's data
   availability SLA is 48 hours). Call the result the *reference day*. It is the first day the window
   treats as not yet complete; every rolling window ends just before it.
2. The rule picks whole local days before the reference day (see `WindowKind`).
3. Bounds are local midnights. The start is inclusive, the end is **exclusive**: a window covering
   2026-03-01 .. 2026-03-07 is sent as timeWindowStart 2026-03-01T00:00:00 and timeWindowEnd
   2026-03-08T00:00:00. AMC takes timestamps without a zone suffix plus `timeWindowTimeZone`
   (AMC API reference); its examples all use midnights and whole hours are expected, so an
   inclusive "23:59:59" end is never sent.

`fixed` windows ignore the lag: they cover `fixed_start` .. `fixed_end`, both days included.
"""

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from schedules import timing
from schedules.timing import ScheduleTimingError

DEFAULT_LAG_DAYS = 2
MAX_LAG_DAYS = 90  # some paid data sets lag about two months
MAX_WINDOW_DAYS = 396  # AMC keeps a rolling 13 months of data
AMC_TIMESTAMP = "%Y-%m-%dT%H:%M:%S"


class WindowKind(enum.StrEnum):
    PREVIOUS_DAY = "previous_day"  # the day before the reference day
    LAST_N_DAYS = "last_n_days"  # the n_days days before the reference day
    PREVIOUS_WEEK_MON = "previous_week_mon"  # the last complete Monday-Sunday week
    PREVIOUS_WEEK_SUN = "previous_week_sun"  # the last complete Sunday-Saturday week
    PREVIOUS_MONTH = "previous_month"  # the calendar month before the reference day's month
    MONTH_TO_DATE = "month_to_date"  # from the 1st up to the reference day; on the 1st, the previous month
    SAME_AS_INTERVAL = "same_as_interval"  # as many days as the schedule's interval, before the reference day
    FIXED = "fixed"  # fixed_start .. fixed_end, both included


@dataclass(frozen=True, kw_only=True)
class WindowRule:
    kind: WindowKind
    n_days: int | None = None
    lag_days: int = DEFAULT_LAG_DAYS
    fixed_start: date | None = None
    fixed_end: date | None = None  # the last day included

    def __post_init__(self):
        try:
            object.__setattr__(self, "kind", WindowKind(self.kind))
        except ValueError:
            raise ScheduleTimingError("window_rule", f"Unknown date window '{self.kind}'.") from None
        if not 0 <= self.lag_days <= MAX_LAG_DAYS:
            raise ScheduleTimingError("lag_days", f"The data lag must be between 0 and {MAX_LAG_DAYS} days.")
        if self.kind is WindowKind.LAST_N_DAYS and not (self.n_days and 1 <= self.n_days <= MAX_WINDOW_DAYS):
            raise ScheduleTimingError("window_rule", f"Choose between 1 and {MAX_WINDOW_DAYS} days.")
        if self.kind is WindowKind.FIXED:
            if self.fixed_start is None or self.fixed_end is None:
                raise ScheduleTimingError("window_rule", "A fixed window needs a start date and an end date.")
            if self.fixed_end < self.fixed_start:
                raise ScheduleTimingError("window_rule", "The window's end date is before its start date.")

    @classmethod
    def from_json(cls, data: dict, lag_days: int = DEFAULT_LAG_DAYS) -> "WindowRule":
        """Build a rule from the JSON kept on a schedule: {kind, n_days, fixed_start, fixed_end}."""
        try:
            fixed = {
                name: date.fromisoformat(data[name]) if data.get(name) else None
                for name in ("fixed_start", "fixed_end")
            }
        except (TypeError, ValueError):
            raise ScheduleTimingError("window_rule", "Fixed window dates must look like 2026-01-31.") from None
        return cls(kind=data.get("kind", ""), n_days=data.get("n_days"), lag_days=lag_days, **fixed)


@dataclass(frozen=True)
class ResolvedWindow:
    start_local: datetime  # naive wall clock in `tz`, inclusive (a midnight)
    end_local: datetime  # naive wall clock in `tz`, exclusive (the midnight after the last day)
    start_utc: datetime
    end_utc: datetime
    tz: str

    @property
    def first_day(self) -> date:
        return self.start_local.date()

    @property
    def last_day(self) -> date:
        return self.end_local.date() - timedelta(days=1)

    def as_json(self) -> dict:
        """A JSON-ready record of the window, for storing on the run."""
        return {
            "start_local": self.start_local.strftime(AMC_TIMESTAMP),
            "end_local": self.end_local.strftime(AMC_TIMESTAMP),
            "start_utc": self.start_utc.isoformat(),
            "end_utc": self.end_utc.isoformat(),
            "tz": self.tz,
        }


def resolve_window(rule: WindowRule, slot: datetime, tz: str, interval_days: int | None = None) -> ResolvedWindow:
    """The window a run for `slot` covers, in zone `tz`. `interval_days` serves `same_as_interval`."""
    zone = timing.get_zone(tz)
    reference = slot.astimezone(zone).date() - timedelta(days=rule.lag_days)
    first, end = _window_days(rule, reference, interval_days)
    start_local = datetime.combine(first, datetime.min.time())
    end_local = datetime.combine(end, datetime.min.time())
    return ResolvedWindow(
        start_local=start_local,
        end_local=end_local,
        start_utc=timing.wall_time_to_utc(start_local, zone),
        end_utc=timing.wall_time_to_utc(end_local, zone),
        tz=tz,
    )


def _window_days(rule: WindowRule, reference: date, interval_days: int | None) -> tuple[date, date]:
    """(first day, exclusive end day) for the rule."""
    kind = rule.kind
    if kind is WindowKind.PREVIOUS_DAY:
        return reference - timedelta(days=1), reference
    if kind is WindowKind.LAST_N_DAYS:
        return reference - timedelta(days=rule.n_days), reference
    if kind is WindowKind.SAME_AS_INTERVAL:
        if not interval_days or interval_days < 1:
            raise ScheduleTimingError("window_rule", "'Same as interval' needs a schedule that repeats every N days.")
        return reference - timedelta(days=interval_days), reference
    if kind in (WindowKind.PREVIOUS_WEEK_MON, WindowKind.PREVIOUS_WEEK_SUN):
        # Days since the reference day's week began (weekday(): Monday = 0).
        since_week_start = reference.weekday()
        if kind is WindowKind.PREVIOUS_WEEK_SUN:
            since_week_start = (since_week_start + 1) % 7
        week_start = reference - timedelta(days=since_week_start)
        return week_start - timedelta(days=7), week_start
    if kind is WindowKind.PREVIOUS_MONTH or (kind is WindowKind.MONTH_TO_DATE and reference.day == 1):
        month_start = reference.replace(day=1)
        return (month_start - timedelta(days=1)).replace(day=1), month_start
    if kind is WindowKind.MONTH_TO_DATE:
        return reference.replace(day=1), reference
    return rule.fixed_start, rule.fixed_end + timedelta(days=1)


# ---------------------------------------------------------------------------------------------------------
# Dynamic parameter values

_DYNAMIC_VALUE = re.compile(
    r"^\s*(?P<base>today|yesterday|slot|window_start|window_end)"
    r"(?:\s*(?P<sign>[+-])\s*(?P<amount>\d{1,4})\s*(?P<unit>[dw]))?\s*$",
    re.IGNORECASE,
)
_DYNAMIC_HELP = (
    "Use today, yesterday, slot, window_start or window_end, optionally followed by + or - a number of "
    "days (d) or weeks (w), for example 'slot-7d'."
)


def is_dynamic_value(text: str) -> bool:
    """Whether a parameter value is a dynamic date expression rather than a literal."""
    return isinstance(text, str) and _DYNAMIC_VALUE.match(text) is not None


def resolve_dynamic_value(expr: str, slot: datetime, tz: str, window: ResolvedWindow | None = None) -> str:
    """Turn a dynamic date expression into a yyyy-MM-dd date string, relative to the slot.

    `today` and `slot` are the slot's local date (no lag applied), `yesterday` the day before it.
    `window_start` is the window's first day and `window_end` its last day (included), so both can be
    used with inclusive SQL comparisons.
    """
    match = _DYNAMIC_VALUE.match(expr) if isinstance(expr, str) else None
    if match is None:
        raise ScheduleTimingError("parameters", f"'{expr}' is not a date expression. {_DYNAMIC_HELP}")
    base = match["base"].lower()
    if base.startswith("window") and window is None:
        raise ScheduleTimingError("parameters", f"'{expr}' needs a date window, and this schedule has none.")
    if base == "window_start":
        day = window.first_day
    elif base == "window_end":
        day = window.last_day
    else:
        day = slot.astimezone(timing.get_zone(tz)).date()
        if base == "yesterday":
            day -= timedelta(days=1)
    if match["sign"]:
        days = int(match["amount"]) * (7 if match["unit"].lower() == "w" else 1)
        day += timedelta(days=days if match["sign"] == "+" else -days)
    return day.isoformat()
