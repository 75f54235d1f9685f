"""Date windows computed from the slot, in the schedule's zone, shifted by the data lag; dynamic values."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from recomamp.amc.records import TimeWindow
from schedules.timing import ScheduleTimingError
from schedules.windows import (
    DEFAULT_LAG_DAYS,
    ResolvedWindow,
    WindowKind,
    WindowRule,
    is_dynamic_value,
    resolve_dynamic_value,
    resolve_window,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def days_of(window: ResolvedWindow) -> tuple[date, date]:
    return window.first_day, window.last_day


def test_default_lag_is_the_48_hour_sla():
    assert WindowRule(kind="previous_day").lag_days == DEFAULT_LAG_DAYS == 2


@pytest.mark.parametrize(("lag", "day"), [(0, date(2026, 3, 9)), (1, date(2026, 3, 8)), (2, date(2026, 3, 7))])
def test_previous_day_shifts_back_by_the_lag(lag, day):
    window = resolve_window(WindowRule(kind="previous_day", lag_days=lag), utc(2026, 3, 10, 6), "UTC")
    assert days_of(window) == (day, day)
    assert window.end_local - window.start_local == timedelta(days=1)


def test_last_n_days_ends_before_the_lagged_reference_day():
    window = resolve_window(WindowRule(kind="last_n_days", n_days=7), utc(2026, 3, 10, 6), "UTC")
    assert days_of(window) == (date(2026, 3, 1), date(2026, 3, 7))
    assert window.end_local == datetime(2026, 3, 8)  # exclusive end: the midnight after the last day


@pytest.mark.parametrize("slot_day", [date(2026, 6, 8) + timedelta(days=n) for n in range(7)])
@pytest.mark.parametrize(("kind", "first_weekday"), [("previous_week_mon", 0), ("previous_week_sun", 6)])
def test_previous_week_is_the_last_complete_week_before_the_reference_day(slot_day, kind, first_weekday):
    rule = WindowRule(kind=kind, lag_days=2)
    window = resolve_window(rule, datetime.combine(slot_day, datetime.min.time(), tzinfo=UTC), "UTC")
    reference = slot_day - timedelta(days=2)
    assert window.first_day.weekday() == first_weekday
    assert window.last_day - window.first_day == timedelta(days=6)
    # Complete, and the latest such week: it ends before the reference day, and the next one would not.
    assert window.last_day < reference <= window.last_day + timedelta(days=7)


def test_previous_week_examples():
    slot = utc(2026, 6, 10, 6)  # Wednesday; reference day Monday 2026-06-08
    assert days_of(resolve_window(WindowRule(kind="previous_week_mon"), slot, "UTC")) == (
        date(2026, 6, 1),
        date(2026, 6, 7),
    )
    assert days_of(resolve_window(WindowRule(kind="previous_week_sun"), slot, "UTC")) == (
        date(2026, 5, 31),
        date(2026, 6, 6),
    )


@pytest.mark.parametrize(
    ("slot", "first", "last"),
    [
        (utc(2026, 3, 3, 6), date(2026, 2, 1), date(2026, 2, 28)),  # reference day 1 March
        (utc(2026, 3, 2, 6), date(2026, 1, 1), date(2026, 1, 31)),  # reference day still in February
        (utc(2028, 3, 5, 6), date(2028, 2, 1), date(2028, 2, 29)),  # leap year
        (utc(2027, 1, 10, 6), date(2026, 12, 1), date(2026, 12, 31)),  # across the year end
    ],
)
def test_previous_month(slot, first, last):
    assert days_of(resolve_window(WindowRule(kind="previous_month"), slot, "UTC")) == (first, last)


def test_month_to_date_runs_from_the_first_to_before_the_reference_day():
    window = resolve_window(WindowRule(kind="month_to_date"), utc(2026, 5, 20, 6), "UTC")
    assert days_of(window) == (date(2026, 5, 1), date(2026, 5, 17))


def test_month_to_date_on_the_first_covers_the_month_just_finished():
    window = resolve_window(WindowRule(kind="month_to_date"), utc(2026, 5, 3, 6), "UTC")  # reference 1 May
    assert days_of(window) == (date(2026, 4, 1), date(2026, 4, 30))


def test_same_as_interval_uses_the_schedules_interval():
    window = resolve_window(WindowRule(kind="same_as_interval"), utc(2026, 5, 20, 6), "UTC", interval_days=14)
    assert days_of(window) == (date(2026, 5, 4), date(2026, 5, 17))
    with pytest.raises(ScheduleTimingError, match="every N days"):
        resolve_window(WindowRule(kind="same_as_interval"), utc(2026, 5, 20, 6), "UTC")


def test_fixed_window_includes_its_end_date_and_ignores_the_lag():
    rule = WindowRule(kind="fixed", fixed_start=date(2026, 1, 1), fixed_end=date(2026, 1, 31), lag_days=5)
    window = resolve_window(rule, utc(2026, 9, 1), "Europe/Paris")
    assert days_of(window) == (date(2026, 1, 1), date(2026, 1, 31))
    assert window.end_local == datetime(2026, 2, 1)


# --- zones -----------------------------------------------------------------------------------------------


def test_window_follows_the_slots_local_date_not_its_utc_date():
    slot = utc(2026, 3, 10, 3)  # 2026-03-09 20:00 in Los Angeles
    la = resolve_window(WindowRule(kind="previous_day", lag_days=0), slot, "America/Los_Angeles")
    sydney = resolve_window(WindowRule(kind="previous_day", lag_days=0), slot, "Australia/Sydney")  # 14:00 on the 10th
    assert days_of(la) == (date(2026, 3, 8), date(2026, 3, 8))
    assert days_of(sydney) == (date(2026, 3, 9), date(2026, 3, 9))


def test_utc_bounds_are_local_midnights_and_follow_dst():
    rule = WindowRule(kind="last_n_days", n_days=7, lag_days=0)
    window = resolve_window(rule, utc(2026, 3, 12, 15), "America/Los_Angeles")  # spans 8 March
    assert (window.start_local, window.end_local) == (datetime(2026, 3, 5), datetime(2026, 3, 12))
    assert window.start_utc == utc(2026, 3, 5, 8)  # PST midnight
    assert window.end_utc == utc(2026, 3, 12, 7)  # PDT midnight
    assert window.end_utc - window.start_utc == timedelta(days=7, hours=-1)


def test_missing_midnight_maps_to_the_first_valid_instant():
    # Santiago springs forward at midnight on 6 September 2026: 00:00 becomes 01:00.
    rule = WindowRule(kind="previous_day", lag_days=0)
    window = resolve_window(rule, utc(2026, 9, 7, 15), "America/Santiago")
    assert window.start_local == datetime(2026, 9, 6)
    assert window.start_utc == utc(2026, 9, 6, 4)
    assert window.start_utc.astimezone(ZoneInfo("America/Santiago")).hour == 1


def test_amc_time_window_sends_local_times_without_a_zone_suffix():
    # The run's window travels as UTC bounds plus the zone (schedules.services.submit_run), and the request
    # body shows it in local time, as AMC expects.
    window = resolve_window(WindowRule(kind="last_n_days", n_days=7), utc(2026, 3, 10, 6), "America/New_York")
    assert TimeWindow("EXPLICIT", window.start_utc, window.end_utc, "America/New_York").to_body() == {
        "timeWindowType": "EXPLICIT",
        "timeWindowStart": "2026-03-01T00:00:00",
        "timeWindowEnd": "2026-03-08T00:00:00",
        "timeWindowTimeZone": "America/New_York",
    }


def test_window_record_for_the_run():
    window = resolve_window(WindowRule(kind="previous_day", lag_days=0), utc(2026, 7, 2, 6), "Europe/London")
    assert window.as_json() == {
        "start_local": "2026-07-01T00:00:00",
        "end_local": "2026-07-02T00:00:00",
        "start_utc": "2026-06-30T23:00:00+00:00",
        "end_utc": "2026-07-01T23:00:00+00:00",
        "tz": "Europe/London",
    }


# --- rules from JSON and validation ---------------------------------------------------------------------


def test_rule_from_schedule_json():
    rule = WindowRule.from_json({"kind": "fixed", "fixed_start": "2026-01-01", "fixed_end": "2026-01-07"}, lag_days=3)
    assert rule == WindowRule(
        kind=WindowKind.FIXED, fixed_start=date(2026, 1, 1), fixed_end=date(2026, 1, 7), lag_days=3
    )
    assert WindowRule.from_json({"kind": "last_n_days", "n_days": 30}).n_days == 30


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "yesterday-ish"}, "window_rule"),
        ({"kind": "last_n_days"}, "window_rule"),
        ({"kind": "last_n_days", "n_days": 400}, "window_rule"),
        ({"kind": "fixed", "fixed_start": date(2026, 1, 1)}, "window_rule"),
        ({"kind": "fixed", "fixed_start": date(2026, 2, 1), "fixed_end": date(2026, 1, 1)}, "window_rule"),
        ({"kind": "previous_day", "lag_days": -1}, "lag_days"),
        ({"kind": "previous_day", "lag_days": 91}, "lag_days"),
    ],
)
def test_invalid_rules_are_rejected(kwargs, field):
    with pytest.raises(ScheduleTimingError) as caught:
        WindowRule(**kwargs)
    assert caught.value.field == field


def test_bad_fixed_dates_in_json_are_rejected():
    with pytest.raises(ScheduleTimingError, match="2026-01-31"):
        WindowRule.from_json({"kind": "fixed", "fixed_start": "01/02/2026", "fixed_end": "2026-01-07"})


# --- dynamic values -------------------------------------------------------------------------------------

SLOT = utc(2026, 3, 10, 3)  # 2026-03-09 in New York


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("today", "2026-03-09"),
        ("slot", "2026-03-09"),
        ("yesterday", "2026-03-08"),
        ("slot-7d", "2026-03-02"),
        ("slot-1d", "2026-03-08"),
        ("today + 1w", "2026-03-16"),
        (" SLOT - 30D ", "2026-02-07"),
    ],
)
def test_dynamic_values_are_relative_to_the_slot_in_its_zone(expr, value):
    assert resolve_dynamic_value(expr, SLOT, "America/New_York") == value


def test_window_values_are_its_first_and_last_included_days():
    window = resolve_window(WindowRule(kind="last_n_days", n_days=7), SLOT, "America/New_York")
    assert resolve_dynamic_value("window_start", SLOT, "America/New_York", window) == "2026-02-28"
    assert resolve_dynamic_value("window_end", SLOT, "America/New_York", window) == "2026-03-06"
    assert resolve_dynamic_value("window_start-14d", SLOT, "America/New_York", window) == "2026-02-14"


def test_window_values_need_a_window():
    with pytest.raises(ScheduleTimingError, match="needs a date window"):
        resolve_dynamic_value("window_end", SLOT, "UTC")


@pytest.mark.parametrize("expr", ["now", "slot-7", "slot-7m", "slot*2", "2026-03-01", "", "slot -- 1d"])
def test_bad_dynamic_values_get_a_plain_error(expr):
    with pytest.raises(ScheduleTimingError, match="not a date expression") as caught:
        resolve_dynamic_value(expr, SLOT, "UTC")
    assert caught.value.field == "parameters"
    assert not is_dynamic_value(expr)


def test_is_dynamic_value():
    assert is_dynamic_value("slot-7d") and is_dynamic_value("window_start")
    assert not is_dynamic_value("campaign_a") and not is_dynamic_value(7)
