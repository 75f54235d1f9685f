"""Name resolution: CTEs, aliases, subqueries and the places where no error must appear."""

import pytest

from queries.validation import Catalog, ColumnInfo, validate

from .helpers import assert_at, codes, only


@pytest.mark.parametrize(
    "sql",
    [
        # a CTE's output columns, including computed ones, through the CTE name and an alias
        """WITH per_campaign AS (
             SELECT campaign, SUM(total_cost) / 100000.0 AS spend FROM dsp_impressions GROUP BY 1
           )
           SELECT p.campaign, spend FROM per_campaign p""",
        # a CTE that reads an earlier CTE
        """WITH a AS (SELECT campaign, SUM(impressions) AS imps FROM dsp_impressions GROUP BY 1),
                b AS (SELECT campaign, imps * 2 AS double_imps FROM a)
           SELECT campaign, double_imps FROM b""",
        # a VALUES CTE with a column list joined to a table
        """WITH wanted (campaign_id_string) AS (VALUES ('123'), ('456'))
           SELECT i.campaign, SUM(i.impressions)
           FROM dsp_impressions i JOIN wanted w ON i.campaign_id_string = w.campaign_id_string
           GROUP BY 1""",
        # a derived table and its alias
        """SELECT d.campaign, d.imps
           FROM (SELECT campaign, SUM(impressions) AS imps FROM dsp_impressions GROUP BY campaign) d""",
        # a derived table with a column list renames its columns
        """SELECT d.name, d.total
           FROM (SELECT campaign, SUM(impressions) FROM dsp_impressions GROUP BY 1) AS d (name, total)""",
        # select aliases in GROUP BY, HAVING and ORDER BY
        """SELECT DATE_TRUNC('WEEK', impression_date) AS day, SUM(impressions) AS imps
           FROM dsp_impressions GROUP BY day HAVING imps > 10 ORDER BY day""",
        # functions and keywords that are not columns
        """SELECT EXTRACT(DOW FROM impression_date) AS dow, CURRENT_DATE AS today,
                  SUM(IF(SECONDS_BETWEEN(impression_dt, CURRENT_TIMESTAMP) < 86400, impressions, 0)) AS new,
                  CAST(BUILT_IN_PARAMETER('TIME_WINDOW_START') AS DATE) AS window_start
           FROM dsp_impressions GROUP BY 1, 2, 4""",
        # window functions with PARTITION BY / ORDER BY, and a named window
        """WITH per_campaign AS (
             SELECT advertiser, campaign, SUM(impressions) AS imps FROM dsp_impressions GROUP BY 1, 2
           )
           SELECT advertiser, campaign, RANK() OVER (PARTITION BY advertiser ORDER BY imps DESC) AS place,
                  SUM(imps) OVER w AS advertiser_total
           FROM per_campaign WINDOW w AS (PARTITION BY advertiser)""",
        # correlated EXISTS, IN (SELECT ...) and a scalar subquery
        """SELECT i.campaign, SUM(i.impressions), (SELECT COUNT(DISTINCT user_id) FROM dsp_clicks) AS clickers
           FROM dsp_impressions i
           WHERE EXISTS (SELECT 1 FROM dsp_clicks c WHERE c.request_tag = i.request_tag)
             AND i.campaign_id_string IN (SELECT campaign_id_string FROM sponsored_ads_traffic)
           GROUP BY 1""",
        # JOIN ... USING makes the shared column unambiguous
        """SELECT user_id_type, COUNT(DISTINCT i.user_id)
           FROM dsp_impressions i JOIN dsp_clicks c USING (user_id_type)
           GROUP BY 1""",
        # UNION ALL of two aggregated branches
        """SELECT campaign, SUM(impressions) AS imps FROM dsp_impressions GROUP BY 1
           UNION ALL
           SELECT campaign, SUM(impressions) AS imps FROM sponsored_ads_traffic GROUP BY 1""",
        # case-insensitive names, audience mirrors and the sandbox schema
        """SELECT Campaign, SUM(IMPRESSIONS) FROM DSP_Impressions GROUP BY 1""",
        """SELECT campaign, COUNT(DISTINCT user_id) FROM sandbox.dsp_impressions GROUP BY 1""",
        # comments and placeholders do not disturb resolution
        """-- reach by campaign
           SELECT campaign, /* users */ COUNT(DISTINCT user_id) AS reach
           FROM dsp_impressions WHERE campaign_id_string IN ({{campaign_ids}}) GROUP BY 1""",
    ],
)
def test_valid_names_produce_no_diagnostics(check, sql):
    assert [(d.code, d.message) for d in check(sql)] == []


