"""Parameter extraction, typing, safe substitution and AMC parameterValues."""

import datetime as dt

import pytest
import sqlglot
from sqlglot import exp

from queries.validation import (
    ParameterDefinition,
    ParameterError,
    ParameterRef,
    coerce_value,
    custom_parameter_values,
    extract_parameters,
    guess_type,
    render_placeholders,
)
from queries.validation.parsing import AMC

from .helpers import position_of

# -- extraction -----------------------------------------------------------------------------------------


def test_extract_parameters_unique_in_order_with_positions():
    sql = (
        "SELECT campaign, SUM(impressions) FROM dsp_impressions\n"
        "WHERE impression_date >= {{ start_date }} AND campaign_id_string IN ({{campaign_ids}})\n"
        "  AND ARRAY_CONTAINS(custom_parameter('dsp_campaigns'), campaign_id_string)\n"
        "  AND impression_date <= '{{end_date}}' AND impression_date >= {{start_date}}\n"
        "GROUP BY 1"
    )
    assert extract_parameters(sql) == [
        ParameterRef("start_date", "placeholder", 2, 26),
        ParameterRef("campaign_ids", "placeholder", *position_of(sql, "{{campaign_ids}}")),
        ParameterRef("dsp_campaigns", "custom", 3, 22),
        ParameterRef("end_date", "placeholder", 4, 27),
    ]


def test_extract_parameters_ignores_comments_and_text_that_only_looks_like_a_call():
    sql = (
        "-- CUSTOM_PARAMETER('old') and {{older}}\n"
        "/* {{also_old}} */\n"
        "SELECT 'CUSTOM_PARAMETER(''quoted'')' AS label, CUSTOM_PARAMETER('live') AS value"
    )
    assert [ref.name for ref in extract_parameters(sql)] == ["live"]


# -- types ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("start_date", "date"),
        ("end_date", "date"),
        ("date", "date"),
        ("start", "timestamp"),
        ("window_end", "timestamp"),
        ("campaign_ids", "campaign_list"),
        ("dsp_campaigns", "campaign_list"),
        ("tracked_asins", "asin_list"),
        ("campaign_names", "string_list"),
        ("lookback_days", "integer"),
        ("min_impressions", "integer"),
        ("brand", "string"),
    ],
)
def test_guess_type(name, expected):
    assert guess_type(name) == expected


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("date", "2025-01-31", dt.date(2025, 1, 31)),
        ("date", dt.datetime(2025, 1, 31, 13, 5), dt.date(2025, 1, 31)),
        ("timestamp", "2025-01-31", dt.datetime(2025, 1, 31)),
        ("timestamp", "2025-01-31T08:30:00", dt.datetime(2025, 1, 31, 8, 30)),
        ("timestamp", "2025-01-31 08:30", dt.datetime(2025, 1, 31, 8, 30)),
        ("integer", " 14 ", 14),
        ("integer", 7.0, 7),
        ("string", "men's", "men's"),
        ("id_list", "123, 456\n789,123", ["123", "456", "789"]),
        ("id_list", [" B00X:1 ", "cmp-2.a_b"], ["B00X:1", "cmp-2.a_b"]),
        ("string_list", "Brand A, Brand B", ["Brand A", "Brand B"]),
    ],
)
def test_coerce_value_accepts_valid_input(kind, raw, expected):
    assert coerce_value(ParameterDefinition("p", kind), raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw", "fragment"),
    [
        ("date", "31/01/2025", "2025-01-31"),
        ("date", "2025-02-30", "not a valid date"),
        ("timestamp", "2025-01-31T00:00:00Z", "time zone"),
        ("timestamp", dt.datetime(2025, 1, 31, tzinfo=dt.UTC), "time zone"),
        ("integer", "12.5", "whole number"),
        ("integer", True, "whole number"),
        ("integer", "1; DROP TABLE x", "whole number"),
        ("id_list", "123, 456') OR ('1'='1", "not a valid id"),
        ("id_list", ["ok", "bad id"], "'bad id'"),
        ("id_list", " , ,", "at least one"),
        ("string", "abc\\", "Backslashes"),
        ("string", "line\nbreak", "Line breaks"),
    ],
)
def test_coerce_value_rejects_bad_input_with_a_plain_message(kind, raw, fragment):
    with pytest.raises(ParameterError) as caught:
        coerce_value(ParameterDefinition("p", kind), raw)
    assert caught.value.name == "p"
    assert fragment in caught.value.message


