"""Cron evaluation in IANA time zones, with a stated daylight-saving policy.

Instants go in and come out as aware UTC datetimes. A cron expression (five fields: minute, hour,
day of month, month, day of week) is matched against the *wall-clock readings* of the schedule's zone,
and each matching reading is turned into UTC instants as follows:

* A reading that exists exactly once fires at that instant.
* A reading that does not exist (skipped by a spring-forward transition) fires once, at the first valid
  instant after the gap. In New York on 2026-03-08, ``30 2 * * *`` fires at 03:00 EDT. Several skipped
  readings (``*/15 * * * *`` matches 02:00, 02:15, ...) collapse into that one instant, which they also
  share with a reading that matches the end of the gap (03:00).
* A reading that occurs twice (repeated by a fall-back transition) fires once, at its first occurrence
  (fold=0). In Riga on 2026-10-25, ``30 3 * * *`` fires at 03:30 EEST only.
* Exception for hourly and finer clocks: when the hour field matches all 24 hours (``0 * * * *``,
  ``*/15 * * * *``), a repeated reading fires at both occurrences, because they are distinct real hours
  and such a schedule means "every hour", not "at this time of day". ``0 * * * *`` in New York on
  2026-11-01 fires at 01:00 EDT and again at 01:00 EST (25 runs that day). Any expression that names its
  hours (``30 1 * * *``, ``0 1-3 * * *``, ``0 */2 * * *``) fires a repeated reading once.

Every distinct instant fires at most once, and slots are strictly increasing.
croniter (7.0) is only asked about naive wall-clock readings, because with aware datetimes it fires a
fixed time twice on fall-back days.
"""

import copy
import functools
import heapq
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import TZPATH, ZoneInfo, available_timezones

from croniter import CroniterBadDateError, CroniterError, croniter

# How far ahead we look for a next run before calling an expression one that never fires.
HORIZON_YEARS = 5
# DST shifts are at most two hours; looking this far back catches the second copy of a repeated hour.
_DST_LOOKBACK = timedelta(hours=3)

_CRON_FIELD_ERROR = "Use five fields: minute, hour, day of month, month and day of week (e.g. '0 6 * * *')."


class ScheduleTimingError(ValueError):
    """A schedule's timing settings are unusable. `field` names the model field to blame."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def get_zone(tz: str) -> ZoneInfo:
    """Return the IANA zone called `tz`, or raise ScheduleTimingError on the `timezone` field."""
    if not _zone_file(tz) and tz not in _known_zones():
        raise ScheduleTimingError(
            "timezone",
            f"Unknown time zone '{tz}'. Use an IANA name such as 'Europe/London' or 'America/New_York'.",
        )
    return ZoneInfo(tz)


@functools.lru_cache(maxsize=1024)
def _zone_file(tz: str) -> bool:
    """True when `tz` is certainly in `available_timezones()`: a TZif file reached from a zoneinfo root without
    symlinked folders, outside its right/ and posix/ copies, not 'posixrules'. Listing every zone walks the whole
    tree (~100 ms, once per process: a fresh dispatcher process paid it on its first claim); this reads one file.
    False sends the name to the full list."""
    if not tz or tz == "posixrules" or tz.split("/", 1)[0] in ("right", "posix"):
        return False
    if os.path.isabs(tz) or os.path.normpath(tz) != tz:
        return False
    for root in TZPATH:
        path = os.path.join(root, tz)
        folder = os.path.join(os.path.realpath(root), os.path.dirname(tz)).rstrip("/")  # os.walk skips links
        if os.path.isfile(path) and os.path.realpath(os.path.dirname(path)) == folder:
            with open(path, "rb") as file:
                if file.read(4) == b"TZif":
                    return True
    return False


@functools.cache
def _known_zones() -> frozenset[str]:
    # Checking against the tz database's list also refuses files that are not zones ('zone.tab').
    return frozenset(available_timezones())


def parse_cron(cron: str) -> croniter:
    """Parse a five-field cron expression, rejecting forms whose slots are not deterministic.

    Parsing is the expensive part of croniter, so the parsed expression is cached and each caller gets its own
    shallow copy (croniter rebinds, never mutates, the parsed fields when it moves its position).
    """
    return copy.copy(_parse_cron(cron or ""))


@functools.lru_cache(maxsize=1024)
def _parse_cron(cron: str) -> croniter:
    fields = (cron or "").split()
    if len(fields) != 5:
        raise ScheduleTimingError("cron_expression", f"'{cron}' is not a cron expression. {_CRON_FIELD_ERROR}")
    # croniter's hashed (H) and random (R) fields would make slots depend on an id or on chance.
    if any(re.search(r"\b[HR]\b", field, re.IGNORECASE) for field in fields):
        raise ScheduleTimingError("cron_expression", "Hashed (H) and random (R) cron fields are not supported.")
    try:
        return croniter(" ".join(fields), datetime(2000, 1, 1), max_years_between_matches=HORIZON_YEARS)
    except CroniterError as err:
        raise ScheduleTimingError("cron_expression", f"'{cron}' is not a valid cron expression ({err}).") from None


def validate_cron(cron: str, tz: str) -> None:
    """Raise ScheduleTimingError unless `cron` parses, `tz` exists and the expression ever fires."""
    get_zone(tz)
    parsed = parse_cron(cron)
    # Wall-clock readings map to instants whatever the zone, so firing is a calendar question.
    parsed.set_current(datetime.now(UTC).replace(tzinfo=None))
    try:
        parsed.get_next(datetime)
    except CroniterBadDateError:
        raise _never_runs(cron) from None


def _never_runs(cron: str) -> ScheduleTimingError:
    return ScheduleTimingError(
        "cron_expression", f"'{cron}' never runs: no matching date within {HORIZON_YEARS} years."
    )


def wall_time_to_utc(wall: datetime, tz: str | ZoneInfo) -> datetime:
    """The UTC instant for a naive wall-clock reading in `tz`, following the module's DST policy."""
    zone = tz if isinstance(tz, ZoneInfo) else get_zone(tz)
    return _reading_instants(wall, zone)[0]


