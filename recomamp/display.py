"""How the app shows numbers, durations, time windows and instants: one way everywhere.

Plain functions; templates use them as filters ({% load display %}, recomamp/templatetags/display.py) and forms
use them for labels (e.g. the relative windows' dates in executions/forms.py).
"""

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

RELATIVE_LABELS = {
    "MOST_RECENT_DAY": "Most recent day",
    "MOST_RECENT_WEEK": "Most recent week",
    "CURRENT_MONTH": "Current month",
    "PREVIOUS_MONTH": "Previous month",
}


def duration(value) -> str:
    """A timedelta or seconds as "10 s", "2 min 5 s", "1 h 3 min" (never `0:00:10.070437`)."""
    if value is None or value == "":
        return ""
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _number(value) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def is_number(value) -> bool:
    """A typed numeric value (a text column's "00123" stays text)."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def num(value) -> str:
    """Thousands separators and sensible rounding: integers whole, large values to 2 decimals, small ones to
    4 significant digits. Anything that is not a number comes back as it was."""
    number = _number(value)
    if number is None:
        return value
    if number == number.to_integral_value() and "e" not in str(value).lower() and "." not in str(value):
        return f"{int(number):,}"
    magnitude = abs(number)
    if magnitude >= 1:
        return f"{number:,.2f}"
    if magnitude == 0:
        return "0"
    text = f"{float(number):.4g}"
    return text if "e" not in text else f"{float(number):.2e}"


def _zone(name: str | None):
    try:
        return ZoneInfo(name) if name else timezone.get_current_timezone()
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_zone(value: datetime | None, zone: str | None = None):
    """An aware instant as wall-clock time in an IANA zone (default: the active zone), for display.

    Naive on purpose: Django's `date` filter would otherwise convert an aware value back to the active zone."""
    if not isinstance(value, datetime):
        return value
    return value.astimezone(_zone(zone)).replace(tzinfo=None)


def relative_bounds(window_type: str, moment: datetime, zone: str) -> tuple[date, date] | None:
    """First and last day a relative AMC window reads, as of `moment` in `zone` (AMC's rules, also the
    sandbox's in recomamp/sandbox/windows.py). The last day is inclusive."""
    today = moment.astimezone(_zone(zone)).date()
    this_month = today.replace(day=1)
    if window_type == "MOST_RECENT_DAY":
        return today - timedelta(days=1), today - timedelta(days=1)
    if window_type == "MOST_RECENT_WEEK":
        return today - timedelta(days=7), today - timedelta(days=1)
    if window_type == "CURRENT_MONTH":
        next_month = (this_month + timedelta(days=32)).replace(day=1)
        return this_month, next_month - timedelta(days=1)
    if window_type == "PREVIOUS_MONTH":
        last = this_month - timedelta(days=1)
        return last.replace(day=1), last
    return None


def day_range(first: date, last: date) -> str:
    """ "Nov 1–30, 2026", "Nov 24 – Dec 1, 2026", "Dec 30, 2025 – Jan 5, 2026", "Nov 3, 2026"."""
    if first == last:
        return f"{first:%b} {first.day}, {first.year}"
    if first.year != last.year:
        return f"{first:%b} {first.day}, {first.year} – {last:%b} {last.day}, {last.year}"
    if first.month != last.month:
        return f"{first:%b} {first.day} – {last:%b} {last.day}, {last.year}"
    return f"{first:%b} {first.day}–{last.day}, {last.year}"


def window_words(window_type, start=None, end=None, zone="UTC", moment=None) -> str:
    """One display of a window, in words, with its days in the window's zone."""
    if window_type in RELATIVE_LABELS:
        bounds = relative_bounds(window_type, moment or timezone.now(), zone)
        return f"{RELATIVE_LABELS[window_type]}: {day_range(*bounds)}"
    if not (start and end):
        return ""
    tz = _zone(zone)
    first, last = start.astimezone(tz), end.astimezone(tz)
    whole_days = first.time() == last.time() == datetime.min.time()
    if whole_days:  # the end is exclusive midnight: show the last day read
        return day_range(first.date(), (last - timedelta(days=1)).date())
    return f"{first:%b} {first.day}, {first.year} {first:%H:%M} – {last:%b} {last.day}, {last.year} {last:%H:%M}"


def window_text(execution, viewer_zone: str | None = None) -> str:
    """An execution's window in words, in the zone AMC read it in (e.g. "Previous month: Nov 1–30, 2026"),
    naming that zone when it is not the viewer's (`viewer_zone`, default the active zone's name)."""
    zone = execution.time_window_timezone
    text = window_words(
        execution.time_window_type,
        execution.time_window_start,
        execution.time_window_end,
        zone,
        moment=execution.submitted_at or execution.created_at,
    )
    return text if zone == (viewer_zone or timezone.get_current_timezone_name()) else f"{text} ({zone})"


SENT_WINDOW_KEYS = ("timeWindowType", "timeWindowStart", "timeWindowEnd", "timeWindowTimeZone")


def window_sent(execution, body: dict | None = None) -> str:
    """What was sent to AMC, for the details on demand. `body` holds the request body's SENT_WINDOW_KEYS when
    the caller loaded only those (the executions list: the whole body carries the SQL)."""
    body = (execution.request_body if body is None else body) or {}
    parts = [f"{key}={body[key]}" for key in SENT_WINDOW_KEYS[:3] if key in body]
    parts.append(f"timeWindowTimeZone={body.get('timeWindowTimeZone', execution.time_window_timezone)}")
    if execution.time_window_start and execution.time_window_end:
        utc = ZoneInfo("UTC")
        start, end = execution.time_window_start.astimezone(utc), execution.time_window_end.astimezone(utc)
        parts.append(f"UTC {start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M}")
    return " · ".join(parts)


def window_choice_label(window_type: str, label: str, zone: str) -> str:
    """A run form's window choice with the days it would read now: "Previous month: Nov 1–30, 2026"."""
    if window_type not in RELATIVE_LABELS:
        return label
    return window_words(window_type, zone=zone)
