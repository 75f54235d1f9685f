from datetime import UTC, date, datetime

import pytest

from runsets import windows


def test_last_n_weeks_are_complete_iso_weeks_before_the_lag():
    got = windows.generate(period="week", tz="UTC", today=date(2026, 1, 3), lag_days=2, last=8)
    assert len(got) == 8
    assert all(w.first_day.weekday() == 0 and (w.end_day - w.first_day).days == 7 for w in got)
    assert got[-1].end_day <= date(2026, 1, 1)  # 2026-01-01 is the reference day: not complete
    assert got[-1].first_day == date(2025, 12, 22)
    assert [w.first_day for w in got] == sorted(w.first_day for w in got)


def test_months_between_dates_in_a_zone():
    got = windows.generate(
        period="month", tz="America/New_York", today=date(2026, 6, 1), start=date(2025, 1, 15), end=date(2025, 3, 2)
    )
    assert [w.first_day for w in got] == [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]
    assert got[0].start_utc == datetime(2025, 1, 1, 5, tzinfo=UTC)  # local midnight in New York
    assert got[1].end_day == date(2025, 3, 1)


def test_days_and_n_days():
    days = windows.generate(
        period="day", tz="UTC", today=date(2026, 1, 10), start=date(2026, 1, 1), end=date(2026, 1, 20)
    )
    assert [w.first_day.day for w in days] == [1, 2, 3, 4, 5, 6, 7]  # the 8th is the reference day
    chunks = windows.generate(
        period="n_days", n_days=10, tz="UTC", today=date(2026, 3, 1), start=date(2026, 1, 1), end=date(2026, 1, 25)
    )
    assert [(w.first_day.day, w.last_day.day) for w in chunks] == [(1, 10), (11, 20), (21, 30)]


def test_limits_and_errors():
    with pytest.raises(windows.WindowError, match="104"):
        windows.generate(period="day", tz="UTC", today=date(2026, 1, 1), start=date(2025, 1, 1), end=date(2025, 12, 1))
    with pytest.raises(windows.WindowError, match="No complete period"):
        windows.generate(
            period="month", tz="UTC", today=date(2026, 1, 10), start=date(2026, 1, 1), end=date(2026, 1, 9)
        )
    with pytest.raises(windows.WindowError):
        windows.generate(period="week", tz="UTC", today=date(2026, 1, 1), last=105)
    assert len(windows.generate(period="week", tz="UTC", today=date(2026, 1, 1), last=104)) == 104
