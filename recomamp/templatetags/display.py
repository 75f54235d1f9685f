"""Template filters for recomamp.display: {% load display %} then |duration, |num, |is_number, |in_zone,
|window_text and |window_sent."""

from zoneinfo import ZoneInfo

from django import template
from django.utils import timezone

from recomamp.display import duration, in_zone, is_number, num, window_words

register = template.Library()
register.filter("duration", duration)
register.filter("num", num)
register.filter("is_number", is_number)
register.filter("in_zone", in_zone)


@register.filter
def window_text(execution) -> str:
    """An execution's window in words, in the zone AMC read it in (e.g. "Previous month: Nov 1–30, 2026"),
    naming that zone when it is not the viewer's."""
    zone = execution.time_window_timezone
    text = window_words(
        execution.time_window_type,
        execution.time_window_start,
        execution.time_window_end,
        zone,
        moment=execution.submitted_at or execution.created_at,
    )
    return text if zone == timezone.get_current_timezone_name() else f"{text} ({zone})"


@register.filter
def window_sent(execution) -> str:
    """What was sent to AMC, for the details on demand."""
    body = execution.request_body or {}
    parts = [f"{key}={body[key]}" for key in ("timeWindowType", "timeWindowStart", "timeWindowEnd") if key in body]
    parts.append(f"timeWindowTimeZone={body.get('timeWindowTimeZone', execution.time_window_timezone)}")
    if execution.time_window_start and execution.time_window_end:
        utc = ZoneInfo("UTC")
        start, end = execution.time_window_start.astimezone(utc), execution.time_window_end.astimezone(utc)
        parts.append(f"UTC {start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M}")
    return " · ".join(parts)
