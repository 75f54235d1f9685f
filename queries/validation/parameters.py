"""Query parameters: finding them, typing their values, and substituting ``{{name}}`` placeholders safely.

Two mechanisms exist. AMC's own ``CUSTOM_PARAMETER('name')`` gets its values
through the execution's ``parameterValues``; ``{{name}}`` placeholders are ours and are replaced by SQL
literals before the query leaves the tool. Every value is checked against its type first, and text is
always emitted inside a single-quoted literal, so a value can never become SQL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from queries import list_parameters
from recomamp.bounds import MAX_INTEGER_DIGITS, date_problem, integer_problem

from .diagnostics import SourceMap
from .sql_text import scan

ParameterType = Literal[
    "date", "timestamp", "integer", "string", "id_list", "string_list", "asin_list", "campaign_list"
]
PARAMETER_TYPES: tuple[str, ...] = get_args(ParameterType)

_ID = re.compile(r"^[A-Za-z0-9_\-.:]+$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$")
_LIST_SEPARATOR = re.compile(r"[,\n\r]+")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class ParameterError(ValueError):
    """A value that does not fit its parameter; ``message`` is written for the analyst."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


@dataclass(frozen=True)
class ParameterRef:
    name: str
    syntax: Literal["custom", "placeholder"]
    line: int
    column: int


@dataclass(frozen=True)
class ParameterDefinition:
    name: str
    type: ParameterType
    default: Any = None
    label: str | None = None
    required: bool = True

    def __post_init__(self):
        if self.type not in PARAMETER_TYPES:
            raise ValueError(f"Unknown parameter type {self.type!r}; expected one of {PARAMETER_TYPES}")


def extract_parameters(sql: str) -> list[ParameterRef]:
    """Parameters referenced by the SQL, once per name, in order of first appearance (comments ignored)."""
    source = SourceMap(sql)
    refs: dict[str, ParameterRef] = {}
    for occurrence in scan(sql).occurrences:
        if occurrence.name not in refs:
            line, column = source.position(occurrence.start)
            refs[occurrence.name] = ParameterRef(occurrence.name, occurrence.syntax, line, column)
    return list(refs.values())


def guess_type(name: str) -> ParameterType:
    """A sensible starting type for a parameter, from its name."""
    name = name.lower()
    words = name.split("_")
    if words[-1] == "asins":  # ASIN and campaign lists get the brand picker (queries/list_parameters.py)
        return "asin_list"
    if words[-1] == "campaigns" or words[-2:] == ["campaign", "ids"]:
        return "campaign_list"
    if words[-1] in ("ids", "list"):
        return "id_list"
    if words[-1] in ("names", "terms", "keywords", "values"):
        return "string_list"
    if words[-1] == "date" or words[0] == "date":
        return "date"
    if {"start", "end"} & set(words) or words[-1] in ("timestamp", "time", "dt"):
        return "timestamp"
    if words[-1] in ("days", "hours", "seconds", "count", "n", "limit", "threshold", "cap", "buckets"):
        return "integer"
    if words[0] in ("min", "max", "num"):
        return "integer"
    return "string"


def coerce_value(definition: ParameterDefinition, raw: Any) -> Any:
    """Turn an entered value into its typed form, or raise ParameterError with a plain explanation.

    Empty input falls back to the default; an empty optional parameter gives None.
    """
    if _is_empty(raw):
        if definition.default is not None and not _is_empty(definition.default):
            raw = definition.default
        elif definition.required:
            raise ParameterError(definition.name, "A value is required.")
        else:
            return None
    return _COERCERS[definition.type](definition.name, raw)


def _is_empty(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, (list, tuple, set)):
        return not any(not _is_empty(item) for item in raw)
    return False


def _coerce_date(name: str, raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw).strip()
    if _DATE.match(text):
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            pass
        else:
            if date_problem(value):
                raise ParameterError(name, date_problem(value))
            return value
    raise ParameterError(name, f"'{text[:40]}' is not a valid date; use the form 2025-01-31.")


def _coerce_timestamp(name: str, raw: Any) -> dt.datetime:
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, dt.date):
        value = dt.datetime.combine(raw, dt.time())
    else:
        text = str(raw).strip()
        if not (_DATE.match(text) or _TIMESTAMP.match(text)):
            raise ParameterError(
                name,
                f"'{text}' is not a valid date and time; use the form 2025-01-31T00:00:00 without a time "
                "zone (the execution's time zone applies).",
            )
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ParameterError(name, f"'{text}' is not a real date and time.") from None
    if value.tzinfo is not None:
        raise ParameterError(name, "Give the time without a time zone; the execution's time zone applies.")
    if date_problem(value):
        raise ParameterError(name, date_problem(value))
    return value.replace(microsecond=0)


