import io
from collections import Counter, defaultdict
from datetime import date, datetime
from decimal import Decimal

import pytest

from recomamp.sandbox.engine import CompileError, ExecutionError, QueryResult, run_query, to_csv

JUNE = {"time_window_start": datetime(2025, 6, 1), "time_window_end": datetime(2025, 6, 29)}


def test_time_window_is_applied_in_the_window_timezone(sandbox, raw):
    result = run_query(
        "SELECT COUNT(*) AS n, SUM(impressions) AS imps FROM dsp_impressions",
        db_path=sandbox.path,
        time_window_timezone="America/New_York",
        min_users=1,
        **JUNE,
    )
    expected = raw.execute("""SELECT count(*) FROM dsp_impressions
                              WHERE impression_dt_utc >= '2025-06-01 04:00:00'
                              AND impression_dt_utc < '2025-06-29 04:00:00'""").fetchone()[0]
    assert result.rows == [(expected, expected)]
    assert 0 < expected < sandbox.row_counts["dsp_impressions"]


def test_each_table_is_filtered_on_its_own_event_time(sandbox, raw):
    sql = """SELECT COUNT(*) AS n FROM amazon_attributed_events_by_traffic_time"""
    result = run_query(sql, db_path=sandbox.path, min_users=1, **JUNE)
    expected = raw.execute("""SELECT count(*) FROM amazon_attributed_events_by_conversion_time
        WHERE traffic_event_dt_utc >= '2025-06-01' AND traffic_event_dt_utc < '2025-06-29'""").fetchone()[0]
    assert result.rows == [(expected,)]


def test_custom_parameters_filter_the_data(sandbox, raw):
    campaigns = [
        r[0]
        for r in raw.execute(
            "SELECT DISTINCT campaign_id_string FROM dsp_impressions ORDER BY 1 LIMIT 2"
        ).fetchall()
    ]
    sql = """SELECT campaign_id_string, SUM(impressions) AS imps FROM dsp_impressions
             WHERE campaign_id_string IN (CUSTOM_PARAMETER('campaigns'))
               AND ARRAY_CONTAINS(CUSTOM_PARAMETER('campaigns'), campaign_id_string)
               AND impression_hour_utc >= CUSTOM_PARAMETER('min_hour')
             GROUP BY 1 ORDER BY 1"""
    result = run_query(
        sql,
        db_path=sandbox.path,
        parameter_values={"campaigns": campaigns, "min_hour": 12},
        declared_parameters=["campaigns", "min_hour"],
        min_users=1,
        **JUNE,
    )
    expected = raw.execute(
        """SELECT campaign_id_string, count(*) FROM dsp_impressions
        WHERE campaign_id_string IN (?, ?) AND hour(impression_dt_utc) >= 12
          AND impression_dt_utc >= '2025-06-01' AND impression_dt_utc < '2025-06-29'
        GROUP BY 1 ORDER BY 1""",
        campaigns,
    ).fetchall()
    assert result.rows == expected
    assert len(expected) == 2


def test_undeclared_parameter_is_a_compile_error(sandbox):
    with pytest.raises(CompileError):
        run_query(
            "SELECT COUNT(*) AS n FROM dsp_clicks WHERE campaign = CUSTOM_PARAMETER('c')",
            db_path=sandbox.path,
            declared_parameters=[],
            **JUNE,
        )


def _users_per_campaign_day(raw) -> dict[tuple, set]:
    users = defaultdict(set)
    impressions = Counter()
    for (
        campaign,
        day,
        user,
    ) in raw.execute("""SELECT campaign, impression_date_utc, user_id FROM dsp_impressions
            WHERE impression_dt_utc >= '2025-06-01' AND impression_dt_utc < '2025-06-29'""").fetchall():
        impressions[(campaign, day)] += 1
        if user is not None:
            users[(campaign, day)].add(user)
    return {key: (len(users[key]), impressions[key]) for key in impressions}


