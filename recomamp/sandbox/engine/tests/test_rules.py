import pytest

from recomamp.sandbox.engine import CompileError, check

REACH_BY_CAMPAIGN = """
SELECT campaign, SUM(impressions) AS impressions, COUNT(DISTINCT user_id) AS reach
FROM dsp_impressions
GROUP BY campaign
"""


def compile_error(sql: str, **kwargs) -> CompileError:
    with pytest.raises(CompileError) as caught:
        check(sql, **kwargs)
    return caught.value


def position(error: CompileError) -> tuple[int, int, int, int]:
    return error.line, error.column, error.end_line, error.end_column


def test_amc_text_has_amcs_shape():
    error = CompileError("Object 'x' not found", 2, 6, 2, 6)
    assert error.amc_text() == "From line 2, column 6 to line 2, column 6: Object 'x' not found"


@pytest.mark.parametrize(
    "sql",
    [
        REACH_BY_CAMPAIGN,
        # A VALUES CTE, a join, a window over an aggregated CTE and a final ORDER BY.
        """WITH wanted (campaign_id_string) AS (VALUES ('1'), ('2')),
    per_campaign AS (
      SELECT i.campaign, SUM(i.impressions) AS impressions
      FROM sandbox.dsp_impressions i JOIN wanted w ON w.campaign_id_string = i.campaign_id_string
      GROUP BY 1)
    SELECT campaign, impressions, impressions / SUM(impressions) OVER () AS share
    FROM per_campaign ORDER BY 2""",
        # user_id used inside a CTE and counted, a parameter that is declared, EXTEND_TIME_WINDOW.
        """WITH per_user AS (
      SELECT user_id, COUNT(*) AS n
      FROM TABLE(EXTEND_TIME_WINDOW('dsp_impressions', 'P14D', 'P0D'))
      WHERE user_id IS NOT NULL AND ARRAY_CONTAINS(CUSTOM_PARAMETER('campaigns'), campaign_id_string)
      GROUP BY 1)
    SELECT n, COUNT(DISTINCT user_id) AS users, CAST(BUILT_IN_PARAMETER('TIME_WINDOW_START') AS DATE) AS d
    FROM per_user GROUP BY 1""",
        "WITH t AS (SELECT campaign, COUNT(*) AS n FROM dsp_clicks GROUP BY 1) SELECT * FROM t",
    ],
)
def test_valid_queries_pass(sql):
    assert check(sql, declared_parameters=["campaigns"]) is not None


def test_syntax_error_points_at_the_unexpected_token():
    error = compile_error("SELECT campaign, COUNT(*)\nFROM dsp_impressions\nGROUP campaign")
    assert position(error) == (3, 7, 3, 14)
    assert error.amc_text().startswith(
        'From line 3, column 7 to line 3, column 14: Syntax error at "campaign"'
    )


def test_syntax_error_for_a_dangling_where():
    error = compile_error("SELECT campaign, COUNT(*) FROM dsp_impressions WHERE GROUP BY 1")
    assert (error.line, error.column) == (1, 54)


def test_only_one_statement():
    error = compile_error("SELECT COUNT(*) FROM dsp_clicks; SELECT COUNT(*) FROM dsp_views")
    assert (error.line, error.column) == (1, 34)


def test_unknown_table():
    error = compile_error("SELECT campaign, COUNT(*)\nFROM dsp_impresions GROUP BY 1")
    assert error.amc_text() == "From line 2, column 6 to line 2, column 19: Object 'dsp_impresions' not found"


def test_unknown_table_inside_extend_time_window():
    error = compile_error("SELECT COUNT(*) FROM TABLE(EXTEND_TIME_WINDOW('dsp_impression', 'P1D', 'P0D'))")
    assert "Object 'dsp_impression' not found" in error.message
    assert error.column == 47


def test_unknown_qualified_column():
    error = compile_error("SELECT i.campaing, COUNT(*) FROM dsp_impressions i GROUP BY 1")
    assert (
        error.amc_text()
        == "From line 1, column 8 to line 1, column 17: Column 'campaing' not found in table 'i'"
    )


def test_unknown_unqualified_column():
    error = compile_error("SELECT campaign, SUM(impresions) FROM dsp_impressions GROUP BY 1")
    assert position(error) == (1, 22, 1, 31)
    assert error.message == "Column 'impresions' not found in any table"


def test_unknown_column_of_a_cte():
    error = compile_error(
        "WITH c AS (SELECT campaign, COUNT(*) AS n FROM dsp_clicks GROUP BY 1)\n"
        "SELECT campaign, SUM(m) FROM c GROUP BY 1"
    )
    assert position(error) == (2, 22, 2, 22)


