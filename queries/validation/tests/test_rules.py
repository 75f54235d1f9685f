"""Each validator rule: its code, severity and the position of the offending token."""

import pytest

from .helpers import assert_at, codes, only, position_of, problems

# -- syntax ---------------------------------------------------------------------------------------------


def test_syntax_error_points_at_the_offending_token(check):
    sql = "SELECT campaign\nFROM dsp_impressions\nWHERE impressions = = 1"
    diagnostic = only(check(sql), "syntax")
    assert diagnostic.severity == "error"
    assert (diagnostic.line, diagnostic.column) == (3, 21)
    assert (diagnostic.end_line, diagnostic.end_column) == (3, 22)


def test_missing_closing_parenthesis_is_explained(check):
    sql = "SELECT SUM(impressions FROM dsp_impressions"
    diagnostic = only(check(sql), "syntax")
    assert "')'" in diagnostic.message
    assert_at(diagnostic, sql, "FROM")


def test_unterminated_string_points_at_its_opening_quote(check):
    sql = "SELECT SUM(impressions)\nFROM dsp_impressions\nWHERE campaign = 'abc"
    diagnostic = only(check(sql), "syntax")
    assert_at(diagnostic, sql, "'abc")
    assert "quote" in diagnostic.message


@pytest.mark.parametrize(
    ("sql", "needle", "closing"),
    [
        ("SELECT campaign, SUM(impressions) FROM dsp_impressions /* unfinished", "/*", "*/"),
        ('SELECT "campaign, SUM(impressions) FROM dsp_impressions', '"campaign', "double quote"),
    ],
)
def test_unclosed_comments_and_quoted_names(check, sql, needle, closing):
    diagnostic = only(check(sql), "syntax")
    assert_at(diagnostic, sql, needle)
    assert closing in diagnostic.message


@pytest.mark.parametrize(
    ("sql", "needle"),
    [
        ("SELECT campaign,, SUM(impressions) FROM dsp_impressions GROUP BY 1", ",,"),
        ("SELECT campaign, SUM(impressions), FROM dsp_impressions GROUP BY 1", ", FROM"),
        ("SELECT FROM dsp_impressions", "SELECT"),
    ],
)
def test_mistakes_the_parser_would_forgive_are_syntax_errors(check, sql, needle):
    diagnostic = only(check(sql), "syntax")
    assert_at(diagnostic, sql, needle)


def test_syntax_error_does_not_hide_parameter_problems(check):
    sql = "SELECT CUSTOM_PARAMETER('x') FROM"
    found = check(sql, declared_parameters=set())
    assert codes(found) == ["undeclared-parameter", "syntax"]


def test_second_statement_is_rejected(check):
    sql = "SELECT campaign, SUM(impressions) FROM dsp_impressions GROUP BY 1;\nSELECT 1"
    diagnostic = only(check(sql), "multiple-statements")
    assert (diagnostic.line, diagnostic.column) == (2, 1)


def test_trailing_semicolon_is_fine(check):
    assert check("SELECT campaign, SUM(impressions) FROM dsp_impressions GROUP BY 1;") == []


def test_statements_other_than_queries_are_rejected(check):
    diagnostic = only(check("DELETE FROM dsp_impressions"), "not-a-query")
    assert (diagnostic.line, diagnostic.column, diagnostic.end_column) == (1, 1, 7)


def test_blank_sql_gives_nothing_to_report(check):
    assert check("  \n ") == []


# -- names ----------------------------------------------------------------------------------------------


def test_unknown_table_suggests_the_closest_name(check):
    sql = "SELECT campaign, SUM(impressions)\nFROM dsp_impresions\nGROUP BY 1"
    diagnostic = only(check(sql), "unknown-table")
    assert_at(diagnostic, sql, "dsp_impresions")
    assert "'dsp_impressions'" in diagnostic.message
    assert diagnostic.end_column == diagnostic.column + len("dsp_impresions")


def test_legacy_table_names_point_to_their_replacement(check):
    sql = "SELECT campaign, SUM(clicks) FROM display_clicks GROUP BY 1"
    diagnostic = only(check(sql), "unknown-table")
    assert "dsp_clicks" in diagnostic.message


def test_unknown_table_does_not_cascade_into_column_errors(check):
    sql = "SELECT anything, SUM(whatever) FROM my_upload GROUP BY 1"
    assert codes(check(sql)) == ["unknown-table"]


