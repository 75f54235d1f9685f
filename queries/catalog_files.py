"""Read and check the schema-catalog and query-library YAML files.

Pure Python (no Django): every problem is reported as ``path:LINE: what is wrong`` where LINE comes
from the YAML node marks, so an analyst editing a file is sent straight to the offending key or value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KINDS = ("dimension", "metric")
THRESHOLDS = ("NONE", "LOW", "MEDIUM", "HIGH", "VERY_HIGH", "INTERNAL")
PARAMETER_TYPES = ("date", "timestamp", "integer", "string", "id_list", "string_list", "asin_list", "campaign_list")

_SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$")


class CatalogFileError(ValueError):
    """A problem in one file, located at a line (1-based)."""

    def __init__(self, path: Path | str, line: int, message: str):
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(f"{self.path}:{line}: {message}")


# --- dataclasses handed to the importer ---------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    data_type: str
    kind: str
    threshold: str
    description: str = ""
    sample_values: list = field(default_factory=list)
    notes: str = ""


@dataclass(frozen=True)
class TableSpec:
    path: Path
    schema_id: str
    name: str
    table_name: str
    category: str
    description: str
    data_availability: str
    tags: list[str]
    is_paid_feature: bool
    columns: list[ColumnSpec]
    examples: list[dict]


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    type: str
    default: Any = None
    label: str = ""
    required: bool = False

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "label": self.label,
            "required": self.required,
        }


@dataclass(frozen=True)
class TemplateSpec:
    path: Path
    slug: str
    name: str
    description: str
    category: str
    tags: list[str]
    parameters: list[ParameterSpec]
    tables: list[str]
    sql: str


# --- YAML loading that keeps line numbers ------------------------------------------------------------------


class _Value:
    """A YAML node converted to Python, with the line of the node (and of each key, for mappings)."""

    __slots__ = ("value", "line", "key_lines")

    def __init__(self, value: Any, line: int, key_lines: dict[str, int] | None = None):
        self.value = value
        self.line = line
        self.key_lines = key_lines or {}


def _convert(node: yaml.Node, path: Path, constructor: yaml.SafeLoader) -> _Value:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        items: dict[str, _Value] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise CatalogFileError(path, key_line, "mapping keys must be plain names")
            key = str(key_node.value)
            if key in items:
                raise CatalogFileError(path, key_line, f"duplicate key '{key}'")
            items[key] = _convert(value_node, path, constructor)
            key_lines[key] = key_line
        return _Value(items, line, key_lines)
    if isinstance(node, yaml.SequenceNode):
        return _Value([_convert(item, path, constructor) for item in node.value], line)
    if node.tag.endswith(":timestamp"):
        return _Value(node.value, line)  # keep dates as written: they end up in JSON fields and SQL defaults
    return _Value(constructor.construct_object(node, deep=True), line)


def load_yaml(path: Path) -> _Value:
    """Parse one YAML document, keeping line numbers; syntax errors become CatalogFileError."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogFileError(path, 1, f"cannot read file: {exc}")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise CatalogFileError(path, mark.line + 1 if mark else 1, f"invalid YAML: {exc.problem or exc}")
    except yaml.YAMLError as exc:
        raise CatalogFileError(path, 1, f"invalid YAML: {exc}")
    if node is None:
        raise CatalogFileError(path, 1, "the file is empty")
    return _convert(node, path, yaml.SafeLoader(""))


# --- small checkers ----------------------------------------------------------------------------------------


