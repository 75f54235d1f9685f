"""Result files of executions and the pre-signed links that serve them without an auth header.

Files live under `conf.results_root() / <instance id> / <execution id>/`: the CSV parts (each with a header
row; at most SANDBOX_ROWS_PER_FILE rows per part, and never more than AMC's 5 parts, which grow instead) and
a metadata JSON file. Links carry a signed token made with Django's TimestampSigner on the sandbox clock and
expire after SANDBOX_DOWNLOAD_URL_SECONDS (AMC: 10 minutes).
"""

import dataclasses
import json
import math
import shutil
from pathlib import Path

from django.core import signing
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotFound
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from . import conf
from .models import SandboxExecution

MAX_FILES = 5
METADATA_FILE = "metadata.json"
_SALT = "recomamp.sandbox.download"


class _ClockSigner(signing.TimestampSigner):
    """TimestampSigner whose clock is the sandbox's, so tests can expire links without waiting."""

    def timestamp(self) -> str:
        from . import clock

        return signing.b62_encode(int(clock.now().timestamp()))

    def unsign(self, value: str, max_age: float | None = None) -> str:
        from . import clock

        result = signing.Signer.unsign(self, value)
        value, timestamp = result.rsplit(self.sep, 1)
        age = clock.now().timestamp() - signing.b62_decode(timestamp)
        if max_age is not None and age > max_age:
            raise signing.SignatureExpired(f"Signature age {age} > {max_age} seconds")
        return value


def _signer() -> _ClockSigner:
    return _ClockSigner(salt=_SALT)


def results_dir(execution: SandboxExecution) -> Path:
    return conf.results_root() / execution.instance.instance_id / str(execution.execution_id)


def write_results(execution: SandboxExecution, result) -> list[str]:
    """Write the CSV parts and the metadata file; return the part file names in order."""
    from .engine import to_csv

    folder = results_dir(execution)
    folder.mkdir(parents=True, exist_ok=True)
    rows = result.rows
    per_file = max(1, conf.get("SANDBOX_ROWS_PER_FILE"), math.ceil(len(rows) / MAX_FILES))
    chunks = [rows[i : i + per_file] for i in range(0, len(rows), per_file)] or [[]]
    stem = f"{execution.created_at:%Y-%m-%d}-{execution.workflow_id}"
    names = []
    for number, chunk in enumerate(chunks, start=1):
        name = f"{stem}-ver1-part{number:05d}.csv"
        with open(folder / name, "w", newline="", encoding="utf-8") as handle:
            to_csv(dataclasses.replace(result, rows=chunk), handle)
        names.append(name)
    metadata = {
        "workflowExecutionId": str(execution.execution_id),
        "workflowId": execution.workflow_id,
        "columns": [{"name": n, "dataType": t} for n, t in zip(result.columns, result.column_types, strict=True)],
        "rowCount": len(rows),
        "filteredRowCount": result.filtered_count,
        "files": names,
    }
    (folder / METADATA_FILE).write_text(json.dumps(metadata, indent=2))
    return names


def delete_results(execution: SandboxExecution) -> None:
    shutil.rmtree(results_dir(execution), ignore_errors=True)


def signed_urls(request: HttpRequest, execution: SandboxExecution) -> tuple[list[str], list[str]]:
    """Absolute links to the result parts and to the metadata file."""
    data = [_url(request, execution, name) for name in execution.result_files]
    return data, [_url(request, execution, METADATA_FILE)]


def _url(request: HttpRequest, execution: SandboxExecution, name: str) -> str:
    token = _signer().sign_object({"i": execution.instance.instance_id, "e": str(execution.execution_id), "f": name})
    return request.build_absolute_uri(reverse("sandbox:download", args=[token, name]))


def open_download(token: str, name: str) -> HttpResponse:
    """The file a link points to; like S3, 403 for a bad or expired link and 404 when the file is gone."""
    try:
        payload = _signer().unsign_object(token, max_age=conf.get("SANDBOX_DOWNLOAD_URL_SECONDS"))
    except signing.SignatureExpired:
        return HttpResponseForbidden("Request has expired", content_type="text/plain")
    except signing.BadSignature:
        return HttpResponseForbidden("Access denied", content_type="text/plain")
    if not constant_time_compare(payload.get("f", ""), name):
        return HttpResponseForbidden("Access denied", content_type="text/plain")
    path = conf.results_root() / payload["i"] / payload["e"] / name
    if not path.is_file():
        return HttpResponseNotFound("The specified key does not exist.", content_type="text/plain")
    content_type = "application/json" if name == METADATA_FILE else "text/csv; charset=utf-8"
    return FileResponse(open(path, "rb"), content_type=content_type, as_attachment=True, filename=name)