def test_unknown_column(check):
    sql = "SELECT campaign, SUM(impresions) AS imps\nFROM dsp_impressions\nGROUP BY 1"
    diagnostic = only(check(sql), "unknown-column")
    assert diagnostic.severity == "error"
    assert_at(diagnostic, sql, "impresions")
    assert "dsp_impressions" in diagnostic.message and "'impressions'" in diagnostic.message


def test_unknown_qualified_column_points_at_the_column_not_the_alias(check):
    sql = "SELECT i.campaign, SUM(i.clickz) FROM dsp_impressions i GROUP BY 1"
    diagnostic = only(check(sql), "unknown-column")
    assert_at(diagnostic, sql, "clickz")


def test_unknown_alias(check):
    sql = "SELECT x.campaign, SUM(impressions) FROM dsp_impressions i GROUP BY 1"
    diagnostic = only(check(sql), "unknown-alias")
    assert_at(diagnostic, sql, "x.campaign")
    assert diagnostic.end_column == diagnostic.column + 1


def test_ambiguous_column_between_two_tables(check):
    sql = (
        "SELECT campaign, SUM(i.impressions)\n"
        "FROM dsp_impressions i JOIN sponsored_ads_traffic s ON i.user_id = s.user_id\n"
        "GROUP BY 1"
    )
    diagnostic = only(check(sql), "ambiguous-column")
    assert_at(diagnostic, sql, "campaign")


# -- AMC restrictions -----------------------------------------------------------------------------------


def test_select_star_on_a_table(check):
    sql = (
        "WITH t AS (\n  SELECT * FROM dsp_impressions\n)\nSELECT campaign, SUM(impressions) FROM t GROUP BY 1"
    )
    diagnostic = only(check(sql), "select-star")
    assert diagnostic.severity == "error"
    assert_at(diagnostic, sql, "*")


def test_alias_star_on_a_table(check):
    sql = "WITH t AS (SELECT i.* FROM dsp_impressions i)\nSELECT campaign, SUM(impressions) FROM t GROUP BY 1"
    diagnostic = only(check(sql), "select-star")
    assert_at(diagnostic, sql, "i.*")


def test_star_over_a_cte_is_allowed(check):
    sql = (
        "WITH per_campaign AS (SELECT campaign, SUM(impressions) AS imps FROM dsp_impressions GROUP BY 1),\n"
        "copy AS (SELECT p.* FROM per_campaign p)\n"
        "SELECT campaign, imps FROM copy"
    )
    assert check(sql) == []


def test_limit(check):
    sql = "SELECT campaign, SUM(impressions)\nFROM dsp_impressions\nGROUP BY 1\nLIMIT 10"
    diagnostic = only(check(sql), "limit")
    assert (diagnostic.line, diagnostic.column, diagnostic.end_line, diagnostic.end_column) == (4, 1, 4, 9)
    assert "ROW_NUMBER" in diagnostic.message


def test_right_join(check):
    sql = (
        "SELECT i.campaign, SUM(i.impressions)\n"
        "FROM dsp_impressions i\n"
        "  RIGHT JOIN dsp_clicks c ON i.request_tag = c.request_tag\n"
        "GROUP BY 1"
    )
    diagnostic = only(check(sql), "right-join")
    assert_at(diagnostic, sql, "RIGHT JOIN")
    assert diagnostic.end_column == diagnostic.column + len("RIGHT JOIN")


def test_right_outer_join_is_also_reported(check):
    sql = (
        "SELECT i.campaign, SUM(i.impressions) FROM dsp_impressions i "
        "RIGHT OUTER JOIN dsp_clicks c ON i.request_tag = c.request_tag GROUP BY 1"
    )
    assert_at(only(check(sql), "right-join"), sql, "RIGHT OUTER JOIN")


def test_event_level_final_select_needs_aggregation(check):
    sql = "WITH x AS (SELECT campaign FROM dsp_impressions)\nSELECT campaign\nFROM x"
    diagnostic = only(check(sql), "aggregation-required")
    assert (diagnostic.line, diagnostic.column, diagnostic.end_column) == (2, 1, 7)


