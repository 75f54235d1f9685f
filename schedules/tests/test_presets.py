"""Schedule presets: cron mapping, validation, start/end bounds, every-N-days and last-day-of-month."""

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from schedules.presets import (
    INTERVAL_CHOICES,
    LAST_DAY_OF_MONTH,
    PRESETS,
    Kind,
    ScheduleSpec,
    describe_spec,
    next_slot,
    spec_to_cron,
    upcoming_slots,
)
from schedules.timing import ScheduleTimingError


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def local_days(slots: list[datetime], tz: str) -> list[date]:
    return [slot.astimezone(ZoneInfo(tz)).date() for slot in slots]


def local_clock(slot: datetime, tz: str) -> time:
    return slot.astimezone(ZoneInfo(tz)).time()


def test_every_kind_has_a_preset_whose_fields_exist_on_the_spec():
    assert set(PRESETS) == set(Kind)
    spec_fields = {spec_field.name for spec_field in dataclasses.fields(ScheduleSpec)}
    for preset in PRESETS.values():
        assert preset.label and preset.help_text
        assert set(preset.fields) <= spec_fields


@pytest.mark.parametrize(
    ("spec", "cron"),
    [
        (ScheduleSpec(kind="daily", time_of_day=time(6, 5)), "5 6 * * *"),
        (ScheduleSpec(kind="business_days", time_of_day=time(7)), "0 7 * * 1-5"),
        (ScheduleSpec(kind="weekly", time_of_day=time(9, 30), weekdays=(6, 0, 4)), "30 9 * * 0,1,5"),
        (ScheduleSpec(kind="monthly", time_of_day=time(8), month_days=(15, LAST_DAY_OF_MONTH, 1)), "0 8 1,15,L * *"),
        (ScheduleSpec(kind="cron", cron="  0   6 * * 1 "), "0 6 * * 1"),
    ],
)
def test_spec_to_cron(spec, cron):
    assert spec_to_cron(spec) == cron


def test_interval_preset_has_no_cron():
    spec = ScheduleSpec(kind="interval", time_of_day=time(6), interval_days=7, start_at=utc(2026, 1, 1))
    assert spec_to_cron(spec) is None


def test_daily_preset_runs_every_day_at_local_time():
    tz = "America/Chicago"
    spec = ScheduleSpec(kind="daily", tz=tz, time_of_day=time(6))
    slots = upcoming_slots(spec, utc(2026, 1, 30), 4)
    assert local_days(slots, tz) == [date(2026, 1, 30) + timedelta(days=n) for n in range(4)]
    assert {local_clock(slot, tz) for slot in slots} == {time(6)}


def test_business_days_skip_the_weekend():
    tz = "Europe/Berlin"
    spec = ScheduleSpec(kind="business_days", tz=tz, time_of_day=time(7))
    slots = upcoming_slots(spec, utc(2026, 1, 1), 10)
    assert all(day.weekday() < 5 for day in local_days(slots, tz))
    # Friday 2026-01-02 is followed by Monday 2026-01-05.
    assert local_days(slots, tz)[:3] == [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 5)]


def test_weekly_preset_uses_monday_zero_numbering():
    tz = "Asia/Tokyo"
    spec = ScheduleSpec(kind="weekly", tz=tz, time_of_day=time(9), weekdays=(0, 3))  # Monday and Thursday
    slots = upcoming_slots(spec, utc(2026, 2, 1), 6)
    assert [day.weekday() for day in local_days(slots, tz)] == [0, 3, 0, 3, 0, 3]


def test_monthly_preset_skips_dates_a_month_lacks():
    spec = ScheduleSpec(kind="monthly", time_of_day=time(8), month_days=(31,))
    slots = upcoming_slots(spec, utc(2026, 1, 1), 4)
    assert local_days(slots, "UTC") == [date(2026, 1, 31), date(2026, 3, 31), date(2026, 5, 31), date(2026, 7, 31)]