DAILY = """SELECT campaign, impression_date_utc AS day, SUM(impressions) AS impressions
FROM dsp_impressions GROUP BY 1, 2 ORDER BY 1, 2"""


def test_rows_below_the_user_threshold_are_dropped(sandbox, raw):
    groups = _users_per_campaign_day(raw)
    result = run_query(DAILY, db_path=sandbox.path, min_users=3, **JUNE)
    kept = sorted((c, d, n) for (c, d), (users, n) in groups.items() if users >= 3)
    assert result.rows == kept
    assert result.filtered_count == sum(1 for users, _ in groups.values() if users < 3)
    assert result.filtered_count > 0 and kept


def test_rows_below_the_threshold_are_nulled_and_flagged(sandbox, raw):
    groups = _users_per_campaign_day(raw)
    result = run_query(DAILY, db_path=sandbox.path, min_users=3, filtered_rows="null_with_flag", **JUNE)
    assert result.columns == ["campaign", "day", "impressions", "filtered"]
    assert result.column_types[-1] == "BOOLEAN"
    kept = sorted((c, d, n, False) for (c, d), (users, n) in groups.items() if users >= 3)
    filtered_impressions = sum(n for users, n in groups.values() if users < 3)
    assert result.rows == kept + [(None, None, filtered_impressions, True)]


def test_default_threshold_is_100_users(sandbox):
    result = run_query(DAILY, db_path=sandbox.path, **JUNE)
    assert result.rows == [] and result.filtered_count > 0


def test_reach_and_frequency_library_query_matches_an_independent_count(sandbox, raw):
    sql = """
    WITH per_user AS (
      SELECT campaign, user_id, SUM(impressions) AS impressions
      FROM dsp_impressions
      WHERE user_id IS NOT NULL
      GROUP BY 1, 2
    )
    SELECT campaign,
           IF(impressions >= 3, 'frequency_3+', CONCAT('frequency_', CAST(impressions AS VARCHAR))) AS bucket,
           COUNT(DISTINCT user_id) AS reach,
           SUM(impressions) AS impressions
    FROM per_user
    GROUP BY 1, 2
    ORDER BY 1, 2"""
    result = run_query(sql, db_path=sandbox.path, min_users=2, **JUNE)

    per_user = Counter()
    for campaign, user in raw.execute("""SELECT campaign, user_id FROM dsp_impressions
            WHERE impression_dt_utc >= '2025-06-01' AND impression_dt_utc < '2025-06-29'""").fetchall():
        if user is not None:
            per_user[(campaign, user)] += 1
    buckets = defaultdict(lambda: [0, 0])
    for (campaign, _user), count in per_user.items():
        bucket = "frequency_3+" if count >= 3 else f"frequency_{count}"
        buckets[(campaign, bucket)][0] += 1
        buckets[(campaign, bucket)][1] += count
    expected = sorted((c, b, reach, imps) for (c, b), (reach, imps) in buckets.items() if reach >= 2)
    assert result.rows == expected
    assert result.filtered_count == sum(1 for reach, _ in buckets.values() if reach < 2)
    assert sum(r[2] for r in expected) > 50


