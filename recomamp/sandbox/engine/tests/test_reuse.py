"""Compiled SQL and DuckDB connections are reused between runs (engine/reuse.py), and the aggregation threshold
still applies to every run."""

import threading
from datetime import datetime

from recomamp.sandbox.engine import TimeWindow, generate, reuse, run_query
from recomamp.sandbox.engine.tests.conftest import END_DATE

SQL = "SELECT campaign_id_string AS campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY 1"


def compilations(monkeypatch) -> list:
    calls = []
    check = reuse.rules.check
    monkeypatch.setattr(reuse.rules, "check", lambda *a, **k: calls.append(a) or check(*a, **k))
    return calls


def test_thresholds_apply_through_the_cache(sandbox, whole_period, monkeypatch):
    calls = compilations(monkeypatch)
    sql = SQL + " -- thresholds through the cache"
    everyone = run_query(sql, min_users=1, **whole_period)
    nobody = run_query(sql, min_users=10**9, **whole_period)
    flagged = run_query(sql, min_users=10**9, filtered_rows="null_with_flag", **whole_period)
    by_class = run_query(sql, min_users=None, **whole_period)

    assert len(calls) == 1  # compiled once, thresholds applied four times
    assert everyone.rows and everyone.filtered_count == 0
    assert nobody.rows == [] and nobody.filtered_count == len(everyone.rows)
    # Below the threshold, the dimensions are blanked and the rows merged into one flagged row, as AMC does.
    assert flagged.rows == [(None, sum(row[1] for row in everyone.rows), True)]
    assert flagged.filtered_count == len(everyone.rows)
    window = TimeWindow(whole_period["time_window_start"], whole_period["time_window_end"])
    required = reuse.compile_query(sql, declared_parameters=None, window=window, parameter_values=None).required_users
    kept = [row for row in everyone.rows if row[1] >= required]
    assert sorted(by_class.rows) == sorted(kept) and by_class.filtered_count == len(everyone.rows) - len(kept)
    assert len(calls) == 1


def test_a_different_window_or_parameter_compiles_again(sandbox, whole_period, monkeypatch):
    calls = compilations(monkeypatch)
    sql = "SELECT COUNT(*) AS n FROM dsp_impressions WHERE campaign_id_string = CUSTOM_PARAMETER('c')"
    run_query(sql, min_users=1, parameter_values={"c": "x"}, declared_parameters=["c"], **whole_period)
    run_query(sql, min_users=1, parameter_values={"c": "x"}, declared_parameters=["c"], **whole_period)
    run_query(sql, min_users=1, parameter_values={"c": "y"}, declared_parameters=["c"], **whole_period)
    june = {**whole_period, "time_window_start": datetime(2025, 6, 1)}
    run_query(sql, min_users=1, parameter_values={"c": "x"}, declared_parameters=["c"], **june)
    assert len(calls) == 3


def test_each_thread_keeps_its_cursor_and_a_replaced_file_is_reopened(tmp_path):
    path = tmp_path / "s.duckdb"
    first = generate(path, scale=0.002, seed=1, end_date=END_DATE)
    window = {"time_window_start": datetime(2024, 1, 1), "time_window_end": datetime(2025, 7, 1)}
    count = "SELECT COUNT(*) AS n FROM dsp_impressions"

    assert reuse.cursor_for(path) is reuse.cursor_for(path)
    other = []
    thread = threading.Thread(target=lambda: other.append(reuse.cursor_for(path)))
    thread.start()
    thread.join()
    assert other[0] is not reuse.cursor_for(path)
    assert run_query(count, db_path=path, min_users=1, **window).rows == [(first.row_counts["dsp_impressions"],)]

    second = generate(path, scale=0.004, seed=2, end_date=END_DATE)
    assert second.row_counts["dsp_impressions"] != first.row_counts["dsp_impressions"]
    assert run_query(count, db_path=path, min_users=1, **window).rows == [(second.row_counts["dsp_impressions"],)]
