"""AMC SQL validation and parameter handling for the live editor (no Django, no database)."""

from .catalog import Catalog, ColumnInfo
from .diagnostics import Diagnostic
from .parameters import (
    ParameterDefinition,
    ParameterError,
    ParameterRef,
    coerce_value,
    custom_parameter_values,
    extract_parameters,
    guess_type,
    render_placeholders,
)
from .validator import validate

__all__ = [
    "Catalog",
    "ColumnInfo",
    "Diagnostic",
    "ParameterDefinition",
    "ParameterError",
    "ParameterRef",
    "coerce_value",
    "custom_parameter_values",
    "extract_parameters",
    "guess_type",
    "render_placeholders",
    "validate",
]
