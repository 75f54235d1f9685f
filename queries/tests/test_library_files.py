"""The shipped schema dataset and query library: they parse, and their SQL only uses real tables and columns.

No database needed.
"""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot import exp

from queries.catalog_dirs import read_dataset, read_library
from queries.catalog_files import placeholders
from queries.catalog_import import DEFAULT_DATASET_DIR, DEFAULT_LIBRARY_DIR

DATASET = read_dataset(DEFAULT_DATASET_DIR)
LIBRARY = read_library(DEFAULT_LIBRARY_DIR)
COLUMNS = {table.table_name: {column.name for column in table.columns} for table in DATASET}

# One plausible literal per parameter type, to turn a template into parseable SQL.
SAMPLE_LITERALS = {
    "date": "'2025-07-08'",
    "timestamp": "'2025-07-08T00:00:00'",
    "integer": "7",
    "string": "'US'",
    "id_list": "'111', '222'",
    "string_list": "'sponsored_products', 'sponsored_brands'",
    "asin_list": "'B0AAAAAAAA', 'B0BBBBBBBB'",
    "campaign_list": "'111', '222'",
}
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def render(template) -> str:
    types = {parameter.name: parameter.type for parameter in template.parameters}
    return _PLACEHOLDER.sub(lambda match: SAMPLE_LITERALS[types[match.group(1)]], template.sql)


def tables_read(tree: exp.Expression) -> set[str]:
    """Source tables: plain table references that are not CTEs, plus EXTEND_TIME_WINDOW('table', …) arguments."""
    cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    names = set()
    for table in tree.find_all(exp.Table):
        if isinstance(table.this, exp.Identifier) and table.name.lower() not in cte_names:
            names.add(table.name.lower())
    for function in tree.find_all(exp.Anonymous):
        if function.name.upper() == "EXTEND_TIME_WINDOW":
            names.add(function.expressions[0].this.lower())
    return names


def names_defined_in_query(tree: exp.Expression) -> set[str]:
    """Aliases and CTE / derived-table column names: valid column references that are not table columns."""
    names = {alias.alias.lower() for alias in tree.find_all(exp.Alias)}
    for table_alias in tree.find_all(exp.TableAlias):
        names.update(column.name.lower() for column in table_alias.columns)
    return names


def unknown_columns(sql: str, tables: list[str]) -> set[str]:
    tree = sqlglot.parse_one(sql)
    known = set().union(*(COLUMNS[table] for table in tables)) | names_defined_in_query(tree)
    return {column.name.lower() for column in tree.find_all(exp.Column)} - known


def final_select(tree: exp.Expression) -> exp.Select:
    return tree if isinstance(tree, exp.Select) else tree.find(exp.Select)


def assert_aggregated_and_anonymous(tree: exp.Expression) -> None:
    """The outer SELECT aggregates something and returns no user identifier (CTEs may use user_id freely)."""
    select = final_select(tree)
    assert not any(isinstance(expression, exp.Star) for expression in select.expressions)
    assert any(expression.find(exp.AggFunc) for expression in select.expressions), "the final SELECT must aggregate"
    assert "user_id" not in {expression.alias_or_name.lower() for expression in select.expressions}


def test_dataset_covers_the_documented_tables():
    assert len(DATASET) >= 25
    for required in (
        "dsp_impressions",
        "dsp_clicks",
        "dsp_views",
        "sponsored_ads_traffic",
        "amazon_attributed_events_by_conversion_time",
        "amazon_attributed_events_by_traffic_time",
        "conversions",
        "amazon_retail_purchases",
    ):
        assert required in COLUMNS
        assert len(COLUMNS[required]) > 20


def test_every_column_has_a_description():
    missing = [f"{t.table_name}.{c.name}" for t in DATASET for c in t.columns if not c.description]
    assert missing == []


def test_identity_columns_are_never_outputtable():
    for table in DATASET:
        for column in table.columns:
            if column.name == "user_id":
                assert column.threshold == "VERY_HIGH", table.table_name


@pytest.mark.parametrize(
    "table, example", [(t, e) for t in DATASET for e in t.examples], ids=lambda value: getattr(value, "table_name", "")
)
def test_dataset_examples_follow_amc_rules(table, example):
    sql = example["sql"]
    tree = sqlglot.parse_one(sql)
    assert not re.search(r"\bLIMIT\b", sql, re.IGNORECASE)
    assert_aggregated_and_anonymous(tree)
    assert table.table_name in tables_read(tree)
    assert tables_read(tree) <= set(COLUMNS)
    assert unknown_columns(sql, sorted(tables_read(tree))) == set()


def test_library_has_enough_templates_with_unique_slugs():
    assert len(LIBRARY) >= 20
    assert len({template.slug for template in LIBRARY}) == len(LIBRARY)


@pytest.mark.parametrize("template", LIBRARY, ids=lambda template: template.slug)
def test_template_declares_exactly_the_placeholders_it_uses(template):
    assert set(placeholders(template.sql)) == {parameter.name for parameter in template.parameters}


@pytest.mark.parametrize("template", LIBRARY, ids=lambda template: template.slug)
def test_template_reads_only_declared_tables_and_real_columns(template):
    tree = sqlglot.parse_one(render(template))
    assert set(template.tables) <= set(COLUMNS), "declared tables must exist in the dataset"
    assert tables_read(tree) == set(template.tables)
    assert unknown_columns(render(template), template.tables) == set()


@pytest.mark.parametrize("template", LIBRARY, ids=lambda template: template.slug)
def test_template_output_is_aggregated_and_anonymous(template):
    assert_aggregated_and_anonymous(sqlglot.parse_one(render(template)))
    assert not re.search(r"\bLIMIT\b|SELECT\s+\*", template.sql, re.IGNORECASE)


@pytest.mark.parametrize("template", LIBRARY, ids=lambda template: template.slug)
def test_template_passes_the_sql_validator(template):
    validation = pytest.importorskip("queries.validation")
    catalog = validation.Catalog(
        {
            table.table_name: {
                column.name: validation.ColumnInfo(column.data_type, column.kind, column.threshold)
                for column in table.columns
            }
            for table in DATASET
        }
    )
    errors = [
        diagnostic
        for diagnostic in validation.validate(render(template), catalog)
        if diagnostic.severity in ("error", "warning")
    ]
    assert errors == []


def test_column_check_catches_unknown_names_and_accepts_aliases():
    sql = """
    WITH per_user AS (SELECT user_id, SUM(impressions) AS seen FROM dsp_impressions GROUP BY user_id)
    SELECT seen, COUNT(DISTINCT user_id) AS users, SUM(impresions) AS typo FROM per_user GROUP BY seen
    """
    assert unknown_columns(sql, ["dsp_impressions"]) == {"impresions"}
    assert tables_read(sqlglot.parse_one(sql)) == {"dsp_impressions"}
    extended = "SELECT SUM(clicks) AS c FROM TABLE(EXTEND_TIME_WINDOW('sponsored_ads_traffic', 'P28D', 'P0D'))"
    assert tables_read(sqlglot.parse_one(extended)) == {"sponsored_ads_traffic"}
