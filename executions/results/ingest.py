"""Download AMC's result files and store them as one result.

`store_result` streams every download URL into one local temporary CSV (the header kept once, after checking
that every file has the same header), so memory stays flat whatever the result size. Python's csv module reads
only a sample of the first rows (column types); one DuckDB COPY reads the whole file once, writing the Parquet
copy for fast pages and counting the records, and one pass over that copy checks the sampled types over every
row, widening a type when a later value does not fit (executions/results/typecheck.py).

Calling it again for an execution that already has a result re-fetches and replaces that result: callers only
call it when a (re-)fetch is wanted. The new files are written first, the row is switched in a transaction that
locks the execution, and the old files are deleted after commit, so neither a failure nor a replacement leaves
files nobody points to.

Assumed CSV dialect: comma, double quote, quotes doubled inside quotes, UTF-8 (AMC's default output format).
"""

from __future__ import annotations

import csv
import io
import logging
import tempfile
import time
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import duckdb
import httpx
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from executions.models import Execution, ExecutionResult
from executions.results.metadata import declared_types

from . import duckdb_connect, infer_types, sidecar_name, storage_column
from .typecheck import checked_types

log = logging.getLogger(__name__)

SAMPLE_ROWS = 1000
CHUNK_BYTES = 64 * 1024
MAX_HEADER_BYTES = 1024 * 1024
_BOM = b"\xef\xbb\xbf"
_TIMEOUT = httpx.Timeout(30.0, read=120.0)
# The COPY to Parquet buffers CSV input and a row group per thread: one thread, an 8 MB read buffer and 16,384-row
# groups keep DuckDB near 60 MB of RSS at any size (two threads, DuckDB's 32 MB buffer and 122,880-row groups:
# about 190 MB at 1M rows; bench/bench_results.py).
COPY_THREADS = 1
COPY_BUFFER_BYTES = 8 * 1024 * 1024
COPY_ROW_GROUP = 16_384


