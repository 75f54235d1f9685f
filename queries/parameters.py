"""Turning a query and the values an analyst typed into exactly what AMC receives.

Two mechanisms: AMC's own CUSTOM_PARAMETER('name'), declared as inputParameters and valued in
parameterValues; and our `{{name}}` placeholders, substituted with typed, safely quoted literals before sending.
"""

from dataclasses import dataclass
from typing import Any

from queries.validation.parameters import (
    ParameterDefinition,
    custom_parameter_values,
    extract_parameters,
    guess_type,
    render_placeholders,
)

AMC_INPUT_TYPES = {
    "date": "DATE", "timestamp": "TIMESTAMP", "integer": "LONG", "string": "STRING",
    "id_list": {"type": "ARRAY", "elementDataType": "STRING"},
    "string_list": {"type": "ARRAY", "elementDataType": "STRING"},
    "asin_list": {"type": "ARRAY", "elementDataType": "STRING"},
    "campaign_list": {"type": "ARRAY", "elementDataType": "STRING"},
}  # fmt: skip


@dataclass(frozen=True)
class PreparedQuery:
    sql: str  # placeholders substituted; CUSTOM_PARAMETER calls left for AMC
    input_parameters: list[dict]  # AMC inputParameters declarations
    parameter_values: dict  # AMC parameterValues
    placeholder_values: dict  # what we substituted, for the record

    @property
    def uses_placeholders(self) -> bool:
        return bool(self.placeholder_values)


def definitions_from_json(items: list[dict] | None) -> dict[str, ParameterDefinition]:
    """Stored definitions ([{name, type, default, label, required}]) as typed objects, keyed by name."""
    result = {}
    for item in items or []:
        result[item["name"]] = ParameterDefinition(
            name=item["name"],
            type=item.get("type") or guess_type(item["name"]),
            default=item.get("default"),
            label=item.get("label"),
            required=item.get("required", True),
        )
    return result


def prepare_query(sql: str, definitions: dict[str, ParameterDefinition], values: dict[str, Any]) -> PreparedQuery:
    """Resolve every parameter the SQL uses; raises ParameterError with a plain message on a bad value."""
    refs = extract_parameters(sql)
    merged = {name: d.default for name, d in definitions.items() if d.default not in (None, "")}
    merged.update({k: v for k, v in values.items() if v not in (None, "")})
    typed = {r.name: definitions.get(r.name) or ParameterDefinition(r.name, guess_type(r.name)) for r in refs}
    placeholders = {r.name: typed[r.name] for r in refs if r.syntax == "placeholder"}
    customs = {r.name: typed[r.name] for r in refs if r.syntax == "custom"}
    rendered = render_placeholders(sql, placeholders, merged) if placeholders else sql
    return PreparedQuery(
        sql=rendered,
        input_parameters=[
            {
                "name": name,
                "dataType": AMC_INPUT_TYPES[d.type],
                "columnType": "DIMENSION",
                "description": d.label or name,
            }
            for name, d in customs.items()
        ],
        parameter_values=custom_parameter_values(customs, merged),
        placeholder_values={name: merged.get(name) for name in placeholders},
    )


def _declarations(customs: dict[str, ParameterDefinition]) -> list[dict]:
    return [
        {"name": name, "dataType": AMC_INPUT_TYPES[d.type], "columnType": "DIMENSION", "description": d.label or name}
        for name, d in customs.items()
    ]


def input_parameter_declarations(sql: str, definitions: dict[str, ParameterDefinition]) -> list[dict]:
    """AMC inputParameters for every CUSTOM_PARAMETER the SQL reads (saved workflows declare them once)."""
    refs = [r for r in extract_parameters(sql) if r.syntax == "custom"]
    return _declarations(
        {r.name: definitions.get(r.name) or ParameterDefinition(r.name, guess_type(r.name)) for r in refs}
    )


def placeholder_names(sql: str) -> list[str]:
    return [r.name for r in extract_parameters(sql) if r.syntax == "placeholder"]


def run_parameter_definitions(sql: str, definitions: dict[str, ParameterDefinition]) -> list[ParameterDefinition]:
    """The parameters a run asks for: every one the SQL uses, typed by its stored definition or by its name."""
    return [definitions.get(r.name) or ParameterDefinition(r.name, guess_type(r.name)) for r in extract_parameters(sql)]