def _coerce_integer(name: str, raw: Any) -> int:
    if isinstance(raw, bool):
        raise ParameterError(name, "Enter a whole number.")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, int):  # stored defaults: the same 64-bit range as typed text
        raw = str(raw) if abs(raw) < 10**MAX_INTEGER_DIGITS else "9" * (MAX_INTEGER_DIGITS + 1)
    text = str(raw).strip()
    if _INTEGER.match(text):
        problem = integer_problem(text)
        if problem:
            raise ParameterError(name, problem)
        return int(text)
    raise ParameterError(name, f"'{text[:40]}' is not a whole number.")


def _coerce_string(name: str, raw: Any) -> str:
    text = str(raw)
    # Backslashes are refused so that a value stays inside its literal even on engines that treat a
    # backslash as an escape character; control characters would not survive AMC's single-line SQL.
    if "\\" in text:
        raise ParameterError(name, "Backslashes (\\) are not allowed in text values.")
    if _CONTROL_CHARACTERS.search(text):
        raise ParameterError(name, "Line breaks and control characters are not allowed in text values.")
    return text


def _split_list(name: str, raw: Any) -> list[str]:
    if isinstance(raw, str):
        items = _LIST_SEPARATOR.split(raw)
    elif isinstance(raw, (list, tuple, set)):
        items = [str(item) for item in raw]
    else:
        items = [str(raw)]
    unique = list(dict.fromkeys(item.strip() for item in items if item.strip()))
    if not unique:
        raise ParameterError(name, "Enter at least one value.")
    return unique


def _coerce_id_list(name: str, raw: Any) -> list[str]:
    ids = _split_list(name, raw)
    invalid = [item for item in ids if not _ID.match(item)]
    if invalid:
        raise ParameterError(
            name,
            f"'{invalid[0]}' is not a valid id: ids may only contain letters, digits, '_', '-', '.' and ':'.",
        )
    return ids


def _coerce_string_list(name: str, raw: Any) -> list[str]:
    return [_coerce_string(name, item) for item in _split_list(name, raw)]


_COERCERS = {
    "date": _coerce_date,
    "timestamp": _coerce_timestamp,
    "integer": _coerce_integer,
    "string": _coerce_string,
    "id_list": _coerce_id_list,
    "string_list": _coerce_string_list,
}


# --- List kinds and list size limits (queries/list_parameters.py) ---
def _checked_list(kind: str, coerce):
    def checked(name: str, raw: Any) -> list[str]:
        items = list_parameters.normalize(kind, coerce(name, raw))
        message = list_parameters.problem(kind, items)
        if message:
            raise ParameterError(name, message)
        return items

    return checked


_COERCERS.update(
    {kind: _checked_list(kind, _COERCERS.get(kind, _coerce_id_list)) for kind in list_parameters.LIST_TYPES}
)


def to_sql_literal(definition: ParameterDefinition, value: Any) -> str:
    """SQL text for an already coerced value."""
    if value is None:
        return "NULL"
    if definition.type == "integer":
        return str(int(value))
    if definition.type in list_parameters.LIST_TYPES:
        return ", ".join(_quote(item) for item in value)
    return _quote(_json_ready(definition, value))


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def render_placeholders(
    sql: str, definitions: Mapping[str, ParameterDefinition], values: Mapping[str, Any]
) -> str:
    """Replace every ``{{name}}`` with a safe SQL literal; raise ParameterError on a bad or missing value.

    A placeholder without a definition is typed with :func:`guess_type`. A placeholder written inside
    quotes (``'{{start_date}}'``) receives the literal's content, with quotes doubled, so the quoting
    stays balanced. Placeholders inside comments are left alone.
    """
    pieces: list[str] = []
    cursor = 0
    for occurrence in scan(sql).occurrences:
        if occurrence.syntax != "placeholder":
            continue
        definition = definitions.get(occurrence.name) or ParameterDefinition(
            occurrence.name, guess_type(occurrence.name)
        )
        literal = to_sql_literal(definition, coerce_value(definition, values.get(occurrence.name)))
        if occurrence.in_string:
            literal = "" if literal == "NULL" else literal[1:-1] if literal.startswith("'") else literal
        pieces.append(sql[cursor : occurrence.start])
        pieces.append(literal)
        cursor = occurrence.end
    pieces.append(sql[cursor:])
    return "".join(pieces)


def custom_parameter_values(
    definitions: Mapping[str, ParameterDefinition], values: Mapping[str, Any]
) -> dict[str, Any]:
    """AMC ``parameterValues`` for an execution: JSON-ready, typed, defaults applied.

    Optional parameters left empty are omitted so that AMC uses the workflow's own default.
    """
    result: dict[str, Any] = {}
    for name, definition in definitions.items():
        value = coerce_value(definition, values.get(name))
        if value is not None:
            result[name] = _json_ready(definition, value)
    return result


def _json_ready(definition: ParameterDefinition, value: Any) -> Any:
    if definition.type == "date":
        return value.isoformat()
    if definition.type == "timestamp":
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    return value