@pytest.mark.parametrize(("year", "february_last"), [(2027, 28), (2028, 29)])
def test_last_day_of_month_follows_february(year, february_last):
    tz = "Europe/London"
    spec = ScheduleSpec(kind="monthly", tz=tz, time_of_day=time(8), month_days=(LAST_DAY_OF_MONTH,))
    slots = upcoming_slots(spec, datetime(year, 1, 15, tzinfo=UTC), 3)
    assert local_days(slots, tz) == [date(year, 1, 31), date(year, 2, february_last), date(year, 3, 31)]
    assert local_clock(slots[2], tz) == time(8)  # 31 March is already BST


def test_last_day_together_with_fixed_dates():
    spec = ScheduleSpec(kind="monthly", time_of_day=time(0), month_days=(1, LAST_DAY_OF_MONTH))
    slots = upcoming_slots(spec, utc(2027, 2, 1, 12), 3)
    assert local_days(slots, "UTC") == [date(2027, 2, 28), date(2027, 3, 1), date(2027, 3, 31)]


def test_custom_cron_preset():
    spec = ScheduleSpec(kind="cron", cron="0 */12 * * *", tz="UTC")
    assert upcoming_slots(spec, utc(2026, 5, 1, 1), 3) == [utc(2026, 5, 1, 12), utc(2026, 5, 2), utc(2026, 5, 2, 12)]


# --- every N days -------------------------------------------------------------------------------------


@pytest.mark.parametrize("days", INTERVAL_CHOICES)
def test_interval_slots_are_n_local_days_apart_from_the_start_date(days):
    tz = "America/New_York"
    start = datetime(2026, 1, 20, 5, tzinfo=ZoneInfo(tz))
    spec = ScheduleSpec(kind="interval", tz=tz, time_of_day=time(6), interval_days=days, start_at=start)
    slots = upcoming_slots(spec, utc(2025, 12, 1), 6)
    assert local_days(slots, tz) == [date(2026, 1, 20) + timedelta(days=days * k) for k in range(6)]
    assert {local_clock(slot, tz) for slot in slots} == {time(6)}  # through DST changes too


def test_interval_crosses_month_ends_where_cron_would_restart():
    spec = ScheduleSpec(kind="interval", time_of_day=time(6), interval_days=3, start_at=utc(2026, 1, 29))
    slots = upcoming_slots(spec, utc(2026, 1, 1), 4)
    assert local_days(slots, "UTC") == [date(2026, 1, 29), date(2026, 2, 1), date(2026, 2, 4), date(2026, 2, 7)]


def test_interval_skips_an_anchor_day_whose_time_is_before_the_start():
    # Starts at 10:00 on the 31st; 06:00 that day is already past, so the first slot is 30 days later.
    start = datetime(2026, 1, 31, 10, tzinfo=ZoneInfo("America/New_York"))
    spec = ScheduleSpec(kind="interval", tz="America/New_York", time_of_day=time(6), interval_days=30, start_at=start)
    assert local_days(upcoming_slots(spec, utc(2026, 1, 1), 2), spec.tz) == [date(2026, 3, 2), date(2026, 4, 1)]


def test_interval_resumes_from_any_point_on_its_grid():
    spec = ScheduleSpec(kind="interval", time_of_day=time(12), interval_days=14, start_at=utc(2026, 1, 5))
    # Ask from the middle of the 10th period: the next slot is the 11th grid date.
    assert next_slot(spec, utc(2026, 5, 20)) == utc(2026, 1, 5, 12) + timedelta(days=14 * 10)
    assert next_slot(spec, utc(2026, 5, 25, 12)) == utc(2026, 6, 8, 12)


def test_interval_slot_in_the_skipped_hour_fires_at_the_end_of_the_gap():
    tz = "America/New_York"
    spec = ScheduleSpec(
        kind="interval",
        tz=tz,
        time_of_day=time(2, 30),
        interval_days=7,
        start_at=datetime(2026, 3, 1, tzinfo=ZoneInfo(tz)),
    )
    slots = upcoming_slots(spec, utc(2026, 2, 1), 3)
    assert slots[1] == utc(2026, 3, 8, 7)  # 03:00 EDT: 02:30 does not exist that day
    assert local_clock(slots[2], tz) == time(2, 30)


