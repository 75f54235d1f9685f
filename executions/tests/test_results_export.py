"""Exports: the CSV export is the stored file; the JSON export is the same rows with typed values."""

import csv
import io
import json

import httpx
import pytest
from django.core.files.base import ContentFile

from executions.models import Execution, ExecutionResult
from executions.results.export import export_response, iter_csv, iter_json, iter_rows
from executions.results.ingest import store_result

pytestmark = pytest.mark.django_db

PART_1 = (
    "campaign,day,seen_at,impressions,spend,active\r\n"
    "Brand,2024-01-01,2024-01-01T10:00:00.000,100,1.50,true\r\n"
    '"Holiday ""big""\r\nsale",2024-01-02,2024-01-02T11:30:00.000,,0.25,false\r\n'
)
PART_2 = (
    "campaign,day,seen_at,impressions,spend,active\r\n"
    "Ünïcode ✓,2024-01-03,2024-01-03T00:00:00.000,7,3,\r\n"
    ",2024-01-04,2024-01-04T00:00:00.000,8,-2.5,TRUE\r\n"
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def execution(user, make_instance):
    return Execution.objects.create(owner=user, instance=make_instance(user))


@pytest.fixture
def result(execution):
    files = {"/1.csv": PART_1.encode(), "/2.csv": PART_2.encode()}
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, content=files[r.url.path])))
    return store_result(execution, ["https://s3.example.com/1.csv", "https://s3.example.com/2.csv"], http=client)


def stored_records(result) -> list[list[str]]:
    with result.file.open("rb") as handle:
        text = handle.read().decode()
    return list(csv.reader(io.StringIO(text, newline="")))[1:]


def expected_value(text: str, column_type: str):
    if text == "":
        return None
    return {"integer": int, "decimal": float, "boolean": lambda t: t.lower() == "true"}.get(column_type, str)(text)


def test_csv_export_is_the_stored_file(result):
    exported = b"".join(iter_csv(result, chunk_size=7))  # tiny chunks: many pieces, nothing lost

    with result.file.open("rb") as handle:
        assert exported == handle.read()
    assert exported.decode() == PART_1 + PART_2.split("\r\n", 1)[1]


def test_json_export_equals_the_stored_rows(result):
    exported = json.loads("".join(iter_json(result)))

    types = [c["type"] for c in result.columns]
    names = [c["name"] for c in result.columns]
    assert types == ["string", "date", "timestamp", "integer", "decimal", "boolean"]
    expected = [
        {name: expected_value(text, kind) for name, text, kind in zip(names, row, types, strict=True)}
        for row in stored_records(result)
    ]
    assert exported == expected
    assert len(exported) == result.row_count == 4
    assert exported[1]["campaign"] == 'Holiday "big"\r\nsale'
    assert exported[1]["impressions"] is None and exported[0]["impressions"] == 100
    assert exported[2]["spend"] == 3.0 and isinstance(exported[2]["spend"], float)
    assert exported[3]["active"] is True and exported[2]["active"] is None


def test_json_export_of_an_empty_result_is_an_empty_array(execution):
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, content=b"a,b\r\n")))
    result = store_result(execution, ["https://s3.example.com/empty.csv"], http=client)

    assert json.loads("".join(iter_json(result))) == []


def test_values_that_do_not_fit_their_type_stay_text(execution):
    result = ExecutionResult(execution=execution, columns=[{"name": "n", "type": "integer"}], row_count=2)
    result.file.save("r.csv", ContentFile(b"n\r\n5\r\nn/a\r\n"))

    assert list(iter_rows(result)) == [[5], ["n/a"]]


@pytest.mark.parametrize(("fmt", "content_type"), [("csv", "text/csv; charset=utf-8"), ("json", "application/json")])
def test_export_response_streams_a_named_download(result, fmt, content_type):
    response = export_response(result, fmt)

    assert response.streaming
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="{result.execution.execution_id}.{fmt}"'
    body = b"".join(response.streaming_content)
    expected = b"".join(iter_csv(result)) if fmt == "csv" else "".join(iter_json(result)).encode()
    assert body == expected


def test_unknown_export_format_is_refused(result):
    with pytest.raises(ValueError, match="xml"):
        export_response(result, "xml")
