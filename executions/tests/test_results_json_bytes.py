"""The DuckDB JSON export (executions/results/json_export.py) is byte for byte the Python encoder's output."""

import json

import pytest
from django.core.files.base import ContentFile

from executions.models import Execution, ExecutionResult
from executions.results.export import iter_json, iter_rows
from instances.models import AMCInstance

pytestmark = pytest.mark.django_db

# fmt: off
CELLS = {
    "string": [
        "plain", 'quote " inside', "comma, and\r\nline break", "Ünïcode ✓ 😀", "", '""', "back\\slash",
        "\\u001F literally", "ctl \x01\x08\x0c\t end", "ctl \x1a\x1f", "del \x7f", "sep \u2028\u2029", "/slash", "null",
    ],
    "integer": [
        "0", "-0", "+007", "42", "-17", "9" * 38, "1" + "0" * 38, "12345678901234567890", "1.5", "n/a", "", "1e3",
    ],
    "decimal": [
        "1.50", "3", "-2.5", ".5", "5.", "+3.5", "1E5", "1e16", "1e15", "0.00001", "1e-320", "1e400", "-1e400",
        "0.1", "9" * 39, "-0", "nan", "inf", "", "12,5", "1.7976931348623157e308",
    ],
    "boolean": ["true", "FALSE", "True", "fAlSe", "yes", "1", "", "falſe", "truE "],
    "date": ["2024-01-01", "2024-13-45", "", "01/02/2024"],
    "timestamp": ["2024-01-01T10:00:00.000", "2024-01-02 11:30", "2024-01-03T00:00:00Z", "", "soon"],
}
# fmt: on


def csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def stored(user, make_instance, columns: list[tuple[str, str]], rows: list[list[str]]) -> ExecutionResult:
    instance = AMCInstance.objects.filter(owner=user).first() or make_instance(user)
    execution = Execution.objects.create(owner=user, instance=instance)
    lines = [",".join(csv_cell(name) for name, _ in columns)] + [",".join(csv_cell(c) for c in row) for row in rows]
    result = ExecutionResult(
        execution=execution, columns=[{"name": n, "type": t} for n, t in columns], row_count=len(rows)
    )
    result.file.save("r.csv", ContentFile(("\r\n".join(lines) + "\r\n").encode()))
    return result


def python_json(result: ExecutionResult) -> str:
    """The previous export: every cell typed in Python (`typed_value`), every row through `json`."""
    names = [c["name"] for c in result.columns]
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
    lines = [encode(dict(zip(names, row, strict=True))) for row in iter_rows(result)]
    return "[" + "".join(("\n" if i == 0 else ",\n") + line for i, line in enumerate(lines)) + "\n]\n"


def test_every_tricky_value_of_every_type_is_written_as_before(user, make_instance):
    columns = [(f"{kind} “col”", kind) for kind in CELLS]
    longest = max(len(values) for values in CELLS.values())
    rows = [[values[i % len(values)] for values in CELLS.values()] for i in range(longest * 3)]
    rows += [[values[(i * 7 + j) % len(values)] for j, values in enumerate(CELLS.values())] for i in range(200)]
    result = stored(user, make_instance, columns, rows)

    exported = "".join(iter_json(result))
    assert exported == python_json(result)
    parsed = json.loads(exported)
    assert len(parsed) == len(rows)
    assert parsed[5]["integer “col”"] == 10**38 - 1 and parsed[6]["integer “col”"] == "1" + "0" * 38


def test_many_rows_cross_batches_in_file_order(user, make_instance):
    columns = [("n", "integer"), ("x", "decimal"), ("note", "string")]
    rows = [[str(i), f"{i / 7:.6f}", f"row {i} \x1f" if i % 997 == 0 else f"row {i}"] for i in range(45_000)]
    result = stored(user, make_instance, columns, rows)

    assert "".join(iter_json(result)) == python_json(result)


def test_repeated_column_names_and_one_column_results(user, make_instance):
    repeated = stored(user, make_instance, [("a", "integer"), ("b", "string"), ("a", "string")], [["1", "x", "y"]])
    assert "".join(iter_json(repeated)) == python_json(repeated) == '[\n{"a": "y", "b": "x"}\n]\n'
    single = stored(user, make_instance, [("only", "integer")], [["1"], [""], ["3"]])
    assert "".join(iter_json(single)) == python_json(single)
    empty = stored(user, make_instance, [("a", "integer")], [])
    assert "".join(iter_json(empty)) == python_json(empty) == "[\n]\n"