def test_interval_slot_in_the_repeated_hour_fires_once():
    tz = "Australia/Sydney"
    spec = ScheduleSpec(
        kind="interval",
        tz=tz,
        time_of_day=time(2, 30),
        interval_days=3,
        start_at=datetime(2026, 3, 30, tzinfo=ZoneInfo(tz)),
    )
    slots = upcoming_slots(spec, utc(2026, 3, 1), 4)
    assert local_days(slots, tz) == [date(2026, 3, 30) + timedelta(days=3 * k) for k in range(4)]
    assert utc(2026, 4, 4, 15, 30) in slots  # 02:30 AEDT on 5 April, not also 02:30 AEST


# --- start and end -------------------------------------------------------------------------------------


def test_no_slot_before_the_start_and_a_slot_at_the_start_counts():
    spec = ScheduleSpec(kind="daily", time_of_day=time(6), start_at=utc(2026, 4, 10, 6))
    assert next_slot(spec, utc(2026, 1, 1)) == utc(2026, 4, 10, 6)
    later_start = dataclasses.replace(spec, start_at=utc(2026, 4, 10, 6, 1))
    assert next_slot(later_start, utc(2026, 1, 1)) == utc(2026, 4, 11, 6)


def test_no_slot_after_the_end():
    spec = ScheduleSpec(kind="daily", time_of_day=time(6), end_at=utc(2026, 4, 12, 6))
    assert upcoming_slots(spec, utc(2026, 4, 10), 10) == [utc(2026, 4, 10, 6), utc(2026, 4, 11, 6), utc(2026, 4, 12, 6)]
    assert next_slot(spec, utc(2026, 4, 12, 6)) is None


# --- validation and descriptions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "hourly"}, "kind"),
        ({"kind": "daily"}, "time_of_day"),
        ({"kind": "daily", "time_of_day": time(6, 0, 30)}, "time_of_day"),
        ({"kind": "daily", "time_of_day": time(6), "tz": "Europe/Atlantis"}, "timezone"),
        ({"kind": "weekly", "time_of_day": time(6)}, "weekdays"),
        ({"kind": "weekly", "time_of_day": time(6), "weekdays": (7,)}, "weekdays"),
        ({"kind": "monthly", "time_of_day": time(6), "month_days": (0,)}, "month_days"),
        ({"kind": "monthly", "time_of_day": time(6), "month_days": (32,)}, "month_days"),
        ({"kind": "interval", "time_of_day": time(6), "interval_days": 7}, "starts_at"),
        (
            {"kind": "interval", "time_of_day": time(6), "interval_days": 0, "start_at": utc(2026, 1, 1)},
            "interval_days",
        ),
        ({"kind": "cron", "cron": "0 0 30 2 *"}, "cron_expression"),
        ({"kind": "cron", "cron": "every day"}, "cron_expression"),
        ({"kind": "daily", "time_of_day": time(6), "start_at": utc(2026, 2, 1), "end_at": utc(2026, 1, 1)}, "ends_at"),
    ],
)
def test_invalid_specs_name_the_field_at_fault(kwargs, field):
    with pytest.raises(ScheduleTimingError) as caught:
        ScheduleSpec(**kwargs)
    assert caught.value.field == field


def test_choices_are_normalised():
    one = ScheduleSpec(kind="weekly", time_of_day=time(6), weekdays=[4, 0, 0])
    other = ScheduleSpec(kind=Kind.WEEKLY, time_of_day=time(6), weekdays=(0, 4))
    assert one == other and one.weekdays == (0, 4) and one.kind is Kind.WEEKLY


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        (ScheduleSpec(kind="daily", time_of_day=time(6)), "Every day at 06:00"),
        (ScheduleSpec(kind="business_days", time_of_day=time(7)), "Every weekday (Mon–Fri) at 07:00"),
        (
            ScheduleSpec(kind="weekly", time_of_day=time(9, 30), weekdays=(0, 2, 4)),
            "At 09:30 on Monday, Wednesday and Friday",
        ),
        (
            ScheduleSpec(kind="monthly", time_of_day=time(8), month_days=(1, 15)),
            "On day 1 and 15 of each month at 08:00",
        ),
        (
            ScheduleSpec(
                kind="interval", tz="Asia/Tokyo", time_of_day=time(6), interval_days=14, start_at=utc(2026, 1, 4, 20)
            ),
            "Every 14 days at 06:00, counted from 2026-01-05",
        ),
    ],
)
def test_describe_spec(spec, text):
    assert describe_spec(spec) == text
