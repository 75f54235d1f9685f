"""Read and check the build-guide YAML files in guides/content/ (no Django).

Same conventions as the schema catalog and the query library (queries/catalog_files.py): every problem is a
CatalogFileError reading ``path:LINE: what is wrong``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from queries.catalog_files import (
    CatalogFileError,
    ParameterSpec,
    Reader,
    load_yaml,
    read_parameters,
    yaml_files,
)

CONTENT_DIR = Path(__file__).resolve().parent / "content"
MIN_STEPS = 3

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_GUIDE_KEYS = ("slug", "title", "category", "summary", "why", "tables", "tags", "position", "glossary", "steps")
_STEP_KEYS = ("title", "narrative", "parameters", "tables", "sql", "reading", "pitfalls")
_TERM_KEYS = ("term", "definition")


@dataclass(frozen=True)
class StepSpec:
    number: int
    title: str
    narrative: str
    parameters: list[ParameterSpec]
    tables: list[str]
    sql: str
    reading: str
    pitfalls: list[str]


@dataclass(frozen=True)
class GuideSpec:
    path: Path
    slug: str
    title: str
    category: str
    summary: str
    why: str
    tables: list[str]
    tags: list[str]
    position: int
    glossary: list[tuple[str, str]]
    steps: list[StepSpec]


def _step(item, path: Path, number: int, guide_tables: list[str]) -> StepSpec:
    step = Reader(item, path, f"step {number}", _STEP_KEYS)
    parameters = read_parameters(step, path)
    if not parameters:
        step.fail("sql", f"step {number} must declare at least one typed parameter")
    tables = step.strings("tables")
    if not tables:
        step.fail("tables", f"step {number} must list the AMC tables its query reads")
    for table in tables:
        if table not in guide_tables:
            step.fail("tables", f"step {number} reads '{table}', which the guide's 'tables' does not list")
    pitfalls = step.strings("pitfalls")
    if not pitfalls:
        step.fail("pitfalls", f"step {number} must name at least one pitfall")
    return StepSpec(
        number=number,
        title=step.text("title"),
        narrative=step.text("narrative"),
        parameters=parameters,
        tables=tables,
        sql=step.text("sql"),
        reading=step.text("reading"),
        pitfalls=pitfalls,
    )


def _glossary(root: Reader, path: Path) -> list[tuple[str, str]]:
    terms: list[tuple[str, str]] = []
    for item in root.items("glossary", required=True):
        entry = Reader(item, path, "a glossary entry", _TERM_KEYS)
        term = entry.text("term")
        if any(term.lower() == existing.lower() for existing, _ in terms):
            entry.fail("term", f"duplicate glossary term '{term}'")
        terms.append((term, entry.text("definition")))
    if not terms:
        root.fail("glossary", "'glossary' must define the metrics the guide uses")
    return terms


def parse_guide_file(path: Path) -> GuideSpec:
    root = Reader(load_yaml(path), path, "the guide file", _GUIDE_KEYS)
    tables = root.strings("tables")
    if not tables:
        root.fail("tables", "'tables' must list the AMC tables the guide needs")
    position = root.plain("position") or 0
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        root.fail("position", "'position' must be a whole number")
    items = root.items("steps", required=True)
    if len(items) < MIN_STEPS:
        root.fail("steps", f"a guide needs at least {MIN_STEPS} steps (found {len(items)})")
    steps = [_step(item, path, number, tables) for number, item in enumerate(items, start=1)]
    return GuideSpec(
        path=path,
        slug=root.text("slug", pattern=_SLUG),
        title=root.text("title"),
        category=root.text("category"),
        summary=root.text("summary"),
        why=root.text("why"),
        tables=tables,
        tags=root.strings("tags"),
        position=position,
        glossary=_glossary(root, path),
        steps=steps,
    )


def read_guides(directory: Path = CONTENT_DIR) -> list[GuideSpec]:
    """Every guide file in the directory, checked; raises CatalogFileError on the first problem."""
    guides = [parse_guide_file(path) for path in yaml_files(directory)]
    seen: dict[str, Path] = {}
    for guide in guides:
        if guide.slug in seen:
            line = load_yaml(guide.path).key_lines.get("slug", 1)
            raise CatalogFileError(guide.path, line, f"slug '{guide.slug}' is already used by {seen[guide.slug].name}")
        seen[guide.slug] = guide.path
    return guides