class ResultError(Exception):
    """A result could not be stored. ``str(error)`` is a sentence for the analyst; ``transient`` says whether
    fetching again (with fresh download URLs) can help."""

    transient = False

    def __init__(self, message: str, *, status_code: int | None = None, url: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.url = url

    def __str__(self) -> str:
        return self.message


class ResultDownloadError(ResultError):
    """A result file could not be downloaded (HTTP error status or network failure)."""

    def __init__(self, message: str, *, status_code: int | None = None, url: str = "", transient: bool = True):
        super().__init__(message, status_code=status_code, url=url)
        self.transient = transient


class ResultLinkExpiredError(ResultDownloadError):
    """The pre-signed download URL expired (AMC's links last 10 minutes) or was refused."""


class ResultFormatError(ResultError):
    """A downloaded file is not a CSV we can read (empty, not UTF-8, broken quoting, wrong field count)."""


class ResultHeaderMismatchError(ResultFormatError):
    """The result's files do not share one header, so they cannot be joined."""


def store_result(
    execution: Execution, urls: list[str], *, http: httpx.Client | None = None, metadata_urls=()
) -> ExecutionResult:
    """Fetch the result files at `urls` (in order), store them joined and return the execution's result."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="recomamp-result-") as folder:
        fetched = fetch_files(urls, Path(folder), http=http, metadata_urls=metadata_urls)
        return _save(execution, fetched, started)


@dataclass(frozen=True)
class FetchedResult:
    """A result downloaded and checked in a local folder, ready to be stored."""

    csv_path: Path
    parquet_path: Path
    columns: list[dict]
    row_count: int
    source_files: int


def fetch_files(urls: list[str], folder: Path, *, http: httpx.Client | None = None, metadata_urls=()) -> FetchedResult:
    """Download, join and check the result files into `folder` (result.csv and its Parquet copy)."""
    if not urls:
        raise ResultFormatError("AMC returned no result files to download.")
    csv_path = folder / "result.csv"
    parquet_path = folder / "result.parquet"
    client = http or httpx.Client(timeout=_TIMEOUT, follow_redirects=True)
    try:
        with open(csv_path, "wb") as out:
            header = download_joined(client, urls, out)
        declared = declared_types(metadata_urls, client) if metadata_urls else {}
    finally:
        if http is None:
            client.close()
    sample = sample_csv(csv_path, len(header))
    row_count, types = build_sidecar(csv_path, parquet_path, infer_types(len(header), sample))
    if not row_count:  # nothing to infer from: the types AMC declares (results/metadata.py)
        types = [declared.get(name, kind) for name, kind in zip(header, types, strict=True)]
    columns = [{"name": name, "type": kind} for name, kind in zip(header, types, strict=True)]
    return FetchedResult(csv_path, parquet_path, columns, row_count, len(urls))


# --- download ----------------------------------------------------------------------------------------------


def download_joined(client: httpx.Client, urls: list[str], out: BinaryIO) -> list[str]:
    """Stream every file into `out`: the first file whole, later files without their header line.
    Returns the column names."""
    header: list[str] | None = None
    for number, url in enumerate(urls, start=1):
        label = f"result file {number} of {len(urls)}"
        try:
            with client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise _status_error(response, label, url)
                header = _copy_csv(response.iter_bytes(CHUNK_BYTES), out, label, header)
        except httpx.HTTPError as exc:
            raise ResultDownloadError(
                f"Could not download {label}: {type(exc).__name__} ({exc}).", url=_redact(url)
            ) from exc
    return header


def _copy_csv(chunks, out: BinaryIO, label: str, expected: list[str] | None) -> list[str]:
    chunks = iter(chunks)
    buffer = b""
    end = None
    for chunk in chunks:
        buffer += chunk
        end = _header_end(buffer)
        if end is not None:
            break
        if len(buffer) > MAX_HEADER_BYTES:
            raise ResultFormatError(f"The header row of {label} is not terminated; the file is not a CSV we can read.")
    if buffer.startswith(_BOM):
        buffer = buffer[len(_BOM) :]
        end = None if end is None else end - len(_BOM)
    if end is None:  # a header-only file without a final line break
        end = len(buffer)
    header_bytes = buffer[:end]
    names = _parse_header(header_bytes, label)
    if expected is None:
        out.write(header_bytes if header_bytes.endswith(b"\n") else header_bytes + b"\r\n")
    elif names != expected:
        raise ResultHeaderMismatchError(
            f"The result files have different headers, so they cannot be joined: {label} has "
            f"{', '.join(names)} but result file 1 has {', '.join(expected)}."
        )
    last = buffer[end:]
    out.write(last)
    for chunk in chunks:
        out.write(chunk)
        last = chunk or last
    if last and not last.endswith(b"\n"):  # the next file must start on a new record
        out.write(b"\r\n")
    return names


def _header_end(buffer: bytes) -> int | None:
    """Index just past the header record's line break: the first newline outside double quotes."""
    start = 0
    while (position := buffer.find(b"\n", start)) != -1:
        if buffer.count(b'"', 0, position) % 2 == 0:
            return position + 1
        start = position + 1
    return None


def _parse_header(header_bytes: bytes, label: str) -> list[str]:
    try:
        text = header_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise ResultFormatError(f"The header row of {label} is not UTF-8 text.")
    names = next(csv.reader(io.StringIO(text, newline="")), [])
    if not names:
        raise ResultFormatError(f"{label.capitalize()} is empty: it has no header row.")
    return names


def _status_error(response: httpx.Response, label: str, url: str) -> ResultDownloadError:
    status = response.status_code
    body = _read_some(response)
    where = _redact(url)
    if status == 403:
        reason = "has expired" if "expired" in body.lower() else "was refused (it may have expired)"
        return ResultLinkExpiredError(
            f"The download link for {label} {reason}; fetch new links from AMC and try again.",
            status_code=status,
            url=where,
        )
    if status == 404:
        return ResultDownloadError(
            f"{label.capitalize()} was not found at its download link (HTTP 404).",
            status_code=status,
            url=where,
            transient=False,
        )
    return ResultDownloadError(
        f"Downloading {label} failed with HTTP {status}.",
        status_code=status,
        url=where,
        transient=status == 429 or status >= 500,
    )


def _read_some(response: httpx.Response, limit: int = 2048) -> str:
    """The start of an error body: enough to classify it, never a whole (possibly huge) page."""
    data = b""
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) >= limit:
            break
    return data[:limit].decode("utf-8", "replace")