def next_cron_slot(cron: str, tz: str, after: datetime) -> datetime:
    """The first slot of `cron` in zone `tz` strictly after the aware instant `after`, in UTC."""
    return next(_slots_after(cron, get_zone(tz), after))


def upcoming(cron: str, tz: str, after: datetime, count: int) -> list[datetime]:
    """The next `count` slots strictly after `after`, earliest first."""
    slots = _slots_after(cron, get_zone(tz), after)
    return [next(slots) for _ in range(count)]


def slots_between(cron: str, tz: str, start: datetime, end: datetime, limit: int = 1000) -> list[datetime]:
    """Slots with start <= slot <= end (both inclusive), earliest first, at most `limit` of them."""
    found: list[datetime] = []
    for slot in _slots_after(cron, get_zone(tz), start - timedelta(microseconds=1)):
        if slot > end or len(found) >= limit:
            break
        found.append(slot)
    return found


def _slots_after(cron: str, zone: ZoneInfo, after: datetime) -> Iterator[datetime]:
    """Yield the slots strictly after `after`, in increasing order, forever."""
    if after.tzinfo is None:
        raise ValueError("`after` must be an aware datetime")
    readings = parse_cron(cron)
    hours = readings.expanded[1]
    every_hour = hours == ["*"] or set(hours) == set(range(24))
    readings.set_current(_search_start(zone, after))

    # A reading's first instant never decreases from one reading to the next; a second occurrence lies
    # at most one fold later. So once a first instant is known, nothing earlier can still turn up.
    pending: list[datetime] = []
    last = after
    while True:
        try:
            reading = readings.get_next(datetime)
        except CroniterBadDateError:
            raise _never_runs(cron) from None
        first, second = _reading_instants(reading, zone)
        heapq.heappush(pending, first)
        if second is not None and every_hour:
            heapq.heappush(pending, second)
        while pending and pending[0] <= first:
            instant = heapq.heappop(pending)
            if instant > last:
                last = instant
                yield instant


def _search_start(zone: ZoneInfo, after: datetime) -> datetime:
    """The naive wall-clock reading to start matching from."""
    offsets = {(after + delta).astimezone(zone).utcoffset() for delta in (-_DST_LOOKBACK, _DST_LOOKBACK)}
    offsets.add(after.astimezone(zone).utcoffset())
    # Near a transition, readings before `after`'s own reading may still map to later instants.
    start = after - _DST_LOOKBACK if len(offsets) > 1 else after
    return start.astimezone(zone).replace(tzinfo=None)


