"""A column neither grouped nor aggregated: AMC refuses it at compile time, so the validator reports it."""

from .helpers import assert_at, only, problems


def test_column_missing_from_group_by_is_an_error_at_the_column(check):
    sql = "SELECT campaign,\n  advertiser,\n  COUNT(DISTINCT user_id) AS reach\nFROM dsp_impressions\nGROUP BY campaign"
    diagnostic = only(check(sql), "ungrouped-column")
    assert diagnostic.severity == "error" and "advertiser" in diagnostic.message
    assert_at(diagnostic, sql, "advertiser")


def test_aggregate_without_group_by_needs_every_column_aggregated(check):
    sql = "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions"
    assert_at(only(check(sql), "ungrouped-column"), sql, "campaign")


def test_grouping_by_position_alias_or_expression_is_fine(check):
    for sql in (
        "SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY 1",
        "SELECT i.campaign AS c, COUNT(DISTINCT i.user_id) AS reach FROM dsp_impressions i GROUP BY c",
        "SELECT campaign AS c, SUM(impressions) AS n FROM dsp_impressions GROUP BY campaign",
        "SELECT campaign, SUM(impressions) / COUNT(DISTINCT user_id) AS per_user FROM dsp_impressions "
        "GROUP BY campaign",
    ):
        assert [p for p in problems(check(sql)) if p[0] == "ungrouped-column"] == [], sql
