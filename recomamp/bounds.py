"""The one range of dates and numbers every form, parameter and command accepts (docs/reliability.md, Security).

Dates outside 2000-01-01..2100-12-31 are typing mistakes (AMC has no data before its launch, and the year 9999
overflows the window arithmetic); integers outside a signed 64-bit range cannot be sent to AMC. Each
check raises Django's ValidationError (a ValueError for commands) with the reason, before any arithmetic.
"""

from datetime import date, datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError

EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)
AMC_RETENTION = timedelta(days=396)  # AMC keeps about 13 months of events: older windows come back empty
MIN_INTEGER, MAX_INTEGER = -(2**63), 2**63 - 1
MAX_INTEGER_DIGITS = 20  # checked before int(), which refuses more than 4,300 digits with a ValueError


def date_problem(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        return f"Choose a date between {EARLIEST_DATE:%Y-%m-%d} and {LATEST_DATE:%Y-%m-%d}."
    return None


def within_supported_dates(value) -> None:
    """A form field validator (runs in the field's clean, before any form-level date arithmetic)."""
    problem = date_problem(value)
    if problem:
        raise ValidationError(problem, code="date_out_of_range")


def check_date(value):
    """For commands: the value, or ValueError with the reason."""
    problem = date_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def beyond_retention(start: date, today: date) -> bool:
    return start < today - AMC_RETENTION


def integer_problem(text: str) -> str | None:
    digits = text.strip().lstrip("+-")
    if len(digits) > MAX_INTEGER_DIGITS:
        return f"A number may have at most {MAX_INTEGER_DIGITS} digits."
    try:
        number = int(text)
    except ValueError:
        return "Enter a whole number."
    if not MIN_INTEGER <= number <= MAX_INTEGER:
        return f"Enter a number between {MIN_INTEGER:,} and {MAX_INTEGER:,}."
    return None


def bounded_int(value, default: int, low: int = 1, high: int = 1_000_000) -> int:
    """A query-string number (page, step): the default when missing or unreadable, clamped to [low, high]."""
    text = str(value or "").strip()
    if not text or len(text) > MAX_INTEGER_DIGITS:
        return default
    try:
        return min(high, max(low, int(text)))
    except ValueError:
        return default



class BoundedDateField(forms.DateField):
    """A DateField that refuses dates outside the supported range with the reason, as a field error."""

    default_validators = [within_supported_dates]
