"""Typed errors for AMC API calls, and the mapping from an HTTP response to one of them.

Every error's text (``str(error)`` == ``error.message``) is a sentence an analyst can act on; the raw server
text stays in ``details``. ``transient`` says whether trying again later can help.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

_MAX_TEXT = 500  # keep HTML error pages and other junk from flooding messages and logs


class AMCError(Exception):
    """Base class: any failure talking to AMC."""

    transient = False

    def __init__(
        self,
        message: str,
        status_code: int | None = None,
        code: str | None = None,
        details: Any = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.details = details
        self.request_id = request_id

    def __str__(self) -> str:
        return self.message


class AMCAuthError(AMCError):
    """401: the access token was missing, expired or revoked (raised after one refresh was tried)."""


class AMCForbiddenError(AMCError):
    """403: the login has no access to this account/instance, or the entity/marketplace ids do not match."""


class AMCNotFoundError(AMCError):
    """404, or a 400 saying the workflow/execution does not exist."""


class AMCValidationError(AMCError):
    """400: AMC rejected the request, typically a query that does not compile.

    When AMC names a position (``From line L, column C to line L2, column C2: ...``) it is parsed into
    ``line``, ``column``, ``end_line`` and ``end_column``; ``compile_message`` is the bare compiler text.
    """

    def __init__(
        self,
        message: str,
        status_code: int | None = None,
        code: str | None = None,
        details: Any = None,
        request_id: str | None = None,
        *,
        compile_message: str | None = None,
        line: int | None = None,
        column: int | None = None,
        end_line: int | None = None,
        end_column: int | None = None,
    ) -> None:
        super().__init__(message, status_code, code, details, request_id)
        self.compile_message = compile_message
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column


class AMCThrottledError(AMCError):
    """429: too many requests; ``retry_after`` is the server's requested wait in seconds, if it gave one."""

    transient = True

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


class AMCQuotaError(AMCError):
    """422: a limit or quota was reached (e.g. too many executions)."""


class AMCServerError(AMCError):
    """5xx: AMC (or the gateway in front of it) failed."""

    transient = True


class AMCTimeoutError(AMCError):
    """AMC did not answer in time."""

    transient = True


class AMCConnectionError(AMCError):
    """The connection to AMC could not be made or broke off."""

    transient = True


class AMCResponseError(AMCError):
    """AMC answered with something we cannot read: not JSON, or not the shape the operation returns."""


# Calcite reports a range ("From line 6, column 12 to line 6, column 17: ...") or a point ("At line ...").
_LOCATION = re.compile(
    r"(?:From|At) line (?P<line>\d+), column (?P<column>\d+)"
    r"(?: to line (?P<end_line>\d+), column (?P<end_column>\d+))?:\s*(?P<message>.*)",
    re.IGNORECASE | re.DOTALL,
)
_COMPILE_PREAMBLE = re.compile(
    r"Was unable to compile workflow .*? because it was found to be invalid:\s*", re.IGNORECASE
)
_NOT_FOUND_TEXT = "does not exist"


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date); None if absent/unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def error_from_response(response: httpx.Response) -> AMCError:
    """Build the typed error for a failed (non-2xx) AMC response."""
    status = response.status_code
    body = _json_or_none(response)
    text = _server_text(body) or _clip(response.text) or response.reason_phrase
    common: dict[str, Any] = {
        "status_code": status,
        "code": _body_code(body),
        "details": body if body is not None else _clip(response.text),
        "request_id": _request_id(response, body),
    }

    if status == 401:
        return AMCAuthError(
            f"AMC rejected the access token (401). The Amazon connection may need to be renewed. AMC said: {text}",
            **common,
        )
    if status == 403:
        return AMCForbiddenError(
            f"AMC refused access (403): this Amazon login cannot use the instance, or the advertiser "
            f"(entity) id or marketplace does not match it. AMC said: {text}",
            **common,
        )
    if status in (404, 410) or (status == 400 and _says_not_found(text)):
        return AMCNotFoundError(f"AMC could not find what was asked for ({status}): {text}", **common)
    if status == 400:
        return _validation_error(text, body, common)
    if status == 422:
        return AMCQuotaError(f"AMC refused the request because a limit or quota was reached (422): {text}", **common)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        wait = f"; it asks to wait {retry_after:g} seconds" if retry_after is not None else ""
        return AMCThrottledError(
            f"AMC is receiving too many requests (429){wait}. AMC said: {text}",
            retry_after=retry_after,
            **common,
        )
    if status >= 500:
        return AMCServerError(f"AMC had a server error ({status}); try again later. AMC said: {text}", **common)
    return AMCError(f"AMC refused the request ({status}): {text}", **common)


