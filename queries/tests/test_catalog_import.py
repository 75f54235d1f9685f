"""Reading catalog/library files (errors with file:line) and importing them into the database."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from queries.catalog_dirs import read_dataset
from queries.catalog_files import CatalogFileError, parse_table_file, parse_template_file
from queries.catalog_import import DEFAULT_DATASET_DIR, DEFAULT_LIBRARY_DIR
from queries.models import DataSource, QueryTemplate, SchemaField

TABLE_FILE = """\
schema_id: demo-table
name: Demo table
table_name: demo_table
category: Demo
description: A small table for tests.
columns:
  - name: campaign
    data_type: STRING
    kind: dimension
    threshold: LOW
  - name: impressions
    data_type: LONG
    kind: metric
    threshold: NONE
"""

TEMPLATE_FILE = """\
slug: demo-template
name: Demo template
description: Impressions per campaign.
category: Demo
tables: [dsp_impressions]
parameters:
  - name: campaign_ids
    type: id_list
    label: Campaigns
    required: true
sql: |
  SELECT campaign, SUM(impressions) AS impressions
  FROM dsp_impressions
  WHERE campaign_id_string IN ({{campaign_ids}})
  GROUP BY campaign
"""


def write(tmp_path: Path, text: str, name: str = "file.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_for(parse, path: Path) -> CatalogFileError:
    with pytest.raises(CatalogFileError) as caught:
        parse(path)
    return caught.value


# --- file checks (no database) -------------------------------------------------------------------------------


def test_valid_table_file_parses(tmp_path):
    spec = parse_table_file(write(tmp_path, TABLE_FILE))
    assert (spec.schema_id, spec.table_name) == ("demo-table", "demo_table")
    assert [(c.name, c.kind, c.threshold) for c in spec.columns] == [
        ("campaign", "dimension", "LOW"),
        ("impressions", "metric", "NONE"),
    ]


@pytest.mark.parametrize(
    "old, new, line, message",
    [
        ("    kind: metric", "    kind: measure", 13, "'kind' must be one of dimension, metric"),
        ("    threshold: LOW", "    threshold: SECRET", 10, "'threshold' must be one of"),
        ("  - name: impressions", "  - name: campaign", 11, "duplicate column 'campaign' (first defined on line 7)"),
        ("category: Demo\n", "", 1, "missing required key 'category'"),
        ("    data_type: LONG\n", "", 11, "a column is missing required key 'data_type'"),
        ("description: A small", "descripton: A small", 5, "unknown key 'descripton'"),
        ("columns:", "columns: [", 7, "invalid YAML"),
    ],
)
def test_table_file_errors_point_at_the_line(tmp_path, old, new, line, message):
    assert old in TABLE_FILE
    path = write(tmp_path, TABLE_FILE.replace(old, new, 1))
    error = error_for(parse_table_file, path)
    assert str(error).startswith(f"{path}:{line}: ")
    assert message in str(error)


@pytest.mark.parametrize(
    "old, new, line, message",
    [
        ("{{campaign_ids}}", "{{campaigns}}", 11, "uses {{campaigns}} but no parameter declares it"),
        ("    type: id_list", "    type: list", 8, "'type' must be one of date, timestamp"),
        ("    label: Campaigns", "    default: 12\n    label: Campaigns", 9, "does not fit parameter type 'id_list'"),
        ("tables: [dsp_impressions]", "tables: []", 5, "'tables' must list"),
    ],
)
def test_template_file_errors_point_at_the_line(tmp_path, old, new, line, message):
    assert old in TEMPLATE_FILE
    path = write(tmp_path, TEMPLATE_FILE.replace(old, new, 1))
    error = error_for(parse_template_file, path)
    assert str(error).startswith(f"{path}:{line}: ")
    assert message in str(error)


def test_duplicate_table_name_across_files_is_rejected(tmp_path):
    write(tmp_path, TABLE_FILE, "a.yaml")
    second = write(tmp_path, TABLE_FILE.replace("schema_id: demo-table", "schema_id: other"), "b.yaml")
    with pytest.raises(CatalogFileError) as caught:
        read_dataset(tmp_path)
    assert str(caught.value).startswith(f"{second}:3: table_name 'demo_table' is already used by a.yaml")


# --- database imports ----------------------------------------------------------------------------------------


@pytest.fixture
def dataset(tmp_path) -> Path:
    copy = tmp_path / "amc_dataset"
    shutil.copytree(DEFAULT_DATASET_DIR, copy)
    return copy


def run(command: str, *args) -> str:
    out = StringIO()
    call_command(command, *[str(arg) for arg in args], stdout=out)
    return out.getvalue()


def snapshot() -> list:
    sources = list(DataSource.objects.order_by("schema_id").values_list())
    fields = list(SchemaField.objects.order_by("data_source__schema_id", "position").values_list())
    return [sources, fields]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.django_db
def test_import_creates_every_table_and_column(dataset):
    specs = read_dataset(dataset)
    output = run("import_amc_schemas", dataset)
    assert DataSource.objects.count() == len(specs)
    assert SchemaField.objects.count() == sum(len(spec.columns) for spec in specs)
    assert f"Tables: {len(specs)} created, 0 updated, 0 removed" in output
    impressions = DataSource.objects.get(table_name="dsp_impressions")
    assert impressions.source_file == "dsp_impressions.yaml"
    assert impressions.examples and impressions.fields.get(name="user_id").threshold == "VERY_HIGH"
    assert list(impressions.fields.values_list("position", flat=True)) == list(range(impressions.fields.count()))


@pytest.mark.django_db
def test_second_import_changes_nothing(dataset):
    run("import_amc_schemas", dataset)
    before = snapshot()
    output = run("import_amc_schemas", dataset)
    assert "Tables: 0 created, 0 updated, 0 removed. Columns: 0 created, 0 updated, 0 removed." in output
    assert snapshot() == before  # includes updated_at


@pytest.mark.django_db
def test_edited_file_updates_only_its_rows(dataset):
    run("import_amc_schemas", dataset)
    untouched = DataSource.objects.get(table_name="dsp_clicks").updated_at
    edit(dataset / "dsp_impressions.yaml", "name: DSP impressions", "name: DSP impressions (edited)")
    edit(dataset / "dsp_impressions.yaml", "description: Advertiser name.", "description: Who pays for the ads.")

    output = run("import_amc_schemas", dataset)

    assert "Tables: 0 created, 1 updated, 0 removed. Columns: 0 created, 1 updated, 0 removed." in output
    source = DataSource.objects.get(table_name="dsp_impressions")
    assert source.name == "DSP impressions (edited)"
    assert source.fields.get(name="advertiser").description == "Who pays for the ads."
    assert DataSource.objects.get(table_name="dsp_clicks").updated_at == untouched


@pytest.mark.django_db
def test_removed_column_is_deleted(dataset):
    run("import_amc_schemas", dataset)
    path = dataset / "segment_metadata.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("- name: category_path")
    end = text.index("- name:", start + 1)
    path.write_text(text[:start] + text[end:], encoding="utf-8")

    output = run("import_amc_schemas", dataset)

    # The five columns after it move up one position, which counts as an update.
    assert "Columns: 0 created, 5 updated, 1 removed." in output
    fields = DataSource.objects.get(table_name="segment_metadata").fields
    assert not fields.filter(name="category_path").exists()
    assert list(fields.values_list("position", flat=True)) == list(range(fields.count()))


@pytest.mark.django_db
def test_removed_table_file_is_kept_unless_pruned(dataset):
    run("import_amc_schemas", dataset)
    (dataset / "ncs_cpg_insights_stream.yaml").unlink()

    output = run("import_amc_schemas", dataset)
    assert "Kept 1 table(s)" in output and "ncs-cpg-insights-stream" in output
    assert DataSource.objects.filter(table_name="ncs_cpg_insights_stream").exists()

    output = run("import_amc_schemas", dataset, "--prune")
    assert "Tables: 0 created, 0 updated, 1 removed" in output
    assert not DataSource.objects.filter(table_name="ncs_cpg_insights_stream").exists()
    assert not SchemaField.objects.filter(data_source__table_name="ncs_cpg_insights_stream").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "old, new, message",
    [
        ("  kind: dimension", "  kind: dim", "'kind' must be one of dimension, metric"),
        ("  threshold: LOW", "  threshold: low", "'threshold' must be one of"),
        ("- name: campaign_source", "- name: campaign", "duplicate column 'campaign'"),
        ("table_name: dsp_views\n", "", "missing required key 'table_name'"),
        ("category: DSP traffic", "category: DSP: traffic", "invalid YAML: mapping values are not allowed here"),
    ],
)
def test_malformed_file_aborts_and_leaves_database_unchanged(dataset, old, new, message):
    run("import_amc_schemas", dataset)
    edit(dataset / "dsp_impressions.yaml", "name: DSP impressions", "name: Changed in the same run")
    before = snapshot()
    path = dataset / "dsp_views.yaml"
    text = path.read_text(encoding="utf-8")
    # The error points at the edited line; a missing key is reported on the mapping that lacks it (line 1).
    expected_line = text[: text.index(old)].count("\n") + 1 if new else 1
    edit(path, old, new)

    with pytest.raises(CommandError) as caught:
        run("import_amc_schemas", dataset)

    assert str(caught.value).startswith(f"{path}:{expected_line}: ")
    assert message in str(caught.value)
    assert snapshot() == before


@pytest.mark.django_db
def test_library_import_is_idempotent_and_follows_edits(tmp_path):
    library = tmp_path / "library"
    shutil.copytree(DEFAULT_LIBRARY_DIR, library)
    count = len(list(library.glob("*.yaml")))

    assert f"Templates: {count} created, 0 updated, 0 removed." in run("import_query_library", library)
    template = QueryTemplate.objects.get(slug="dsp-frequency-distribution")
    assert template.owner is None and template.is_public
    assert {parameter["name"] for parameter in template.parameters} == {"campaign_ids", "max_frequency"}
    assert template.tables == ["dsp_impressions"]
    stamp = template.updated_at

    assert "Templates: 0 created, 0 updated, 0 removed." in run("import_query_library", library)
    assert QueryTemplate.objects.get(slug="dsp-frequency-distribution").updated_at == stamp

    edit(library / "dsp-frequency-distribution.yaml", "default: 10", "default: 12")
    assert "Templates: 0 created, 1 updated, 0 removed." in run("import_query_library", library)
    parameters = QueryTemplate.objects.get(slug="dsp-frequency-distribution").parameters
    assert next(p for p in parameters if p["name"] == "max_frequency")["default"] == 12


@pytest.mark.django_db
def test_malformed_library_file_aborts_without_changes(tmp_path):
    library = tmp_path / "library"
    shutil.copytree(DEFAULT_LIBRARY_DIR, library)
    run("import_query_library", library)
    before = list(QueryTemplate.objects.order_by("slug").values_list())
    edit(library / "dsp-campaign-delivery.yaml", "name: DSP campaign delivery summary", "name: Renamed")
    edit(library / "time-to-conversion.yaml", "  type: campaign_list", "  type: ids")

    with pytest.raises(CommandError) as caught:
        run("import_query_library", library)

    assert str(caught.value).startswith(f"{library / 'time-to-conversion.yaml'}:")
    assert "'type' must be one of" in str(caught.value)
    assert list(QueryTemplate.objects.order_by("slug").values_list()) == before


@pytest.mark.django_db
def test_library_import_never_touches_user_templates(tmp_path, django_user_model):
    user = django_user_model.objects.create_user(email="analyst@example.com", password="x")
    QueryTemplate.objects.create(slug="my-own", name="Mine", category="Mine", sql_template="SELECT 1", owner=user)
    run("import_query_library", DEFAULT_LIBRARY_DIR)
    output = run("import_query_library", DEFAULT_LIBRARY_DIR, "--prune")
    assert "0 removed" in output
    assert QueryTemplate.objects.filter(slug="my-own", owner=user).exists()
