"""Timestamps in the two shapes AMC uses.

Requests (``timeWindowStart``/``End``, ``minCreationTime``, ...) must be ``yyyy-MM-ddTHH:mm:ss``: no zone
suffix, no offset, no fraction. The zone travels separately (``timeWindowTimeZone`` or ``timeZone``, UTC when
absent); AMC returned empty results when a ``Z`` was appended.

Responses carry UTC instants with ``Z`` (sometimes with milliseconds); the ``*Original`` echo fields
have no zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REQUEST_FORMAT = "%Y-%m-%dT%H:%M:%S"


def to_zone(zone: str | tzinfo) -> tzinfo:
    """Turn an IANA zone name into a tzinfo; pass tzinfo objects through."""
    if isinstance(zone, tzinfo):
        return zone
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"Unknown time zone {zone!r}") from exc


def format_amc_timestamp(value: datetime | date, zone: str | tzinfo | None = None) -> str:
    """Format ``value`` for an AMC request as ``yyyy-MM-ddTHH:mm:ss``.

    - A naive datetime is taken to be wall-clock time already in the zone sent with the request; it is
      written unchanged.
    - An aware datetime is converted to ``zone`` (pass the same zone you send as ``timeWindowTimeZone`` /
      ``timeZone``), or to UTC when ``zone`` is None, which is what AMC assumes without a zone.
    - A date means midnight of that day.

    Fractions of a second are dropped, since AMC rejects them.
    """
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(to_zone(zone) if zone is not None else UTC)
        return value.strftime(REQUEST_FORMAT)
    if isinstance(value, date):
        return value.strftime("%Y-%m-%dT00:00:00")
    raise TypeError(f"Expected a datetime or date, got {type(value).__name__}")


def off_the_hour(name: str, value: datetime | date, zone: str | tzinfo | None) -> str:
    """Why AMC would refuse ``value`` as a window bound ("" if it is fine): AMC accepts only whole hours.

    Checked on the wall-clock time in ``zone``, which is what AMC reads (a whole UTC hour is 05:30 in India).
    """
    text = format_amc_timestamp(value, zone)
    if isinstance(value, datetime) and (text[-5:] != "00:00" or value.microsecond):
        hour = text[11:13]
        return (
            f"AMC accepts only whole hours: the {name} {text[11:]} is not on the hour "
            f"(use {hour}:00:00 or the hour after)."
        )
    return ""


def parse_amc_timestamp(value: str, default_zone: str | tzinfo = UTC) -> datetime:
    """Parse a timestamp from an AMC response into an aware datetime.

    Accepts a ``Z`` suffix, a numeric offset, or no zone at all; a value without a zone is read in
    ``default_zone`` (UTC, which is right for every AMC response field except the ``*Original`` echoes).
    """
    if not isinstance(value, str):
        raise ValueError(f"Expected a timestamp string, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(f"Not an AMC timestamp: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=to_zone(default_zone))
    return parsed