def test_final_select_over_an_aggregated_cte_needs_no_aggregate(check):
    sql = (
        "WITH per_campaign AS (SELECT campaign, SUM(impressions) AS imps FROM dsp_impressions GROUP BY 1)\n"
        "SELECT campaign, imps, imps / SUM(imps) OVER () AS share FROM per_campaign"
    )
    assert check(sql) == []


def test_window_aggregate_alone_is_not_aggregation(check):
    sql = "SELECT campaign, SUM(impressions) OVER (PARTITION BY campaign) FROM dsp_impressions"
    assert "aggregation-required" in codes(check(sql))


def test_each_union_branch_must_aggregate(check):
    sql = (
        "SELECT campaign, SUM(impressions) AS imps FROM dsp_impressions GROUP BY 1\n"
        "UNION ALL\n"
        "SELECT campaign, impressions FROM sponsored_ads_traffic"
    )
    diagnostic = only(check(sql), "aggregation-required")
    assert (diagnostic.line, diagnostic.column) == (3, 1)


def test_user_id_in_final_select(check):
    sql = "SELECT user_id, SUM(impressions)\nFROM dsp_impressions\nGROUP BY 1"
    found = check(sql)
    diagnostic = only(found, "user-id-output")
    assert diagnostic.severity == "error"
    assert_at(diagnostic, sql, "user_id")


def test_user_id_renamed_in_a_cte_is_still_caught(check):
    sql = (
        "WITH u AS (SELECT user_id AS shopper, SUM(impressions) AS imps FROM dsp_impressions GROUP BY 1)\n"
        "SELECT shopper, SUM(imps) FROM u GROUP BY 1"
    )
    diagnostic = only(check(sql), "user-id-output")
    assert_at(diagnostic, sql, "shopper", occurrence=2)
    assert "user_id" in diagnostic.message and "VERY_HIGH" in diagnostic.message


def test_other_very_high_columns_are_caught_in_expressions(check):
    sql = "SELECT CONCAT('tag-', request_tag) AS tag, SUM(impressions) FROM dsp_impressions GROUP BY 1"
    diagnostic = only(check(sql), "user-id-output")
    assert_at(diagnostic, sql, "request_tag")


def test_max_of_user_id_still_returns_a_user_id(check):
    sql = "SELECT campaign, MAX(user_id) FROM dsp_impressions GROUP BY 1"
    assert_at(only(check(sql), "user-id-output"), sql, "user_id")


def test_counting_users_is_fine(check):
    sql = "SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY 1"
    assert check(sql) == []


def test_star_returning_user_id_from_a_cte(check):
    sql = (
        "WITH u AS (SELECT user_id, SUM(impressions) AS imps FROM dsp_impressions GROUP BY 1)\n"
        "SELECT * FROM u"
    )
    diagnostic = only(check(sql), "user-id-output")
    assert_at(diagnostic, sql, "*")


def test_audience_queries_return_user_id(check):
    sql = (
        "SELECT user_id FROM amazon_attributed_events_by_conversion_time_for_audiences\n"
        "WHERE conversion_event_subtype = 'shoppingCart'"
    )
    assert check(sql) == []


@pytest.mark.parametrize(
    ("condition", "needle"),
    [
        ("postal_code = '10001'", "postal_code"),
        ("user_id IN ('a', 'b')", "user_id IN"),
        ("'x' = device_id", "'x'"),
        ("LOWER(city_name) LIKE 'new%'", "LOWER"),
        ("ARRAY_CONTAINS(CUSTOM_PARAMETER('users'), user_id)", "ARRAY_CONTAINS"),
        ("postal_code IN (10001, 10011)", "postal_code"),
    ],
)
def test_literal_filters_on_sensitive_columns(check, condition, needle):
    sql = f"SELECT campaign, SUM(impressions)\nFROM dsp_impressions\nWHERE {condition}\nGROUP BY 1"
    diagnostic = only(check(sql), "literal-filter-sensitive")
    assert diagnostic.severity == "error"
    assert_at(diagnostic, sql, needle)


