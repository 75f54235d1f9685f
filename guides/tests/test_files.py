"""The guide files: the shipped content covers the analyses analysts run most, and mistakes are reported at
their file and line. No database needed."""

import re
from pathlib import Path

import pytest

from guides.files import CONTENT_DIR, read_guides
from guides.markdown import render_markdown
from queries.catalog_dirs import read_dataset
from queries.catalog_files import CatalogFileError, placeholders
from queries.catalog_import import DEFAULT_DATASET_DIR

GUIDES = read_guides()
TABLES = {table.table_name for table in read_dataset(DEFAULT_DATASET_DIR)}

GOOD_STEP = """
  - title: Step {n}
    narrative: Why.
    parameters:
      - {{name: max_frequency, type: integer, default: 5, label: Top bucket, required: true}}
    tables: [dsp_impressions]
    sql: |
      SELECT COUNT(DISTINCT user_id) AS reach FROM dsp_impressions WHERE impressions <= {{{{max_frequency}}}}
    reading: Read it.
    pitfalls:
      - Thresholds.
"""
HEAD = """slug: sample
title: Sample
category: Testing
summary: A sample.
why: Because.
tables: [dsp_impressions]
glossary:
  - {term: Reach, definition: People.}
steps:
"""


def write(tmp_path: Path, text: str, name: str = "sample.yaml") -> Path:
    (tmp_path / name).write_text(text)
    return tmp_path


def good(steps: int = 3) -> str:
    return HEAD + "".join(GOOD_STEP.format(n=n) for n in range(1, steps + 1))


def test_the_content_covers_the_common_analyses():
    assert len(GUIDES) >= 12
    text = " ".join(f"{g.title} {g.summary} {' '.join(g.tags)}".lower() for g in GUIDES)
    for topic in (
        "frequency cap", "path to conversion", "time to conversion", "new-to-brand", "sponsored products",
        "halo", "audience overlap", "brand store", "fire tv", "incremental reach", "search term", "repeat",
        "attribution", "threshold",
    ):  # fmt: skip
        assert topic in text, topic


@pytest.mark.parametrize("guide", GUIDES, ids=lambda g: g.slug)
def test_each_guide_is_complete(guide):
    assert guide.why and guide.glossary and len(guide.steps) >= 3
    assert set(guide.tables) <= TABLES, "data sources must exist in the catalog"
    for step in guide.steps:
        assert step.narrative and step.reading and step.pitfalls
        assert step.parameters, "each step's query has typed parameters"
        assert set(placeholders(step.sql)) == {p.name for p in step.parameters}
        assert not re.search(r"\bLIMIT\b|SELECT\s+\*|\{\{\s*(start|end)_date", step.sql, re.IGNORECASE)


def test_slugs_are_unique():
    assert len({g.slug for g in GUIDES}) == len(GUIDES)


def test_a_good_file_parses(tmp_path):
    (guide,) = read_guides(write(tmp_path, good()))
    assert [s.number for s in guide.steps] == [1, 2, 3]
    assert guide.steps[0].parameters[0].default == 5
    assert guide.glossary == [("Reach", "People.")]


@pytest.mark.parametrize(
    "text, line, message",
    [
        (good(2), 11, "at least 3 steps"),
        (good().replace("summary: A sample.\n", ""), 1, "missing required key 'summary'"),
        (good().replace("category: Testing", "category: Testing\ncolour: red"), 4, "unknown key 'colour'"),
        (good().replace("{{max_frequency}}", "{{max_freq}}", 1), 16, "{{max_freq}} but no parameter declares it"),
        (good().replace("tables: [dsp_impressions]\n    sql", "tables: [dsp_clicks]\n    sql", 1), 15, "dsp_clicks"),
        (good().replace("    pitfalls:\n      - Thresholds.\n", "    pitfalls: []\n", 1), 19, "at least one pitfall"),
        (good().replace("type: integer", "type: number", 1), 14, "'type' must be one of"),
        (good().replace("why: Because.", "why: [unclosed"), 6, "invalid YAML"),
    ],
    ids=[
        "too-few-steps",
        "missing-key",
        "unknown-key",
        "undeclared-placeholder",
        "undeclared-table",
        "no-pitfalls",
        "bad-type",
        "bad-yaml",
    ],  # fmt: skip
)
def test_mistakes_are_reported_at_their_line(tmp_path, text, line, message):
    directory = write(tmp_path, text)
    with pytest.raises(CatalogFileError) as caught:
        read_guides(directory)
    assert caught.value.line == line, str(caught.value)
    assert message in caught.value.message
    assert str(caught.value).startswith(f"{directory / 'sample.yaml'}:{line}: ")


def test_a_duplicate_slug_names_both_files(tmp_path):
    write(tmp_path, good(), "a.yaml")
    write(tmp_path, good(), "b.yaml")
    with pytest.raises(CatalogFileError, match=r"b\.yaml:1: slug 'sample' is already used by a\.yaml"):
        read_guides(tmp_path)


def test_markdown_is_rendered_and_sanitised():
    html = render_markdown(
        "**Reach** and `code`\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    assert "<strong>Reach</strong>" in html and "<code>code</code>" in html
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html and "<img" not in html


def test_content_directory_is_the_default():
    assert CONTENT_DIR.name == "content" and any(CONTENT_DIR.glob("*.yaml"))