def _says_not_found(text: str) -> bool:
    # "Workflow with ID X does not exist." is a missing object; a compile error may use the same words.
    is_compile_error = _COMPILE_PREAMBLE.search(text) or _LOCATION.search(text)
    return _NOT_FOUND_TEXT in text.lower() and not is_compile_error


def _validation_error(text: str, body: Any, common: dict[str, Any]) -> AMCValidationError:
    position = _structured_position(body) or compile_position(text)
    if position is None:
        compile_text = _COMPILE_PREAMBLE.sub("", text)
        if compile_text != text:
            message = f"AMC could not compile the query: {compile_text}"
            return AMCValidationError(message, **common, compile_message=compile_text)
        return AMCValidationError(f"AMC rejected the request (400): {text}", **common)

    where = f"line {position['line']}, column {position['column']}"
    if position.get("end_line") is not None:
        where += f" to line {position['end_line']}, column {position['end_column']}"
    message = f"AMC could not compile the query ({where}): {position['message']}"
    return AMCValidationError(
        message,
        **common,
        compile_message=position["message"],
        line=position["line"],
        column=position["column"],
        end_line=position.get("end_line"),
        end_column=position.get("end_column"),
    )


def compile_position(text: str) -> dict[str, Any] | None:
    """The position in AMC's compile text ("From line L, column C to line L2, column C2: …"), or None."""
    match = _LOCATION.search(text)
    if match is None:
        return None
    return {
        "message": match["message"].strip(),
        "line": int(match["line"]),
        "column": int(match["column"]),
        "end_line": int(match["end_line"]) if match["end_line"] else None,
        "end_column": int(match["end_column"]) if match["end_column"] else None,
    }


def _structured_position(body: Any) -> dict[str, Any] | None:
    """Read a position from structured details, e.g. ``{"details": [{"message", "line", "column"}]}``."""
    if not isinstance(body, dict):
        return None
    details = body.get("details", body.get("errors"))
    if isinstance(details, list):
        details = next((item for item in details if isinstance(item, dict)), None)
    if not isinstance(details, dict):
        return None
    line = _int_field(details, "line", "lineNumber", "startLine")
    column = _int_field(details, "column", "columnNumber", "startColumn")
    message = _first_text(details, "message", "details", "description")
    if message and (line is None or column is None):
        return compile_position(message)
    if line is None or column is None:
        return None
    return {
        "message": message or "invalid query",
        "line": line,
        "column": column,
        "end_line": _int_field(details, "endLine", "end_line"),
        "end_column": _int_field(details, "endColumn", "end_column"),
    }


def _int_field(data: dict[str, Any], *names: str) -> int | None:
    for name in names:
        value = data.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None


def _first_text(data: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _server_text(body: Any) -> str | None:
    """The human text of an AMC error body: ``details``, then ``message``, then ``statusReason``."""
    if not isinstance(body, dict):
        return None
    text = _first_text(body, "details", "message", "statusReason", "error_description")
    if text:
        return _clip(text)
    details = body.get("details", body.get("errors"))
    if isinstance(details, list):
        details = next((item for item in details if isinstance(item, dict)), None)
    if isinstance(details, dict):
        text = _first_text(details, "message", "details", "description")
        return _clip(text) if text else None
    return None


def _body_code(body: Any) -> str | None:
    if isinstance(body, dict) and body.get("code") is not None:
        return str(body["code"])
    return None


def _request_id(response: httpx.Response, body: Any) -> str | None:
    for header in ("x-amzn-RequestId", "x-amz-request-id"):
        if response.headers.get(header):
            return response.headers[header]
    if isinstance(body, dict) and isinstance(body.get("requestId"), str):
        return body["requestId"]
    return None


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content) if response.content else None
    except ValueError:
        return None


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"
