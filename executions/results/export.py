"""Streamed exports of a stored result, for Django's `StreamingHttpResponse`.

CSV is the stored file byte for byte, except cells a spreadsheet would run as a formula (see
recomamp.csv_safety). JSON is an array of objects (one per row, keys in column order) with
typed values: integers, floats, booleans and null; dates, timestamps and text stay strings. Both are streamed in
chunks, so memory does not grow with the result.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.http import StreamingHttpResponse

from executions.models import ExecutionResult
from recomamp.csv_safety import neutralised_csv

from . import json_export, typed_value

CHUNK_BYTES = 64 * 1024


def iter_csv(result: ExecutionResult, chunk_size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The stored CSV in chunks of about `chunk_size` bytes, formula-like cells neutralised (recomamp.csv_safety)."""
    with result.file.storage.open(result.file.name, "rb") as handle:
        pieces, size = [], 0
        for record in neutralised_csv(io.TextIOWrapper(handle, encoding="utf-8", newline="")):
            pieces.append(record)
            size += len(record)
            if size >= chunk_size:
                yield "".join(pieces).encode()
                pieces, size = [], 0
        if pieces:
            yield "".join(pieces).encode()


def iter_rows(result: ExecutionResult) -> Iterator[list]:
    """The stored rows with typed values (the header row skipped)."""
    types = [column["type"] for column in result.columns]
    width = len(types)
    with result.file.storage.open(result.file.name, "rb") as handle:
        reader = csv.reader(io.TextIOWrapper(handle, encoding="utf-8", newline=""))
        next(reader, None)
        for row in reader:
            if not row and width != 1:  # a blank line is a record only in a one-column file (see ingest)
                continue
            row = row or [""]
            yield [typed_value(text, kind) for text, kind in zip(row, types, strict=True)]


def iter_json(result: ExecutionResult) -> Iterator[str]:
    """A JSON array of row objects, written by DuckDB (executions/results/json_export.py)."""
    return json_export.iter_json(result)


def export_response(result: ExecutionResult, export_format: str) -> StreamingHttpResponse:
    """A download response for "csv" or "json", named after the execution."""
    if export_format == "csv":
        content, content_type = iter_csv(result), "text/csv; charset=utf-8"
    elif export_format == "json":
        content, content_type = iter_json(result), "application/json"
    else:
        raise ValueError(f"Unknown export format {export_format!r}; use csv or json.")
    response = StreamingHttpResponse(content, content_type=content_type)
    filename = f"{result.execution.execution_id}.{export_format}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