class Reader:
    """Typed access to a mapping, raising errors that point at the right line."""

    def __init__(self, node: _Value, path: Path, what: str, allowed: Iterable[str]):
        if not isinstance(node.value, dict):
            raise CatalogFileError(path, node.line, f"{what} must be a mapping")
        self.node = node
        self.path = path
        self.what = what
        for key, line in node.key_lines.items():
            if key not in allowed:
                raise CatalogFileError(path, line, f"unknown key '{key}' in {what}")

    def fail(self, key: str, message: str):
        node = self.node.value.get(key)
        raise CatalogFileError(self.path, node.line if node else self.node.line, message)

    def _get(self, key: str, required: bool) -> _Value | None:
        node = self.node.value.get(key)
        if node is None and required:
            raise CatalogFileError(self.path, self.node.line, f"{self.what} is missing required key '{key}'")
        return node

    def text(self, key: str, *, required: bool = True, pattern: re.Pattern | None = None) -> str:
        node = self._get(key, required)
        if node is None or (node.value is None and not required):
            return ""
        if not isinstance(node.value, str) or (required and not node.value.strip()):
            raise CatalogFileError(self.path, node.line, f"'{key}' must be a non-empty string")
        value = node.value.strip() if "\n" not in node.value else node.value.rstrip()
        if pattern and not pattern.match(value):
            raise CatalogFileError(self.path, node.line, f"'{key}' has an invalid value {value!r}")
        return value

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        node = self._get(key, True)
        if node.value not in choices:
            raise CatalogFileError(
                self.path, node.line, f"'{key}' must be one of {', '.join(choices)} (got {node.value!r})"
            )
        return node.value

    def flag(self, key: str, default: bool = False) -> bool:
        node = self._get(key, False)
        if node is None:
            return default
        if not isinstance(node.value, bool):
            raise CatalogFileError(self.path, node.line, f"'{key}' must be true or false")
        return node.value

    def items(self, key: str, *, required: bool = False) -> list[_Value]:
        node = self._get(key, required)
        if node is None or node.value is None:
            return []
        if not isinstance(node.value, list):
            raise CatalogFileError(self.path, node.line, f"'{key}' must be a list")
        return node.value

    def strings(self, key: str) -> list[str]:
        values = []
        for item in self.items(key):
            if not isinstance(item.value, str) or not item.value.strip():
                raise CatalogFileError(self.path, item.line, f"'{key}' entries must be non-empty strings")
            values.append(item.value.strip())
        return values

    def plain(self, key: str) -> Any:
        node = self._get(key, False)
        return _plain(node) if node is not None else None


def _plain(node: _Value) -> Any:
    if isinstance(node.value, dict):
        return {key: _plain(value) for key, value in node.value.items()}
    if isinstance(node.value, list):
        return [_plain(item) for item in node.value]
    return node.value


# --- schema (table) files ----------------------------------------------------------------------------------

_TABLE_KEYS = (
    "schema_id", "name", "table_name", "category", "description", "data_availability",
    "tags", "is_paid_feature", "columns", "examples",
)  # fmt: skip
_COLUMN_KEYS = ("name", "data_type", "kind", "threshold", "description", "sample_values", "notes")
_EXAMPLE_KEYS = ("title", "description", "sql")


def parse_table_file(path: Path) -> TableSpec:
    root = Reader(load_yaml(path), path, "the table file", _TABLE_KEYS)
    columns: list[ColumnSpec] = []
    seen: dict[str, int] = {}
    for item in root.items("columns", required=True):
        column = Reader(item, path, "a column", _COLUMN_KEYS)
        name = column.text("name", pattern=_IDENTIFIER)
        if name in seen:
            column.fail("name", f"duplicate column '{name}' (first defined on line {seen[name]})")
        seen[name] = column.node.value["name"].line
        sample_values = column.plain("sample_values") or []
        if not isinstance(sample_values, list):
            column.fail("sample_values", "'sample_values' must be a list")
        columns.append(
            ColumnSpec(
                name=name,
                data_type=column.text("data_type"),
                kind=column.choice("kind", KINDS),
                threshold=column.choice("threshold", THRESHOLDS),
                description=column.text("description", required=False),
                sample_values=sample_values,
                notes=column.text("notes", required=False),
            )
        )
    if not columns:
        root.fail("columns", "'columns' must list at least one column")

    examples = []
    for item in root.items("examples"):
        example = Reader(item, path, "an example", _EXAMPLE_KEYS)
        examples.append(
            {
                "title": example.text("title"),
                "description": example.text("description", required=False),
                "sql": example.text("sql"),
            }
        )

    return TableSpec(
        path=path,
        schema_id=root.text("schema_id", pattern=_SLUG),
        name=root.text("name"),
        table_name=root.text("table_name", pattern=_IDENTIFIER),
        category=root.text("category"),
        description=root.text("description"),
        data_availability=root.text("data_availability", required=False),
        tags=root.strings("tags"),
        is_paid_feature=root.flag("is_paid_feature"),
        columns=columns,
        examples=examples,
    )