def test_empty_values_use_the_default_or_are_required():
    with_default = ParameterDefinition("lookback_days", "integer", default="14")
    assert coerce_value(with_default, "") == 14
    required = ParameterDefinition("start_date", "date")
    with pytest.raises(ParameterError, match="required"):
        coerce_value(required, None)
    optional = ParameterDefinition("campaign_ids", "id_list", required=False)
    assert coerce_value(optional, []) is None


def test_unknown_parameter_type_is_refused():
    with pytest.raises(ValueError, match="Unknown parameter type"):
        ParameterDefinition("x", "float")


# -- rendering ------------------------------------------------------------------------------------------


def _parse(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read=AMC)


def test_render_placeholders_with_typed_literals():
    sql = (
        "SELECT campaign, SUM(impressions) FROM dsp_impressions\n"
        "WHERE impression_date BETWEEN {{start_date}} AND {{end_date}}\n"
        "  AND impression_dt >= {{window_start}} AND campaign_id_string IN ({{campaign_ids}})\n"
        "  AND campaign = {{campaign_name}} AND impressions > {{min_impressions}}\n"
        "GROUP BY 1"
    )
    definitions = {
        "start_date": ParameterDefinition("start_date", "date"),
        "end_date": ParameterDefinition("end_date", "date"),
        "window_start": ParameterDefinition("window_start", "timestamp"),
        "campaign_ids": ParameterDefinition("campaign_ids", "id_list"),
        "campaign_name": ParameterDefinition("campaign_name", "string"),
        "min_impressions": ParameterDefinition("min_impressions", "integer"),
    }
    values = {
        "start_date": "2025-01-01",
        "end_date": dt.date(2025, 1, 31),
        "window_start": "2025-01-01T06:00:00",
        "campaign_ids": "111, 222",
        "campaign_name": "Men's shoes",
        "min_impressions": "3",
    }
    rendered = render_placeholders(sql, definitions, values)
    assert "BETWEEN '2025-01-01' AND '2025-01-31'" in rendered
    assert "impression_dt >= '2025-01-01T06:00:00'" in rendered
    assert "IN ('111', '222')" in rendered
    assert "campaign = 'Men''s shoes'" in rendered
    assert "impressions > 3" in rendered
    tree = _parse(rendered)
    assert tree.find(exp.EQ).expression.this == "Men's shoes"


def test_placeholder_inside_quotes_gets_the_literal_content():
    sql = "SELECT 1 WHERE d >= CAST('{{start_date}}' AS DATE) AND name = '{{brand}}'"
    rendered = render_placeholders(
        sql,
        {"start_date": ParameterDefinition("start_date", "date")},
        {"start_date": "2025-01-31", "brand": "O'Neil"},
    )
    assert rendered == "SELECT 1 WHERE d >= CAST('2025-01-31' AS DATE) AND name = 'O''Neil'"
    assert _parse(rendered).find(exp.EQ).expression.this == "O'Neil"


@pytest.mark.parametrize(
    "attack",
    [
        "x' OR '1'='1",
        "x'; DELETE FROM dsp_impressions; --",
        "x' UNION SELECT user_id FROM dsp_impressions --",
        "''''",
        "-- comment",
        "/* open comment",
        "{{other}}",
    ],
)
def test_string_values_stay_inside_one_literal(attack):
    sql = (
        "SELECT SUM(impressions) FROM dsp_impressions "
        "WHERE campaign = {{campaign}} AND advertiser = '{{campaign}}'"
    )
    rendered = render_placeholders(
        sql, {"campaign": ParameterDefinition("campaign", "string")}, {"campaign": attack}
    )
    statements = [s for s in sqlglot.parse(rendered, read=AMC) if s is not None]
    assert len(statements) == 1
    where = statements[0].args["where"].this
    assert isinstance(where, exp.And)
    comparisons = list(where.find_all(exp.EQ))
    assert len(comparisons) == 2
    assert all(c.expression.is_string and c.expression.this == attack for c in comparisons)
    assert not list(statements[0].find_all(exp.Delete, exp.Union, exp.Or))