def test_time_to_conversion_library_query_matches_python(sandbox, raw):
    sql = """
    SELECT campaign,
           CASE WHEN SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc) < 86400 THEN 'under_1_day'
                WHEN SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc) < 7 * 86400
                    THEN '1_to_7_days'
                ELSE '7_days_plus' END AS lag_bucket,
           SUM(total_purchases) AS purchases,
           SUM(total_product_sales) AS sales,
           COUNT(DISTINCT user_id) AS converters
    FROM amazon_attributed_events_by_conversion_time
    WHERE total_purchases > 0
    GROUP BY 1, 2"""
    window = {"time_window_start": datetime(2024, 11, 1), "time_window_end": datetime(2025, 7, 1)}
    result = run_query(sql, db_path=sandbox.path, min_users=1, **window)

    expected = defaultdict(lambda: [0, Decimal(0), set()])
    for campaign, traffic, conversion, purchases, sales, user in raw.execute("""
            SELECT campaign, traffic_event_dt_utc, conversion_event_dt_utc, total_purchases,
                   total_product_sales,
                   user_id FROM amazon_attributed_events_by_conversion_time""").fetchall():
        if not (datetime(2024, 11, 1) <= conversion < datetime(2025, 7, 1)) or purchases == 0:
            continue
        lag = (conversion - traffic).total_seconds()
        bucket = "under_1_day" if lag < 86400 else "1_to_7_days" if lag < 7 * 86400 else "7_days_plus"
        entry = expected[(campaign, bucket)]
        entry[0] += purchases
        entry[1] += sales
        entry[2].add(user)
    assert sorted(result.rows) == sorted((c, b, p, s, len(u)) for (c, b), (p, s, u) in expected.items())
    assert len(result.rows) >= 3


def test_joined_ctes_keep_their_user_counts(sandbox, raw):
    sql = """
    WITH imps AS (SELECT campaign, SUM(impressions) AS impressions, COUNT(DISTINCT user_id) AS reach
                  FROM dsp_impressions GROUP BY 1),
         clicks AS (SELECT campaign, SUM(clicks) AS clicks FROM dsp_clicks GROUP BY 1)
    SELECT i.campaign, i.impressions, COALESCE(c.clicks, 0) AS clicks, i.reach
    FROM imps i LEFT JOIN clicks c ON c.campaign = i.campaign"""
    result = run_query(sql, db_path=sandbox.path, min_users=40, **JUNE)
    reach = dict(
        raw.execute("""SELECT campaign, count(DISTINCT user_id) FROM dsp_impressions
        WHERE impression_dt_utc >= '2025-06-01' AND impression_dt_utc < '2025-06-29' GROUP BY 1""").fetchall()
    )
    assert sorted(r[0] for r in result.rows) == sorted(c for c, n in reach.items() if n >= 40)
    assert result.filtered_count == sum(1 for n in reach.values() if n < 40)
    assert all(row[3] == reach[row[0]] for row in result.rows)


def test_runtime_failures_raise_execution_error(sandbox):
    with pytest.raises(ExecutionError):
        run_query(
            "SELECT SUM(CAST(campaign AS BIGINT)) AS x FROM dsp_impressions", db_path=sandbox.path, **JUNE
        )


def test_csv_output():
    result = QueryResult(
        columns=["name", "day", "at", "amount", "flag", "missing"],
        column_types=["STRING", "DATE", "TIMESTAMP", "DECIMAL(38,4)", "BOOLEAN", "LONG"],
        rows=[
            (
                'say "hi", ok',
                date(2025, 6, 1),
                datetime(2025, 6, 1, 13, 5, 9, 250000),
                Decimal("12.5000"),
                True,
                None,
            )
        ],
        filtered_count=0,
    )
    buffer = io.StringIO()
    to_csv(result, buffer)
    assert buffer.getvalue() == (
        "name,day,at,amount,flag,missing\r\n"
        '"say ""hi"", ok",2025-06-01,2025-06-01T13:05:09.250,12.5000,true,\r\n'
    )


def test_threshold_follows_the_output_columns_classes(sandbox, raw):
    # impression_dt is MEDIUM (100 users per row); campaign and impression_date_utc are LOW (2 users).
    medium = "SELECT campaign, impression_dt, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY 1, 2"
    low = DAILY
    for sql, required in ((medium, 100), (low, 2)):
        by_class = run_query(sql, db_path=sandbox.path, min_users=None, **JUNE)
        assert by_class.rows == run_query(sql, db_path=sandbox.path, min_users=required, **JUNE).rows
    assert run_query(low, db_path=sandbox.path, min_users=None, **JUNE).rows  # LOW rows survive with few users
