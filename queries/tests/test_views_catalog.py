"""Data source pages, the schema explorer, autocomplete data and the cached validator catalog."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from queries.catalog import hint_tables, invalidate_catalog, search_schema, validator_catalog
from queries.models import DataSource, SchemaField

pytestmark = pytest.mark.django_db


def make_source(schema_id, table, category, tags, columns, **extra):
    source = DataSource.objects.create(schema_id=schema_id, name=table.replace("_", " ").title(), table_name=table,
                                       category=category, tags=tags, **extra)  # fmt: skip
    for position, (name, data_type, kind, threshold) in enumerate(columns):
        SchemaField.objects.create(data_source=source, name=name, data_type=data_type, kind=kind,
                                   threshold=threshold, position=position, description=f"About {name}.")  # fmt: skip
    return source


@pytest.fixture
def catalog_rows():
    impressions = make_source(
        "dsp-impressions", "dsp_impressions", "DSP traffic", ["dsp", "reach"],
        [("campaign", "STRING", "dimension", "LOW"), ("user_id", "STRING", "dimension", "VERY_HIGH"),
         ("impressions", "LONG", "metric", "NONE")],
        description="One row per DSP impression.", data_availability="13 months of history.",
        examples=[{"title": "Reach by campaign", "description": "Users per campaign.",
                   "sql": "SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY campaign"}],
    )  # fmt: skip
    conversions = make_source(
        "conversions", "conversions", "Conversions", ["purchases"],
        [("conversion_id", "STRING", "dimension", "HIGH"), ("purchases", "LONG", "metric", "NONE")],
        description="Attributed conversions.",
    )  # fmt: skip
    return impressions, conversions


def test_list_full_page_and_htmx_partial_share_one_url(user_client, catalog_rows):
    url = reverse("data_source_list")
    page = user_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" in html and 'id="results"' in html and "dsp_impressions" in html
    partial = user_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "dsp_impressions" in partial and "conversions" in partial


def test_search_matches_column_names_and_filters_come_from_the_url(user_client, catalog_rows):
    url = reverse("data_source_list")
    by_column = user_client.get(url, {"q": "user_id"}, HTTP_HX_REQUEST="true").content.decode()
    assert "dsp_impressions" in by_column and "conversions</code>" not in by_column
    by_category = user_client.get(url, {"category": "Conversions"}).content.decode()
    assert "<code>conversions</code>" in by_category and "dsp_impressions" not in by_category
    by_tag = user_client.get(url, {"tag": "reach"}, HTTP_HX_REQUEST="true").content.decode()
    assert "dsp_impressions" in by_tag and "<code>conversions</code>" not in by_tag
    # The filter form shows the current values, so the page can be bookmarked and shared.
    assert 'value="Conversions" selected' in by_category


def test_field_counts_are_annotated_without_a_query_per_row(user_client, catalog_rows):
    url = reverse("data_source_list")
    with CaptureQueriesContext(connection) as two_sources:
        user_client.get(url)
    for index in range(5):
        make_source(f"extra-{index}", f"extra_{index}", "Other", [], [("a", "STRING", "dimension", "LOW")])
    with CaptureQueriesContext(connection) as seven_sources:
        response = user_client.get(url)
    assert len(seven_sources) == len(two_sources)
    counts = {s.table_name: s.field_count for s in response.context["sources"]}
    assert counts["dsp_impressions"] == 3 and counts["conversions"] == 2 and counts["extra_4"] == 1


def test_detail_page_has_contents_fields_and_examples_to_open(user_client, catalog_rows):
    html = user_client.get(reverse("data_source_detail", args=["dsp-impressions"])).content.decode()
    for anchor in ("#overview", "#availability", "#fields", "#examples"):
        assert f'href="{anchor}"' in html
    assert 'id="field-user_id"' in html and "Very high" in html and "badge-metric" in html
    assert "13 months of history." in html
    open_link = reverse("query_editor") + "?example=dsp-impressions:0"
    assert open_link in html
    editor = user_client.get(open_link).content.decode()
    assert "COUNT(DISTINCT user_id) AS reach" in editor


def test_unknown_data_source_is_404(user_client):
    assert user_client.get(reverse("data_source_detail", args=["nope"])).status_code == 404


def test_schema_explorer_partial_and_page(user_client, catalog_rows):
    url = reverse("editor_schema")
    partial = user_client.get(url, {"q": "purch"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and 'data-insert="purchases"' in partial and 'data-insert="campaign"' not in partial
    page = user_client.get(url, {"q": "dsp_imp"}).content.decode()
    assert "<html" in page and 'data-insert="user_id"' in page  # one table matched by name: its columns listed


def test_hints_list_tables_and_columns(user_client, catalog_rows):
    data = user_client.get(reverse("catalog_hints")).json()
    assert data["tables"]["dsp_impressions"] == ["campaign", "user_id", "impressions"]
    columns = {c["name"]: c for c in data["columns"]["dsp_impressions"]}
    assert [c["name"] for c in data["columns"]["dsp_impressions"]] == ["campaign", "user_id", "impressions"]
    assert columns["impressions"]["kind"] == "metric" and columns["campaign"]["kind"] == "dimension"
    assert columns["campaign"]["type"] == "STRING"
    functions = {f["name"]: f for f in data["functions"]}
    assert functions["COUNT"]["aggregate"] and not functions["SECONDS_BETWEEN"]["aggregate"]
    assert "CUSTOM_PARAMETER" in functions and "GETDATE" not in functions  # AMC refuses GETDATE


def test_search_lists_bare_table_names_when_many_match(catalog_rows):
    for index in range(4):
        make_source(f"t-{index}", f"audience_{index}", "Other", [], [("segment", "STRING", "dimension", "LOW")])
    results = search_schema("audience")
    assert {r["table"] for r in results} == {f"audience_{i}" for i in range(4)}
    assert all(r["columns"] == [] for r in results)
    assert [c["name"] for c in search_schema("segm")[0]["columns"]] == ["segment"]


def test_validator_catalog_follows_the_database(catalog_rows):
    catalog = validator_catalog()
    assert catalog.columns("dsp_impressions")["user_id"].threshold == "VERY_HIGH"
    assert catalog.columns("dsp_impressions_for_audiences") is not None
    impressions = catalog_rows[0]
    SchemaField.objects.create(data_source=impressions, name="device_type", data_type="STRING", kind="dimension",
                               position=9)  # fmt: skip
    assert "device_type" in hint_tables()["dsp_impressions"]  # new rows change the cache key
    SchemaField.objects.filter(name="campaign").update(threshold="HIGH")  # an in-place edit keeps the key…
    invalidate_catalog()  # …until the import says so
    assert validator_catalog().columns("dsp_impressions")["campaign"].threshold == "HIGH"