def test_literal_filter_through_a_cte_column(check):
    sql = (
        "WITH z AS (SELECT postal_code AS zip, impressions FROM dsp_impressions)\n"
        "SELECT SUM(impressions) FROM z WHERE zip = '10001'"
    )
    diagnostic = only(check(sql), "literal-filter-sensitive")
    assert_at(diagnostic, sql, "zip =")
    assert "postal_code" in diagnostic.message


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT campaign, SUM(impressions) FROM dsp_impressions WHERE user_id IS NOT NULL GROUP BY 1",
        "SELECT campaign, SUM(impressions) FROM dsp_impressions WHERE campaign = 'Spring' GROUP BY 1",
        "SELECT campaign, SUM(impressions) FROM dsp_impressions "
        "WHERE user_id IN (SELECT user_id FROM sponsored_ads_traffic) GROUP BY 1",
        "SELECT campaign, SUM(impressions) FROM dsp_impressions "
        "GROUP BY 1 HAVING COUNT(DISTINCT user_id) > 2",
    ],
)
def test_conditions_that_are_not_literal_filters_on_sensitive_columns(check, sql):
    assert check(sql) == []


def test_undeclared_custom_parameter(check):
    sql = (
        "SELECT campaign, SUM(impressions) FROM dsp_impressions\n"
        "WHERE ARRAY_CONTAINS(CUSTOM_PARAMETER('dsp_campaign'), campaign_id_string)\n"
        "GROUP BY 1"
    )
    diagnostic = only(check(sql, declared_parameters={"dsp_campaigns"}), "undeclared-parameter")
    assert_at(diagnostic, sql, "CUSTOM_PARAMETER")
    assert diagnostic.end_column == position_of(sql, "), campaign")[1] + 1
    assert "'dsp_campaigns'" in diagnostic.message


def test_custom_parameters_are_not_checked_without_a_declaration_list(check):
    sql = (
        "SELECT campaign, SUM(impressions) FROM dsp_impressions "
        "WHERE campaign = CUSTOM_PARAMETER('c') GROUP BY 1"
    )
    assert check(sql) == []
    assert check(sql, declared_parameters={"c"}) == []


def test_placeholder_without_value(check):
    sql = (
        "SELECT campaign, SUM(impressions) FROM dsp_impressions\n"
        "WHERE campaign_id_string IN ({{campaign_ids}}) AND impression_date >= '{{start_date}}'\n"
        "GROUP BY 1"
    )
    found = check(sql, placeholder_values={"campaign_ids": ["1", "2"], "start_date": " "})
    diagnostic = only(found, "placeholder-missing-value")
    assert_at(diagnostic, sql, "{{start_date}}")
    assert diagnostic.end_column == diagnostic.column + len("{{start_date}}")


def test_placeholders_are_not_checked_without_values(check):
    sql = (
        "SELECT campaign, SUM(impressions) FROM dsp_impressions "
        "WHERE campaign_id_string IN ({{ids}}) GROUP BY 1"
    )
    assert check(sql) == []


def test_placeholder_used_as_a_table_name_is_not_an_unknown_table(check):
    sql = "SELECT campaign, SUM(impressions) FROM {{source_table}} GROUP BY 1"
    assert check(sql) == []


def test_placeholders_in_comments_are_ignored(check):
    sql = "-- uses {{old}}\nSELECT campaign, SUM(impressions) FROM dsp_impressions GROUP BY 1"
    assert check(sql, placeholder_values={}) == []


# -- warnings and notes ---------------------------------------------------------------------------------


def test_group_by_high_threshold_column_in_final_select(check):
    sql = "SELECT postal_code, SUM(impressions)\nFROM dsp_impressions\nGROUP BY postal_code"
    diagnostic = only(check(sql), "groupby-high-threshold")
    assert diagnostic.severity == "warning"
    assert_at(diagnostic, sql, "postal_code", occurrence=2)


def test_group_by_ordinal_resolves_to_the_select_item(check):
    sql = "SELECT city_name AS city, SUM(impressions) FROM dsp_impressions GROUP BY 1"
    diagnostic = only(check(sql), "groupby-high-threshold")
    assert_at(diagnostic, sql, "1")
    assert "city_name" in diagnostic.message


def test_group_by_user_in_a_cte_is_normal(check):
    sql = (
        "WITH per_user AS (SELECT user_id, SUM(impressions) AS imps FROM dsp_impressions GROUP BY user_id)\n"
        "SELECT imps, COUNT(DISTINCT user_id) AS users FROM per_user GROUP BY imps"
    )
    assert check(sql) == []