def test_select_star_on_an_amc_table():
    error = compile_error(
        "SELECT campaign, COUNT(*) FROM dsp_impressions GROUP BY 1\nUNION ALL\nSELECT * FROM dsp_clicks"
    )
    assert position(error) == (3, 8, 3, 8)
    assert "SELECT *" in error.message


def test_qualified_star_on_an_amc_table():
    error = compile_error("SELECT c.* FROM dsp_clicks c")
    assert position(error) == (1, 8, 1, 10)


def test_limit():
    error = compile_error(REACH_BY_CAMPAIGN + "LIMIT 10")
    assert position(error) == (5, 1, 5, 8)
    assert "LIMIT" in error.message


def test_right_join():
    sql = (
        "SELECT i.campaign, COUNT(*) FROM dsp_clicks c\n"
        "  RIGHT OUTER JOIN dsp_impressions i ON c.request_tag = i.request_tag GROUP BY 1"
    )
    error = compile_error(sql)
    assert position(error) == (2, 3, 2, 18)
    assert "LEFT JOIN" in error.message


def test_final_select_must_aggregate():
    error = compile_error(
        "WITH c AS (SELECT campaign, impressions FROM dsp_impressions)\nSELECT campaign, impressions FROM c"
    )
    assert position(error) == (2, 1, 2, 6)
    assert "aggregate" in error.message


def test_user_id_cannot_be_output():
    error = compile_error("SELECT campaign, user_id, COUNT(*) FROM dsp_impressions GROUP BY 1, 2")
    assert position(error) == (1, 18, 1, 24)
    assert "'user_id' cannot appear in the query output" in error.message


def test_user_id_renamed_in_a_cte_cannot_be_output():
    error = compile_error(
        "WITH u AS (SELECT user_id AS shopper, COUNT(*) AS n FROM conversions GROUP BY 1)\n"
        "SELECT shopper, SUM(n) FROM u GROUP BY 1"
    )
    assert position(error) == (2, 8, 2, 14)


@pytest.mark.parametrize("column", ["request_tag", "device_id"])
def test_other_never_output_identifiers(column):
    error = compile_error(f"SELECT {column}, COUNT(*) FROM dsp_impressions GROUP BY 1")
    assert error.column == 8


def test_undeclared_parameter():
    sql = (
        "SELECT campaign, COUNT(*) FROM dsp_impressions\n"
        "WHERE campaign_id_string IN (CUSTOM_PARAMETER('camps'))\nGROUP BY 1"
    )
    error = compile_error(sql, declared_parameters=["other"])
    assert error.amc_text() == (
        "From line 2, column 30 to line 2, column 54: The query references the undeclared parameter camps"
    )
    assert check(sql, declared_parameters=["camps"]) is not None
    assert check(sql) is not None  # nothing declared to compare with: ad hoc query


def test_unknown_built_in_parameter():
    error = compile_error(
        "SELECT BUILT_IN_PARAMETER('TIME_WINDOW_MIDDLE') AS x, COUNT(*) FROM dsp_clicks GROUP BY 1"
    )
    assert position(error) == (1, 8, 1, 47)


def test_literal_filter_on_high_sensitivity_column():
    error = compile_error(
        "SELECT campaign, COUNT(*) FROM dsp_impressions WHERE postal_code = '10001' GROUP BY 1"
    )
    assert position(error) == (1, 54, 1, 74)


@pytest.mark.parametrize(
    "call,label",
    [("version()", "VERSION"), ("current_setting('threads')", "CURRENT_SETTING"), ("read_csv('/etc/passwd')",
                                                                                   "READ_CSV")],
)  # fmt: skip
def test_only_functions_amc_documents_run(call, label):
    sql = f"SELECT campaign, {call} AS v, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY 1, 2"
    error = compile_error(sql)
    assert error.message == f"Function {label} is not supported"
    assert error.line == 1 and error.column == sql.index(call) + 1


def test_documented_functions_still_compile():
    check("""SELECT campaign, LOCATE('a', campaign) AS p, SECONDS_BETWEEN(MIN(impression_dt), MAX(impression_dt)) AS s,
                    DATE_TRUNC('DAY', MIN(impression_dt)) AS d, COALESCE(SUM(impressions), 0) AS n,
                    COUNT(DISTINCT user_id) AS reach
             FROM dsp_impressions WHERE RANDOM() <= 0.5 GROUP BY 1, 2""")
