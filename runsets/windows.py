"""The windows of a run set: whole local days in a zone, start included, end excluded (as schedules send them).

A generator is a period (day, ISO week, calendar month, N days) and either a date range or "the last N periods".
Windows never reach past the *reference day* (today minus the data lag; AMC's SLA is 48 hours): a period that
is not complete by then is left out, so a backfill never stores a half-filled week.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from schedules import timing

MAX_WINDOWS = 104
MAX_INSTANCES = 50
MAX_LAG_DAYS = 90


class WindowError(ValueError):
    """The generator cannot produce windows; the message is for the analyst."""


@dataclass(frozen=True)
class Window:
    first_day: date
    end_day: date  # excluded
    start_utc: datetime
    end_utc: datetime

    @property
    def last_day(self) -> date:
        return self.end_day - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.first_day == self.last_day:
            return self.first_day.isoformat()
        return f"{self.first_day.isoformat()} – {self.last_day.isoformat()}"


def period_start(day: date, period: str, n_days: int | None = None, anchor: date | None = None) -> date:
    """The first day of the period containing `day`."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "n_days":
        anchor = anchor or date(1970, 1, 5)  # a Monday: chunks of 7 then line up with ISO weeks
        return day - timedelta(days=(day - anchor).days % n_days)
    raise WindowError(f"Unknown period {period!r}.")


def next_start(start: date, period: str, n_days: int | None = None) -> date:
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    if period == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=n_days)


def generate(
    *,
    period: str,
    tz: str,
    today: date,
    lag_days: int = 2,
    n_days: int | None = None,
    start: date | None = None,
    end: date | None = None,
    last: int | None = None,
) -> list[Window]:
    """Windows oldest first. Either `start`..`end` (both included; whole periods touching them) or `last` N."""
    if period == "n_days" and not (n_days and 1 <= n_days <= 366):
        raise WindowError("Choose a number of days between 1 and 366.")
    if not 0 <= lag_days <= MAX_LAG_DAYS:
        raise WindowError(f"The data lag must be between 0 and {MAX_LAG_DAYS} days.")
    zone = timing.get_zone(tz)
    reference = today - timedelta(days=lag_days)  # the first day not yet complete
    anchor = start if period == "n_days" and start else None
    if last is not None:
        if not 1 <= last <= MAX_WINDOWS:
            raise WindowError(f"Choose between 1 and {MAX_WINDOWS} periods.")
        starts = _last_starts(period, n_days, reference, last)
    else:
        if start is None or end is None:
            raise WindowError("Choose a start date and an end date, or a number of recent periods.")
        if end < start:
            raise WindowError("The end date is before the start date.")
        starts = []
        cursor = period_start(start, period, n_days, anchor)
        while cursor <= end and len(starts) <= MAX_WINDOWS:
            starts.append(cursor)
            cursor = next_start(cursor, period, n_days)
    windows = []
    for first in starts:
        end_day = next_start(first, period, n_days)
        if end_day > reference:
            continue  # not complete yet (data lag)
        windows.append(_window(first, end_day, zone))
    if len(windows) > MAX_WINDOWS:
        raise WindowError(f"That is {len(windows)} windows; a run set holds at most {MAX_WINDOWS}.")
    if not windows:
        raise WindowError("No complete period in that range yet (mind the data lag).")
    return windows


def _last_starts(period: str, n_days: int | None, reference: date, last: int) -> list[date]:
    """Starts of the last `last` complete periods before the reference day."""
    cursor = period_start(reference, period, n_days)  # the period holding the reference day is incomplete
    starts = []
    for _ in range(last):
        cursor = _previous_start(cursor, period, n_days)
        starts.append(cursor)
    return sorted(starts)


def _previous_start(start: date, period: str, n_days: int | None) -> date:
    if period == "month":
        return (start - timedelta(days=1)).replace(day=1)
    return start - timedelta(days={"day": 1, "week": 7}.get(period) or n_days)


def explicit(first: date, last: date, tz: str) -> Window:
    """One window of whole local days, `first` to `last` included (a fan-out's single window)."""
    if last < first:
        raise WindowError("The last day must not be before the first day.")
    return _window(first, last + timedelta(days=1), timing.get_zone(tz))


def _window(first: date, end_day: date, zone) -> Window:
    return Window(
        first_day=first,
        end_day=end_day,
        start_utc=timing.wall_time_to_utc(datetime.combine(first, datetime.min.time()), zone),
        end_utc=timing.wall_time_to_utc(datetime.combine(end_day, datetime.min.time()), zone),
    )