def _redact(url: str) -> str:
    """A download URL without its query string: pre-signed signatures must not reach logs or messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


# --- reading the joined file -------------------------------------------------------------------------------


def sample_csv(path: Path, width: int) -> list[list[str]]:
    """The first SAMPLE_ROWS data records, for type inference (quoted line breaks stay inside their record).
    A blank line is a record only in a one-column file, where it is a null (DuckDB reads it the same way)."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            next(reader)
            return list(islice((row for row in reader if row or width == 1), SAMPLE_ROWS))
    except UnicodeDecodeError:
        raise ResultFormatError("The result is not UTF-8 text.")
    except csv.Error as exc:
        raise ResultFormatError(f"The result is not valid CSV: {exc}.")


def build_sidecar(csv_path: Path, parquet_path: Path, types: list[str]) -> tuple[int, list[str]]:
    """Write the Parquet copy of a result CSV (every cell as text) in one DuckDB COPY, which also counts the
    records and checks the encoding and the quoting; return the record count and the column types checked over
    every row (a sampled type is widened when a later value does not fit it)."""
    width = len(types)
    columns = {storage_column(i): "VARCHAR" for i in range(width)}
    con = duckdb_connect(threads=COPY_THREADS)  # at connect time: a later SET keeps the first pool's memory
    try:
        rows = con.execute(
            f"COPY (SELECT * FROM read_csv({_literal(csv_path)}, header = true, columns = $columns,"
            " auto_detect = false, delim = ',', quote = '\"', escape = '\"', strict_mode = true,"
            f" buffer_size = {COPY_BUFFER_BYTES}))"
            f" TO {_literal(parquet_path)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {COPY_ROW_GROUP})",
            {"columns": columns},
        ).fetchone()[0]
        con.execute("RESET threads")  # the check holds no rows: it may use every core
        return rows, checked_types(con, parquet_path, types)
    except duckdb.Error as exc:
        raise ResultFormatError(f"The result is not valid CSV: {str(exc).splitlines()[0]}")
    finally:
        con.close()


def _literal(path: Path) -> str:
    """A path as a SQL string literal (COPY … TO cannot take a parameter)."""
    return "'" + str(path).replace("'", "''") + "'"


# --- saving ------------------------------------------------------------------------------------------------


def _save(execution: Execution, fetched: FetchedResult, started: float) -> ExecutionResult:
    storage = ExecutionResult._meta.get_field("file").storage
    draft = ExecutionResult(execution=execution)
    with open(fetched.csv_path, "rb") as handle:
        draft.file.save("result.csv", File(handle), save=False)  # upload_to decides the real name
    new_names = [draft.file.name, sidecar_name(draft.file.name)]
    try:
        if storage.exists(new_names[1]):  # left by a crash: the fresh CSV name proves nobody uses it
            storage.delete(new_names[1])
        with open(fetched.parquet_path, "rb") as handle:
            saved = storage.save(new_names[1], File(handle))
        if saved != new_names[1]:
            raise ResultError(f"Storage saved the result's Parquet copy as {saved} instead of {new_names[1]}.")
        with transaction.atomic():
            Execution.objects.select_for_update().get(pk=execution.pk)  # one replacement at a time
            result = ExecutionResult.objects.filter(execution=execution).first() or draft
            old_names = [result.file.name, sidecar_name(result.file.name)] if result.pk else []
            result.file.name = draft.file.name
            result.columns = fetched.columns
            result.row_count = fetched.row_count
            result.size_bytes = fetched.csv_path.stat().st_size
            result.source_files = fetched.source_files
            result.fetched_at = timezone.now()
            result.fetch_seconds = round(time.monotonic() - started, 3)
            result.save()
            stale = [name for name in old_names if name not in new_names]
            transaction.on_commit(lambda: _delete_files(storage, stale))
    except BaseException:
        _delete_files(storage, new_names)
        raise
    return result


def _delete_files(storage, names: list[str]) -> None:
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            log.warning("could not delete result file %s", name)
