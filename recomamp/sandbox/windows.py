"""The time window of an execution: AMC's request fields resolved to a UTC interval.

Request timestamps are `yyyy-MM-ddTHH:mm:ss` with no zone suffix, read in `timeWindowTimeZone` (default UTC)
and aligned to the hour. Relative window types are computed in that zone from the time of the request:

- MOST_RECENT_DAY (the default): yesterday, midnight to midnight;
- MOST_RECENT_WEEK: the seven days before today;
- CURRENT_MONTH: the first of this month to the first of next month;
- PREVIOUS_MONTH: the whole of last month;
- ALL: from the first of the month 13 months back (AMC's retention) to the first of next month.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from recomamp.bounds import date_problem

from .responses import ApiError

TYPES = ("EXPLICIT", "MOST_RECENT_DAY", "MOST_RECENT_WEEK", "CURRENT_MONTH", "PREVIOUS_MONTH", "ALL")
REQUEST_FORMAT = "%Y-%m-%dT%H:%M:%S"
_REQUEST_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
RETENTION_MONTHS = 13


@dataclass(frozen=True)
class ResolvedWindow:
    type: str
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC
    start_original: str  # wall-clock time in time_zone, request format
    end_original: str
    time_zone: str


def parse_request_time(value: object, name: str) -> datetime:
    """A naive datetime from AMC's request format; anything else (Z, offset, milliseconds) is a 400."""
    if not isinstance(value, str) or not _REQUEST_PATTERN.fullmatch(value):
        raise ApiError(400, f"{name} must have the format yyyy-MM-dd'T'HH:mm:ss (e.g. 2024-05-01T00:00:00).")
    try:
        return datetime.strptime(value, REQUEST_FORMAT)
    except ValueError:
        raise ApiError(400, f"{name} is not a valid date and time: {value}.")


def zone_named(name: object, field: str = "timeWindowTimeZone") -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise ApiError(400, f"{field} must be a time zone name such as America/New_York.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(400, f"{field} is not a known time zone: {name}.")


def resolve(body: dict, now: datetime) -> ResolvedWindow:
    window_type = body.get("timeWindowType") or "MOST_RECENT_DAY"
    if window_type not in TYPES:
        raise ApiError(400, f"timeWindowType must be one of {', '.join(TYPES)}.")
    zone_name = body.get("timeWindowTimeZone") or "UTC"
    zone = zone_named(zone_name)
    if window_type == "EXPLICIT":
        start, end = _explicit(body)
    else:
        start, end = _relative(window_type, now.astimezone(zone).replace(tzinfo=None))
    return ResolvedWindow(
        type=window_type,
        start=start.replace(tzinfo=zone).astimezone(UTC),
        end=end.replace(tzinfo=zone).astimezone(UTC),
        start_original=start.strftime(REQUEST_FORMAT),
        end_original=end.strftime(REQUEST_FORMAT),
        time_zone=zone_name,
    )


def _explicit(body: dict) -> tuple[datetime, datetime]:
    raw_start, raw_end = body.get("timeWindowStart"), body.get("timeWindowEnd")
    if not raw_start or not raw_end:
        raise ApiError(400, "timeWindowStart and timeWindowEnd are both required when timeWindowType is EXPLICIT.")
    start = parse_request_time(raw_start, "timeWindowStart")
    end = parse_request_time(raw_end, "timeWindowEnd")
    for name, value in (("timeWindowStart", start), ("timeWindowEnd", end)):
        if value.minute or value.second:
            raise ApiError(400, f"{name} must be on a full hour (minutes and seconds 00).")
        if date_problem(value):  # the year 9999 would overflow the conversion to UTC
            raise ApiError(400, f"{name}: {date_problem(value)}")
    if end <= start:
        raise ApiError(400, "timeWindowEnd must be later than timeWindowStart.")
    return start, end


def _relative(window_type: str, local_now: datetime) -> tuple[datetime, datetime]:
    today = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    this_month = today.replace(day=1)
    next_month = _add_months(this_month, 1)
    if window_type == "MOST_RECENT_DAY":
        return today - timedelta(days=1), today
    if window_type == "MOST_RECENT_WEEK":
        return today - timedelta(days=7), today
    if window_type == "CURRENT_MONTH":
        return this_month, next_month
    if window_type == "PREVIOUS_MONTH":
        return _add_months(this_month, -1), this_month
    return _add_months(this_month, -RETENTION_MONTHS), next_month


def _add_months(first_of_month: datetime, months: int) -> datetime:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return first_of_month.replace(year=index // 12, month=index % 12 + 1)
