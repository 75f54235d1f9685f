"""What travels on the wire: URL paths, request bodies, and decoding AMC's JSON answers (no Django imports)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from .errors import AMCResponseError
from .records import TimeWindow


def url_path(*segments: str) -> str:
    for segment in segments:
        if not isinstance(segment, str) or not segment:
            raise ValueError(f"Empty or non-text id in AMC path: {segment!r}")
    # Quote every segment so an id can never add path levels or a query string.
    return "/" + "/".join(quote(segment, safe="") for segment in segments)


def decode_json(response: httpx.Response, method: str, path: str) -> dict[str, Any]:
    if not response.content.strip():
        return {}  # AMC answers some writes with an empty body
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AMCResponseError(
            f"AMC sent a response that is not JSON ({response.status_code}, {method} {path}).",
            status_code=response.status_code,
            details=response.text[:500],
        ) from None
    if not isinstance(body, dict):
        raise AMCResponseError(
            f"AMC sent a JSON {type(body).__name__} where an object was expected ({method} {path}).",
            status_code=response.status_code,
            details=body,
        )
    return body


def workflow_body(
    workflow_id: str | None,
    sql_query: str,
    input_parameters: Iterable[Mapping[str, Any]] | None,
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    body = dict(extra or {})
    if workflow_id is not None:
        body["workflowId"] = workflow_id
    body["sqlQuery"] = sql_query
    if input_parameters is not None:
        body["inputParameters"] = [dict(parameter) for parameter in input_parameters]
    return body


def execution_body(
    source: dict[str, Any],
    window: TimeWindow | None,
    parameter_values: Mapping[str, Any] | None,
    dry_run: bool,
    timeout_seconds: int | None,
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    body = dict(extra or {})
    body.update(source)
    if window is not None:
        body.update(window.to_body())
    if parameter_values is not None:
        body["parameterValues"] = dict(parameter_values)
    if dry_run:
        body["dryRun"] = True
    if timeout_seconds is not None:
        body["workflowExecutionTimeoutSeconds"] = timeout_seconds
    return body