def test_conversions_with_unextended_traffic_warn_about_the_time_window(check):
    sql = (
        "WITH traffic AS (SELECT user_id, campaign_id_string, impression_dt FROM dsp_impressions),\n"
        "conv AS (SELECT user_id, event_dt, conversion_id FROM conversions_with_relevance)\n"
        "SELECT t.campaign_id_string, COUNT(DISTINCT c.conversion_id) AS conversions\n"
        "FROM conv c JOIN traffic t ON c.user_id = t.user_id AND t.impression_dt < c.event_dt\n"
        "GROUP BY 1"
    )
    diagnostic = only(check(sql), "no-time-window")
    assert diagnostic.severity == "warning"
    assert_at(diagnostic, sql, "dsp_impressions")
    assert "EXTEND_TIME_WINDOW('dsp_impressions', 'P28D', 'P0D')" in diagnostic.message

    extended = sql.replace(
        "FROM dsp_impressions", "FROM TABLE(EXTEND_TIME_WINDOW('dsp_impressions', 'P28D', 'P0D'))"
    )
    assert check(extended) == []


def test_bad_extend_time_window_duration(check):
    sql = (
        "SELECT campaign, SUM(impressions)\n"
        "FROM TABLE(EXTEND_TIME_WINDOW('dsp_impressions', '28 days', 'P0D'))\n"
        "GROUP BY 1"
    )
    diagnostic = only(check(sql), "extend-time-window")
    assert diagnostic.severity == "warning"
    assert_at(diagnostic, sql, "EXTEND_TIME_WINDOW")


def test_unknown_table_inside_extend_time_window(check):
    sql = "SELECT SUM(impressions) FROM TABLE(EXTEND_TIME_WINDOW('dsp_impresion', 'P1D', 'P0D'))"
    assert_at(only(check(sql), "unknown-table"), sql, "'dsp_impresion'")


def test_medium_threshold_output_is_a_note(check):
    sql = "SELECT impression_dt, SUM(impressions) FROM dsp_impressions GROUP BY 1"
    diagnostic = only(check(sql), "medium-threshold-output")
    assert diagnostic.severity == "info"
    assert_at(diagnostic, sql, "impression_dt")


def test_fixed_date_filter_is_a_note_but_parameters_are_not(check):
    sql = (
        "SELECT campaign, SUM(impressions) FROM dsp_impressions "
        "WHERE impression_date >= '2025-01-01' GROUP BY 1"
    )
    diagnostic = only(check(sql), "fixed-date-filter")
    assert diagnostic.severity == "info"
    assert_at(diagnostic, sql, "impression_date")
    templated = sql.replace("'2025-01-01'", "{{start_date}}")
    assert "fixed-date-filter" not in codes(check(templated))


def test_large_tables_get_a_short_window_note(check):
    sql = "SELECT campaign, SUM(video_complete) FROM dsp_video_events_feed GROUP BY 1"
    diagnostic = only(check(sql), "short-time-window")
    assert diagnostic.severity == "info"
    assert_at(diagnostic, sql, "dsp_video_events_feed")


def test_one_segment_table_per_query(check):
    sql = (
        "SELECT a.segment_name, COUNT(DISTINCT a.user_id) FROM audience_segments_amer_inmarket a\n"
        "JOIN audience_segments_amer_lifestyle l ON a.user_id = l.user_id GROUP BY 1"
    )
    diagnostic = only(check(sql), "multiple-segment-tables")
    assert_at(diagnostic, sql, "audience_segments_amer_inmarket")


def test_unsupported_and_unknown_functions(check):
    sql = (
        "SELECT campaign, SUM(impressions), GETDATE(), BUILT_IN_PARAMETER('WINDOW_START')\n"
        "FROM dsp_impressions GROUP BY 1"
    )
    found = check(sql)
    getdate = only(found, "unsupported-function")
    assert getdate.severity == "error"
    assert_at(getdate, sql, "GETDATE")
    built_in = only(found, "unknown-built-in-parameter")
    assert_at(built_in, sql, "BUILT_IN_PARAMETER")


def test_diagnostics_are_sorted_by_position_and_serialisable(check):
    sql = "SELECT user_id, *\nFROM dsp_impressions\nLIMIT 5"
    found = check(sql)
    positions = [(d.line, d.column) for d in found]
    assert positions == sorted(positions)
    assert {"user-id-output", "select-star", "limit", "aggregation-required"} <= set(codes(found))
    as_dict = found[0].to_dict()
    assert set(as_dict) == {"severity", "code", "message", "line", "column", "end_line", "end_column"}
    assert problems(found)
