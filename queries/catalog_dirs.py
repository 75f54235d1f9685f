"""Whole directories of catalog and library files, checked together (names unique across files)."""

from pathlib import Path

from .catalog_files import (
    CatalogFileError,
    TableSpec,
    TemplateSpec,
    load_yaml,
    parse_table_file,
    parse_template_file,
    yaml_files,
)


def _unique(specs: list, key: str, what: str) -> None:
    seen: dict[str, Path] = {}
    for spec in specs:
        value = getattr(spec, key)
        if value in seen:
            line = load_yaml(spec.path).key_lines.get(key, 1)
            raise CatalogFileError(spec.path, line, f"{what} '{value}' is already used by {seen[value].name}")
        seen[value] = spec.path


def read_dataset(directory: Path) -> list[TableSpec]:
    """Every table file in the directory, checked; raises CatalogFileError on the first problem."""
    tables = [parse_table_file(path) for path in yaml_files(directory)]
    _unique(tables, "schema_id", "schema_id")
    _unique(tables, "table_name", "table_name")
    return tables


def read_library(directory: Path) -> list[TemplateSpec]:
    """Every template file in the directory, checked; raises CatalogFileError on the first problem."""
    templates = [parse_template_file(path) for path in yaml_files(directory)]
    _unique(templates, "slug", "slug")
    return templates