def test_column_not_selected_by_a_cte_is_unknown(check):
    sql = (
        "WITH per_campaign AS (SELECT campaign, SUM(impressions) AS imps FROM dsp_impressions GROUP BY 1)\n"
        "SELECT campaign, clicks FROM per_campaign"
    )
    diagnostic = only(check(sql), "unknown-column")
    assert_at(diagnostic, sql, "clicks")
    assert "CTE 'per_campaign'" in diagnostic.message


def test_table_column_is_not_visible_through_an_alias_of_a_cte(check):
    sql = (
        "WITH p AS (SELECT campaign, SUM(impressions) AS imps FROM dsp_impressions GROUP BY 1)\n"
        "SELECT x.campaign, x.advertiser FROM p x"
    )
    assert_at(only(check(sql), "unknown-column"), sql, "advertiser")


def test_cte_cannot_see_later_ctes(check):
    sql = (
        "WITH a AS (SELECT campaign, SUM(imps) AS total FROM b GROUP BY 1),\n"
        "b AS (SELECT campaign, SUM(impressions) AS imps FROM dsp_impressions GROUP BY 1)\n"
        "SELECT campaign, total FROM a"
    )
    diagnostic = only(check(sql), "unknown-table")
    assert_at(diagnostic, sql, "b GROUP")


def test_select_alias_used_in_where_is_explained(check):
    sql = "SELECT campaign, SUM(impressions) AS imps FROM dsp_impressions WHERE imps > 5 GROUP BY 1"
    diagnostic = only(check(sql), "unknown-column")
    assert_at(diagnostic, sql, "imps >")
    assert "SELECT list" in diagnostic.message


def test_correlated_subquery_reads_outer_alias_only_when_it_exists(check):
    sql = (
        "SELECT i.campaign, SUM(i.impressions) FROM dsp_impressions i\n"
        "WHERE EXISTS (SELECT 1 FROM dsp_clicks c WHERE c.request_tag = z.request_tag)\n"
        "GROUP BY 1"
    )
    assert_at(only(check(sql), "unknown-alias"), sql, "z.request_tag")


def test_columns_from_a_table_without_descriptions_are_accepted_only_when_listed():
    catalog = Catalog({"uploaded_crm": {"user_id": ColumnInfo("STRING", "dimension", "VERY_HIGH")}})
    ok = "SELECT COUNT(DISTINCT user_id) FROM uploaded_crm"
    assert validate(ok, catalog) == []
    bad = "SELECT COUNT(DISTINCT email) FROM uploaded_crm"
    assert codes(validate(bad, catalog)) == ["unknown-column"]


def test_catalog_expands_table_name_patterns(catalog):
    names = catalog.table_names()
    assert "audience_segments_eu_lifestyle_snapshot" in names
    assert "audience_segments_amer_inmarket" in names
    # the traffic-time table shares the conversion-time columns; the video feed extends dsp_impressions
    assert catalog.columns("amazon_attributed_events_by_traffic_time") == catalog.columns(
        "amazon_attributed_events_by_conversion_time"
    )
    assert "video_complete" in catalog.columns("dsp_video_events_feed")
    assert "user_id" in catalog.columns("dsp_video_events_feed")
    assert catalog.columns("dsp_impressions_for_audiences") is catalog.columns("dsp_impressions")
    user_id = catalog.columns("dsp_impressions")["user_id"]
    assert (user_id.kind, user_id.threshold) == ("dimension", "VERY_HIGH")
    assert catalog.columns("no_such_table") is None


def test_derived_table_column_list_renames_by_position(check):
    sql = (
        "SELECT d.top, d.who FROM (\n"
        "  SELECT MAX(impressions), user_id FROM dsp_impressions GROUP BY 2\n"
        ") AS d (top, who)"
    )
    diagnostic = only(check(sql), "user-id-output")
    assert_at(diagnostic, sql, "d.who")