@pytest.mark.parametrize(
    "attack",
    [
        "1') OR ('1'='1",
        "1, 2) UNION SELECT user_id FROM dsp_impressions --",
        "abc'--",
        "a b",
        "x;y",
    ],
)
def test_id_lists_refuse_anything_but_plain_ids(attack):
    definitions = {"campaign_ids": ParameterDefinition("campaign_ids", "id_list")}
    with pytest.raises(ParameterError) as caught:
        render_placeholders(
            "SELECT 1 WHERE c IN ({{campaign_ids}})", definitions, {"campaign_ids": ["ok", attack]}
        )
    assert caught.value.name == "campaign_ids"


def test_string_lists_quote_each_item():
    definitions = {"names": ParameterDefinition("names", "string_list")}
    values = {"names": ["Brand A", "x') OR ('1'='1"]}
    rendered = render_placeholders("SELECT 1 WHERE c IN ({{names}})", definitions, values)
    in_list = _parse(rendered).find(exp.In)
    assert [item.this for item in in_list.expressions] == ["Brand A", "x') OR ('1'='1"]


def test_undefined_placeholders_are_typed_from_their_name():
    rendered = render_placeholders(
        "SELECT 1 WHERE d = {{report_date}} AND n > {{lookback_days}}",
        {},
        {
            "report_date": "2025-03-01",
            "lookback_days": "7",
        },
    )
    assert rendered == "SELECT 1 WHERE d = '2025-03-01' AND n > 7"
    with pytest.raises(ParameterError, match="not a valid date"):
        render_placeholders("SELECT {{report_date}}", {}, {"report_date": "tomorrow; DROP"})


def test_optional_empty_placeholder_renders_null_and_comments_are_untouched():
    definitions = {"ids": ParameterDefinition("ids", "id_list", required=False)}
    rendered = render_placeholders("-- {{ids}}\nSELECT 1 WHERE c IN ({{ids}})", definitions, {})
    assert rendered == "-- {{ids}}\nSELECT 1 WHERE c IN (NULL)"


def test_missing_required_placeholder_value_raises():
    with pytest.raises(ParameterError) as caught:
        render_placeholders("SELECT {{start_date}}", {}, {})
    assert caught.value.name == "start_date"


# -- AMC parameterValues --------------------------------------------------------------------------------


def test_custom_parameter_values_are_json_ready():
    definitions = {
        "dsp_campaigns": ParameterDefinition("dsp_campaigns", "id_list"),
        "window_start": ParameterDefinition("window_start", "timestamp"),
        "event_date": ParameterDefinition("event_date", "date", default="2025-07-08"),
        "lookback_days": ParameterDefinition("lookback_days", "integer"),
        "brand": ParameterDefinition("brand", "string", required=False),
    }
    values = {
        "dsp_campaigns": "111,222",
        "window_start": dt.datetime(2025, 7, 1, 0, 0, 0, 123),
        "lookback_days": 14,
    }
    assert custom_parameter_values(definitions, values) == {
        "dsp_campaigns": ["111", "222"],
        "window_start": "2025-07-01T00:00:00",
        "event_date": "2025-07-08",
        "lookback_days": 14,
    }


def test_custom_parameter_values_report_the_bad_parameter():
    definitions = {"lookback_days": ParameterDefinition("lookback_days", "integer")}
    with pytest.raises(ParameterError) as caught:
        custom_parameter_values(definitions, {"lookback_days": "two weeks"})
    assert caught.value.name == "lookback_days"
    assert "whole number" in caught.value.message
