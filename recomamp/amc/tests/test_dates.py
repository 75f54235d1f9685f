import re
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from recomamp.amc.dates import format_amc_timestamp, parse_amc_timestamp

REQUEST_SHAPE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"


def test_naive_datetime_is_written_unchanged_without_zone_or_fraction():
    value = datetime(2025, 7, 15, 6, 30, 15, 999_999)
    assert format_amc_timestamp(value) == "2025-07-15T06:30:15"
    assert format_amc_timestamp(value, "America/New_York") == "2025-07-15T06:30:15"


def test_aware_datetime_is_converted_to_utc_by_default():
    riga = datetime(2025, 7, 15, 3, 0, tzinfo=ZoneInfo("Europe/Riga"))  # UTC+3 in summer
    assert format_amc_timestamp(riga) == "2025-07-15T00:00:00"
    assert format_amc_timestamp(datetime(2025, 7, 15, tzinfo=UTC)) == "2025-07-15T00:00:00"


def test_aware_datetime_is_converted_to_the_zone_sent_with_the_request():
    instant = datetime(2025, 1, 15, 5, 0, tzinfo=UTC)
    assert format_amc_timestamp(instant, "America/New_York") == "2025-01-15T00:00:00"  # EST, UTC-5
    summer = datetime(2025, 7, 15, 4, 0, tzinfo=UTC)
    assert format_amc_timestamp(summer, ZoneInfo("America/New_York")) == "2025-07-15T00:00:00"  # EDT


def test_date_means_midnight():
    assert format_amc_timestamp(date(2024, 2, 29)) == "2024-02-29T00:00:00"


@pytest.mark.parametrize(
    "value",
    [datetime(2025, 3, 30, 1, 0, tzinfo=ZoneInfo("Europe/London")), datetime(2025, 3, 30), date(2025, 3, 30)],
)
def test_formatted_value_never_carries_a_suffix(value):
    text = format_amc_timestamp(value)
    assert not text.endswith("Z") and "+" not in text
    assert re.match(REQUEST_SHAPE, text)


def test_format_rejects_unknown_zone_and_wrong_type():
    with pytest.raises(ValueError, match="Unknown time zone"):
        format_amc_timestamp(datetime(2025, 1, 1, tzinfo=UTC), "Mars/Olympus")
    with pytest.raises(TypeError):
        format_amc_timestamp("2025-01-01T00:00:00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-08-16T04:12:53Z", datetime(2023, 8, 16, 4, 12, 53, tzinfo=UTC)),
        ("2023-08-16T04:12:53.120Z", datetime(2023, 8, 16, 4, 12, 53, 120_000, tzinfo=UTC)),
        ("2023-08-16T06:12:53+02:00", datetime(2023, 8, 16, 4, 12, 53, tzinfo=UTC)),
        ("2023-08-16T04:12:53", datetime(2023, 8, 16, 4, 12, 53, tzinfo=UTC)),
    ],
)
def test_parse_response_timestamps_to_aware_datetimes(text, expected):
    parsed = parse_amc_timestamp(text)
    assert parsed.tzinfo is not None
    assert parsed == expected


def test_parse_keeps_the_offset_it_was_given():
    parsed = parse_amc_timestamp("2023-08-16T06:12:53+02:00")
    assert parsed.utcoffset() == timedelta(hours=2)


def test_parse_reads_zoneless_values_in_the_given_default_zone():
    parsed = parse_amc_timestamp("2022-09-20T00:00:00", default_zone="America/New_York")
    assert parsed.astimezone(UTC) == datetime(2022, 9, 20, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["yesterday", "", "2023-13-01T00:00:00"])
def test_parse_rejects_garbage(bad):
    with pytest.raises(ValueError):
        parse_amc_timestamp(bad)


def test_round_trip_from_response_to_request():
    instant = parse_amc_timestamp("2022-09-20T04:00:00Z")
    assert format_amc_timestamp(instant, "America/New_York") == "2022-09-20T00:00:00"
    assert format_amc_timestamp(instant.astimezone(timezone(timedelta(hours=9)))) == "2022-09-20T04:00:00"
