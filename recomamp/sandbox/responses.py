"""JSON answers in AMC's shapes, and the exception views raise to produce an error answer."""

import json
import uuid
from typing import Any

from django.http import HttpRequest, JsonResponse


class ApiError(Exception):
    """An AMC error answer: `{"code": "<status>", "details": "..."}` (or `{message, requestId}` for accounts)."""

    def __init__(self, status: int, details: str, *, headers: dict[str, str] | None = None):
        super().__init__(details)
        self.status = status
        self.details = details
        self.headers = headers or {}


def amc_json(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"separators": (",", ":")})


def error_response(error: ApiError, *, message_shape: bool = False) -> JsonResponse:
    """`message_shape` gives the `{message, requestId}` body that `GET /amc/accounts` uses for errors."""
    if message_shape:
        body = {"message": error.details, "requestId": str(uuid.uuid4())}
    else:
        body = {"code": str(error.status), "details": error.details}
    response = amc_json(body, status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def read_json_body(request: HttpRequest) -> dict[str, Any]:
    """The request body as a JSON object, whatever the (AMC vendor or plain JSON) content type says."""
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "The request body is not valid JSON.")
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return body


def as_bool(value: Any, name: str) -> bool:
    """AWS's own AMC clients send booleans as strings ("True"), and AMC accepts them."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ApiError(400, f"{name} must be a boolean.")


def as_int(value: Any, name: str) -> int:
    """Integers may arrive as strings ("86400") from real clients."""
    if isinstance(value, bool):
        raise ApiError(400, f"{name} must be an integer.")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdecimal() and len(value.strip()) <= 20:
        return int(value.strip())
    raise ApiError(400, f"{name} must be an integer.")
