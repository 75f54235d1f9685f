from datetime import date, datetime, timedelta

import duckdb
import pytest

from recomamp.sandbox.engine import generate
from recomamp.sandbox.engine.datagen import GENERATED_TABLES, METADATA_TABLE, months_before
from recomamp.sandbox.engine.schema import columns_of, tables

from .conftest import END_DATE


def _table_rows(path, table):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
    finally:
        con.close()


def test_every_catalog_table_has_the_catalog_columns_and_types(sandbox, raw):
    for table in tables():
        described = [(r[0], r[1]) for r in raw.execute(f"DESCRIBE {table}").fetchall()]
        assert described == [
            (c.name, c.duckdb_type.replace("DECIMAL(38,", "DECIMAL(38,")) for c in columns_of(table)
        ]


def test_generated_tables_have_rows_and_stats_match(sandbox, raw):
    for table in GENERATED_TABLES:
        count = raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert count == sandbox.row_counts[table]
        assert count > 0, table
    assert sandbox.row_counts["dsp_impressions"] == 4000


def test_same_parameters_give_identical_data_and_another_seed_does_not(tmp_path):
    first = generate(tmp_path / "a.duckdb", scale=0.001, seed=3, end_date=date(2025, 3, 31))
    second = generate(tmp_path / "b.duckdb", scale=0.001, seed=3, end_date=date(2025, 3, 31))
    other = generate(tmp_path / "c.duckdb", scale=0.001, seed=4, end_date=date(2025, 3, 31))
    assert first.row_counts == second.row_counts
    for table in GENERATED_TABLES:
        assert _table_rows(first.path, table) == _table_rows(second.path, table), table
    assert _table_rows(first.path, "dsp_impressions") != _table_rows(other.path, "dsp_impressions")


def test_events_fall_inside_the_generated_period(sandbox, raw):
    start = datetime.combine(sandbox.start_date, datetime.min.time())
    end = datetime.combine(END_DATE + timedelta(days=1), datetime.min.time())
    assert sandbox.start_date == months_before(END_DATE, 13) + timedelta(days=1)
    for table, column in (
        ("dsp_impressions", "impression_dt_utc"),
        ("sponsored_ads_traffic", "event_dt_utc"),
        ("conversions", "event_dt_utc"),
        ("amazon_retail_purchases", "purchase_dt_utc"),
    ):
        low, high = raw.execute(f"SELECT min({column}), max({column}) FROM {table}").fetchone()
        assert start <= low and high < end, table


def test_clicks_and_views_come_from_impressions(raw):
    orphans = raw.execute("""
        SELECT count(*) FROM dsp_clicks c LEFT JOIN dsp_impressions i USING (request_tag)
        WHERE i.request_tag IS NULL OR c.click_dt_utc <= i.impression_dt_utc OR c.campaign <> i.campaign
    """).fetchone()[0]
    assert orphans == 0
    views = raw.execute("""
        SELECT count(*), count(i.request_tag) FROM dsp_views v
        LEFT JOIN dsp_impressions i ON i.request_tag = v.impression_id
    """).fetchone()
    assert views[0] == views[1] > 0


def test_attributed_conversions_follow_their_traffic_within_14_days(raw):
    low, high, users_missing = raw.execute("""
        SELECT min(date_diff('second', traffic_event_dt_utc, conversion_event_dt_utc)),
               max(date_diff('second', traffic_event_dt_utc, conversion_event_dt_utc)),
               count(*) FILTER (WHERE user_id IS NULL)
        FROM amazon_attributed_events_by_conversion_time
    """).fetchone()
    assert 0 < low and high <= 14 * 86400 and users_missing == 0
    by_time = raw.execute("SELECT count(*) FROM amazon_attributed_events_by_traffic_time").fetchone()[0]
    by_conversion = raw.execute(
        "SELECT count(*) FROM amazon_attributed_events_by_conversion_time"
    ).fetchone()[0]
    assert by_time == by_conversion


def test_conversions_and_purchases_cover_attributed_orders(raw):
    attributed_orders = raw.execute(
        "SELECT sum(total_purchases) FROM amazon_attributed_events_by_conversion_time"
    ).fetchone()[0]
    conversion_orders = raw.execute(
        "SELECT count(*) FROM conversions WHERE event_subtype = 'order'"
    ).fetchone()[0]
    retail = raw.execute("SELECT count(*) FROM amazon_retail_purchases").fetchone()[0]
    assert attributed_orders > 0
    assert conversion_orders >= attributed_orders
    assert retail > conversion_orders


def test_money_units_follow_amc(raw):
    # total_cost is in millicents and equals the sum of the microcent fee components / 1000.
    worst = raw.execute("""
        SELECT max(abs(total_cost - (supply_cost + platform_fee + audience_fee + third_party_fees) / 1000.0))
        FROM dsp_impressions
    """).fetchone()[0]
    assert worst < 1e-6
    cpm_dollars = raw.execute(
        "SELECT sum(total_cost) / 100000 / count(*) * 1000 FROM dsp_impressions"
    ).fetchone()[0]
    assert 0.5 < cpm_dollars < 30


def test_metadata_records_the_parameters(sandbox, raw):
    metadata = dict(raw.execute(f"SELECT key, value FROM {METADATA_TABLE}").fetchall())
    assert metadata["seed"] == "7"
    assert metadata["scale"] == "0.004"
    assert metadata["end_date"] == END_DATE.isoformat()
    assert metadata["rows.dsp_impressions"] == str(sandbox.row_counts["dsp_impressions"])


def test_scale_must_be_positive(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path / "x.duckdb", scale=0)
