"""Pure functions of the sandbox (no database): time windows, fault configuration, PKCE."""

import io
from datetime import UTC, datetime

import pytest

from recomamp.amc.lwa import make_pkce_pair
from recomamp.sandbox import auth, faults, windows
from recomamp.sandbox.responses import ApiError

NOW = datetime(2025, 3, 10, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("window_type", "start", "end"),
    [
        ("MOST_RECENT_DAY", "2025-03-09T00:00:00", "2025-03-10T00:00:00"),
        ("MOST_RECENT_WEEK", "2025-03-03T00:00:00", "2025-03-10T00:00:00"),
        ("CURRENT_MONTH", "2025-03-01T00:00:00", "2025-04-01T00:00:00"),
        ("PREVIOUS_MONTH", "2025-02-01T00:00:00", "2025-03-01T00:00:00"),
        ("ALL", "2024-02-01T00:00:00", "2025-04-01T00:00:00"),
    ],
)
def test_relative_windows(window_type, start, end):
    window = windows.resolve({"timeWindowType": window_type}, NOW)
    assert (window.start_original, window.end_original) == (start, end)
    assert window.start == datetime.fromisoformat(start).replace(tzinfo=UTC)


def test_default_window_type_is_most_recent_day():
    assert windows.resolve({}, NOW).type == "MOST_RECENT_DAY"


def test_relative_window_uses_the_time_zone_for_day_boundaries():
    # 15:30 UTC is 04:30 the next day in Auckland (UTC+13 in March).
    window = windows.resolve({"timeWindowType": "MOST_RECENT_DAY", "timeWindowTimeZone": "Pacific/Auckland"}, NOW)
    assert window.start_original == "2025-03-10T00:00:00"
    assert window.start == datetime(2025, 3, 9, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    "value", ["2025-01-01T00:00:00Z", "2025-01-01T00:00:00+01:00", "2025-01-01T00:00:00.000", "2025-01-01", 20250101]
)
def test_request_times_must_use_amc_format(value):
    with pytest.raises(ApiError) as error:
        windows.parse_request_time(value, "timeWindowStart")
    assert error.value.status == 400


def test_explicit_window_must_be_ordered():
    body = {
        "timeWindowType": "EXPLICIT",
        "timeWindowStart": "2025-01-02T00:00:00",
        "timeWindowEnd": "2025-01-01T00:00:00",
    }
    with pytest.raises(ApiError, match="later"):
        windows.resolve(body, NOW)


def test_unknown_fault_setting_is_an_error(settings):
    settings.SANDBOX_FAULTS = {"throttle": 1.0}
    with pytest.raises(ValueError, match="throttle"):
        faults.settings_faults()


def test_fault_bands_pick_one_fault_per_draw(monkeypatch):
    config = faults.FaultConfig(throttle_rate=0.25, server_error_rate=0.25)
    outcomes = []
    for draw in (0.1, 0.3, 0.9):
        monkeypatch.setattr(faults, "_draw", lambda _config, value=draw: value)
        try:
            faults.inject(config)
            outcomes.append(200)
        except ApiError as error:
            outcomes.append(error.status)
    assert outcomes == [429, 500, 200]


def test_pkce_s256_and_plain():
    verifier, challenge = make_pkce_pair()
    assert auth.pkce_matches(verifier, challenge, "S256")
    assert not auth.pkce_matches(verifier + "x", challenge, "S256")
    assert auth.pkce_matches("plain-verifier", "plain-verifier", "plain")


def test_missing_dataset_is_generated_on_first_use(settings, tmp_path, caplog):
    from recomamp.sandbox import engine_bridge

    settings.SANDBOX_DATA_PATH = tmp_path / "fresh" / "amc.duckdb"
    settings.SANDBOX_AUTO_DATA_SCALE = 0.002
    with caplog.at_level("WARNING", logger="recomamp.sandbox.engine_bridge"):
        path = engine_bridge.ensure_dataset()
    assert path.is_file()
    assert "generating a small dataset" in caplog.text
    caplog.clear()
    assert engine_bridge.ensure_dataset() == path
    assert caplog.text == ""


def test_generate_sandbox_data_command(tmp_path):
    import duckdb
    from django.core.management import call_command

    target = tmp_path / "amc.duckdb"
    call_command(
        "generate_sandbox_data", "--scale", "0.002", "--seed", "3", "--path", str(target), stdout=io.StringIO()
    )
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM dsp_impressions").fetchone()[0] > 0


@pytest.mark.parametrize(
    "start,end,zone",
    [("2024-01-01T00:00:00", "9999-12-31T23:00:00", "America/New_York"),
     ("0001-01-01T00:00:00", "2024-01-01T00:00:00", "Asia/Tokyo")],
)  # fmt: skip
def test_absurd_explicit_windows_are_a_400_not_an_overflow(start, end, zone):
    body = {"timeWindowType": "EXPLICIT", "timeWindowStart": start, "timeWindowEnd": end, "timeWindowTimeZone": zone}
    with pytest.raises(ApiError) as caught:
        windows.resolve(body, NOW)
    assert caught.value.status == 400 and "Choose a date between" in str(caught.value)