def _reading_instants(reading: datetime, zone: ZoneInfo) -> tuple[datetime, datetime | None]:
    """(first instant, second instant or None) at which a naive wall-clock reading occurs in `zone`."""
    early = reading.replace(tzinfo=zone, fold=0).astimezone(UTC)
    late = reading.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if early == late:
        return early, None
    if early < late:
        return early, late  # repeated reading (fall back)
    # Skipped reading: per PEP 495, fold=1 lands before the gap and fold=0 after it.
    return _end_of_gap(reading, zone, before=late, after=early), None


def _end_of_gap(reading: datetime, zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The first instant whose wall-clock reading is at or past `reading` (the transition instant)."""
    low, high = int(before.timestamp()), int(after.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= reading:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


# ---------------------------------------------------------------------------------------------------------
# Human-readable descriptions

_DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")  # cron numbering
_LAST = "l"  # croniter's marker for `L` in the day-of-month field
_FIELD_RANGES = (range(60), range(24), range(1, 32), range(1, 13), range(7))


def describe_cron(cron: str) -> str:
    """A short English description of a cron expression, with a generic fallback for unusual forms."""
    parsed = parse_cron(cron)
    minutes, hours, days, months, weekdays = (
        _field_values(values, everything) for values, everything in zip(parsed.expanded, _FIELD_RANGES, strict=True)
    )
    fallback = f"Custom schedule (cron: {' '.join(cron.split())})"
    uses_extras = parsed.nth_weekday_of_month or parsed.nearest_weekday  # "5#2", "L5", "15W"
    if uses_extras or months is not None or (days is not None and weekdays is not None):
        return fallback

    clock = _describe_clock(minutes, hours)
    times = _describe_times(minutes, hours)
    if clock is None and times is None:
        return fallback

    if days is not None:
        where = f"on {_describe_month_days(days)} of each month"
        return f"{clock} {where}" if clock else f"{where[0].upper()}{where[1:]} at {times}"
    if weekdays is None:
        return clock or f"Every day at {times}"
    if weekdays == [1, 2, 3, 4, 5]:
        return f"{clock} on weekdays (Mon–Fri)" if clock else f"Every weekday (Mon–Fri) at {times}"
    names = _join([_DAY_NAMES[day] for day in sorted(weekdays, key=lambda day: (day + 6) % 7)])
    return f"{clock} on {names}" if clock else f"At {times} on {names}"


def _field_values(values: list, everything: range) -> list | None:
    """None when a field matches everything, else its sorted values."""
    if values == ["*"] or set(values) == set(everything):
        return None
    return sorted(values, key=lambda value: (isinstance(value, str), value))


def _step(values: list[int], size: int) -> int | None:
    """The step N when `values` is exactly 0, N, 2N, ... covering the whole range."""
    if len(values) < 2 or values[0] != 0:
        return None
    step = values[1]
    return step if size % step == 0 and values == list(range(0, size, step)) else None


def _describe_clock(minutes: list | None, hours: list | None) -> str | None:
    """Phrases for schedules that repeat within the day ("Every 15 minutes"), else None."""
    if hours is not None:
        hour_step = _step(hours, 24)
        if hour_step and minutes is not None and len(minutes) == 1:
            past = f" at minute {minutes[0]}" if minutes[0] else ""
            return f"Every {hour_step} hours{past}"
        return None
    if minutes is None:
        return "Every minute"
    if len(minutes) == 1:
        return f"Every hour at minute {minutes[0]}" if minutes[0] else "Every hour"
    minute_step = _step(minutes, 60)
    return f"Every {minute_step} minutes" if minute_step else None


def _describe_times(minutes: list | None, hours: list | None) -> str | None:
    """ "06:00" or "06:00 and 18:00" for up to four fixed times of day, else None."""
    if minutes is None or hours is None or len(minutes) * len(hours) > 4:
        return None
    return _join([f"{hour:02d}:{minute:02d}" for hour in hours for minute in minutes])


def _describe_month_days(days: list) -> str:
    numbers = [str(day) for day in days if day != _LAST]
    parts = [f"day {_join(numbers)}"] if numbers else []
    if _LAST in days:
        parts.append("the last day")
    return " and ".join(parts)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