# --- query library files -----------------------------------------------------------------------------------

_TEMPLATE_KEYS = ("slug", "name", "description", "category", "tags", "parameters", "tables", "sql")
_PARAMETER_KEYS = ("name", "type", "default", "label", "required")


def placeholders(sql: str) -> list[str]:
    """Names used as ``{{name}}`` in the SQL, in order of first use."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(sql)))


def _check_default(reader: Reader, kind: str, default: Any) -> None:
    if default is None:
        return
    ok = {
        "date": isinstance(default, str) and bool(_DATE.match(default)),
        "timestamp": isinstance(default, str) and bool(_TIMESTAMP.match(default)),
        "integer": isinstance(default, int) and not isinstance(default, bool),
        "string": isinstance(default, str),
        "id_list": isinstance(default, list) and all(isinstance(v, str | int) for v in default),
        "string_list": isinstance(default, list) and all(isinstance(v, str) for v in default),
        "asin_list": isinstance(default, list) and all(isinstance(v, str) for v in default),
        "campaign_list": isinstance(default, list) and all(isinstance(v, str | int) for v in default),
    }[kind]
    if not ok:
        reader.fail("default", f"default {default!r} does not fit parameter type '{kind}'")


def read_parameters(root: Reader, path: Path) -> list[ParameterSpec]:
    """The typed ``parameters`` of a mapping that has ``sql``, checked against the SQL's placeholders."""
    parameters: list[ParameterSpec] = []
    for item in root.items("parameters"):
        reader = Reader(item, path, "a parameter", _PARAMETER_KEYS)
        name = reader.text("name", pattern=_IDENTIFIER)
        if any(existing.name == name for existing in parameters):
            reader.fail("name", f"duplicate parameter '{name}'")
        kind = reader.choice("type", PARAMETER_TYPES)
        default = reader.plain("default")
        _check_default(reader, kind, default)
        parameters.append(
            ParameterSpec(name, kind, default, reader.text("label", required=False), reader.flag("required"))
        )

    sql = root.text("sql")
    declared = {parameter.name for parameter in parameters}
    used = placeholders(sql)
    sql_line = root.node.value["sql"].line
    for name in used:
        if name not in declared:
            raise CatalogFileError(path, sql_line, f"the SQL uses {{{{{name}}}}} but no parameter declares it")
    for parameter in parameters:
        if parameter.name not in used:
            message = f"parameter '{parameter.name}' is declared but the SQL never uses it"
            raise CatalogFileError(path, sql_line, message)
    return parameters


def parse_template_file(path: Path) -> TemplateSpec:
    root = Reader(load_yaml(path), path, "the template file", _TEMPLATE_KEYS)
    parameters = read_parameters(root, path)
    sql = root.text("sql")
    tables = root.strings("tables")
    if not tables:
        root.fail("tables", "'tables' must list the AMC tables the query reads")
    return TemplateSpec(
        path=path,
        slug=root.text("slug", pattern=_SLUG),
        name=root.text("name"),
        description=root.text("description"),
        category=root.text("category"),
        tags=root.strings("tags"),
        parameters=parameters,
        tables=tables,
        sql=sql,
    )


# --- whole directories -------------------------------------------------------------------------------------


def yaml_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise CatalogFileError(directory, 1, "not a directory")
    return sorted(path for path in directory.iterdir() if path.suffix in (".yaml", ".yml"))
