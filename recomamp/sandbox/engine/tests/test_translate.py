from datetime import date, datetime

import duckdb
import pytest

from recomamp.sandbox.engine import TimeWindow, check, translate
from recomamp.sandbox.engine.translate import parse_duration, to_duckdb_sql

WINDOW = TimeWindow(datetime(2025, 3, 1), datetime(2025, 3, 8))


def evaluate(sql: str, parameters: dict | None = None, window: TimeWindow = WINDOW) -> tuple:
    """Translate an AMC expression-only query and evaluate it in an in-memory DuckDB."""
    tree = translate(
        check(sql, declared_parameters=list(parameters or {})), window=window, parameters=parameters
    )
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.execute(to_duckdb_sql(tree)).fetchone()


def test_scalar_parameters_become_literals():
    assert evaluate(
        "SELECT CUSTOM_PARAMETER('n') + 1 AS a, CUSTOM_PARAMETER('s') AS b, CUSTOM_PARAMETER('f') AS c,"
        " CUSTOM_PARAMETER('d') AS d",
        {"n": 41, "s": "it's", "f": True, "d": date(2025, 1, 2)},
    ) == (42, "it's", True, date(2025, 1, 2))


def test_missing_parameter_value_is_null():
    assert evaluate("SELECT CUSTOM_PARAMETER('x') IS NULL AS missing", {"x": None}) == (True,)


def test_list_parameter_in_in_list_and_array_contains():
    sql = """SELECT 'b' IN (CUSTOM_PARAMETER('xs')) AS a, 'z' IN CUSTOM_PARAMETER('xs') AS b,
                    ARRAY_CONTAINS(CUSTOM_PARAMETER('xs'), 'c') AS c,
                    CARDINALITY(CUSTOM_PARAMETER('xs')) AS n"""
    assert evaluate(sql, {"xs": ["a", "b", "c"]}) == (True, False, True, 3)


def test_empty_list_parameter_matches_nothing_and_has_no_elements():
    sql = """SELECT 'b' IN (CUSTOM_PARAMETER('xs')) AS a, 'b' NOT IN (CUSTOM_PARAMETER('xs')) AS b,
                    CARDINALITY(CUSTOM_PARAMETER('xs')) = 0 AS c"""
    assert evaluate(sql, {"xs": []}) == (False, True, True)


def test_built_in_parameters_are_the_window_as_given():
    window = TimeWindow(datetime(2025, 3, 1), datetime(2025, 3, 8), "America/New_York")
    start, end = evaluate(
        "SELECT BUILT_IN_PARAMETER('TIME_WINDOW_START') AS s, BUILT_IN_PARAMETER('TIME_WINDOW_END') AS e",
        window=window,
    )
    assert (start, end) == (datetime(2025, 3, 1), datetime(2025, 3, 8))


def test_amc_date_functions():
    row = evaluate("""SELECT
        SECONDS_BETWEEN(TIMESTAMP '2025-03-01 10:00:00', TIMESTAMP '2025-03-01 10:02:05') AS secs,
        DAYS_BETWEEN(TIMESTAMP '2025-03-01 10:00:00', TIMESTAMP '2025-03-04 09:00:00') AS days,
        DAYOFWEEK(DATE '2025-03-02') AS sunday,
        EXTRACT(DOW FROM DATE '2025-03-08') AS saturday,
        DATE_TRUNC('DAY', TIMESTAMP '2025-03-01 10:11:12') AS day_start,
        CONVERT_TIME_ZONE_FROM_UTC(TIMESTAMP '2025-03-01 15:00:00', 'America/New_York') AS local_time""")
    assert row == (125, 2, 1, 7, datetime(2025, 3, 1), datetime(2025, 3, 1, 10))


def test_amc_collection_and_conditional_functions():
    row = evaluate("""SELECT
        ARRAY_SORT(ARRAY[3, 1, 2]) AS sorted_values,
        NVL(NULL, 'x') AS nvl, NVL2(NULL, 'set', 'unset') AS nvl2, IF(1 < 2, 'yes', 'no') AS iff,
        CONTAINED_IN(2, 1, 2, 3) AS contained,
        NAMED_ROW('order', 1, 'campaign', 'c').campaign AS field,
        CAST('5' AS LONG) + 1 AS as_long, CAST(7 AS STRING) AS as_string""")
    assert row == ([1, 2, 3], "x", "unset", "yes", True, "c", 6, "7")


def test_collect_builds_lists():
    row = evaluate("SELECT ARRAY_SORT(COLLECT(DISTINCT x)) AS xs FROM (VALUES (2), (1), (2)) AS t(x)")
    assert row == ([1, 2],)


def test_tables_are_restricted_to_the_window_in_utc():
    window = TimeWindow(datetime(2025, 3, 1), datetime(2025, 3, 8), "America/New_York")
    sql = to_duckdb_sql(translate(check("SELECT COUNT(*) AS n FROM sandbox.dsp_clicks c"), window=window))
    assert "impression_dt_utc" not in sql
    assert "c.click_dt_utc" not in sql  # the filter sits inside the derived table
    assert "click_dt_utc >= CAST('2025-03-01 05:00:00' AS TIMESTAMP)" in sql
    assert "click_dt_utc < CAST('2025-03-08 05:00:00' AS TIMESTAMP)" in sql
    assert sql.endswith("AS c")


def test_extend_time_window_widens_the_filter():
    sql = to_duckdb_sql(
        translate(
            check(
                "SELECT COUNT(*) AS n "
                "FROM TABLE(EXTEND_TIME_WINDOW('sponsored_ads_traffic', 'P14D', 'PT12H')) t"
            ),
            window=WINDOW,
        )
    )
    assert "event_dt_utc >= CAST('2025-02-15 00:00:00' AS TIMESTAMP)" in sql
    assert "event_dt_utc < CAST('2025-03-08 12:00:00' AS TIMESTAMP)" in sql


def test_cte_named_like_nothing_in_the_catalog_is_not_filtered():
    sql = to_duckdb_sql(
        translate(
            check(
                "WITH x AS (SELECT campaign, COUNT(*) AS n FROM dsp_views GROUP BY 1) "
                "SELECT campaign, n FROM x"
            ),
            window=WINDOW,
        )
    )
    assert sql.count("main.") == 1


@pytest.mark.parametrize(("text", "days"), [("P14D", 14), ("P1W", 7), ("P2DT12H", 2.5), ("p0d", 0)])
def test_durations(text, days):
    assert parse_duration(text).total_seconds() == days * 86400


def test_bad_duration():
    assert parse_duration("14 days") is None
